// Products product:<SKU> and price lists pricelist:<id>: shape from rules/schema.json, and who
// writes them: the [Catalog] role at Editor or above, or a Manager (prices are what the desk
// charges, so a salesperson's own level never reaches them).
var access = require('lib/access');
var schema = require('lib/schema');

exports.handles = function (type) {
  return type === 'product' || type === 'pricelist';
};

exports.validate = function (newDoc, oldDoc, userCtx, _err) {
  var type = newDoc.type;
  var title = type === 'product' ? 'product' : 'price list';
  var problem = schema.check(newDoc, type);
  if (problem) _err('Invalid ' + title + ': ' + problem + '.');
  if (type === 'product' && newDoc._id !== 'product:' + newDoc.sku) {
    _err('Invalid product: _id must be "product:" + sku = ' + JSON.stringify('product:' + newDoc.sku) + '.');
  }
  if (oldDoc && oldDoc.type !== type) _err('A ' + oldDoc.type + ' cannot become a ' + title + '.');
  if (access.isAdmin(userCtx)) return;
  var level = access.level(userCtx), roles = userCtx.roles || [];
  var manager = level >= access.levelIndex('manager');
  if (!manager && (level < access.levelIndex('editor') || roles.indexOf('[Catalog]') === -1)) {
    _err('Only the [Catalog] role (Editor or above) or a Manager may change products and price lists.');
  }
};
