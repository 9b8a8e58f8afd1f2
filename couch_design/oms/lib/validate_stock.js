// Stock documents stock:<SKU>:<WAREHOUSE> {sku, warehouse, on_hand, reserved, holds}.
// The last word against overselling: every claim is a write of this document with its _rev
// (a stale one loses with 409), and no write may leave reserved above on_hand or below 0.
// holds names who holds the reserved units ("SO-000123/1": 5 = order line 1 holds 5), so the
// numbers can be checked: reserved is exactly the sum of the holds.
var access = require('lib/access');
var schema = require('lib/schema');
// A hold names a line of any order the system numbers (central, a partner's, a branch's): the
// order number's pattern from the rulebook, then "/<line>".
var number = require('lib/schema_rules').order.number;
var HOLD = new RegExp(number.pattern.replace(/\$$/, '') + '\\/[0-9]+$');

exports.validate = function (newDoc, oldDoc, userCtx, _err) {
  var problem = schema.check(newDoc, 'stock');
  if (problem) _err('Invalid stock: ' + problem + '.');
  var id = 'stock:' + newDoc.sku + ':' + newDoc.warehouse;
  if (newDoc._id !== id) _err('Invalid stock: _id must be "stock:" + sku + ":" + warehouse = ' + JSON.stringify(id) + '.');
  if (oldDoc && (oldDoc.sku !== newDoc.sku || oldDoc.warehouse !== newDoc.warehouse)) {
    _err('The SKU and warehouse of a stock document never change.');
  }
  var holds = newDoc.holds, sum = 0, key;
  if (Array.isArray(holds)) _err('Invalid stock: holds must be an object like {"SO-000123/1": 5}.');
  for (key in holds) {
    if (!holds.hasOwnProperty(key)) continue;
    if (!HOLD.test(key)) _err('Invalid stock: hold ' + JSON.stringify(key) + ' must name an order line like "' + number.example + '/1".');
    var q = holds[key];
    if (typeof q !== 'number' || q % 1 !== 0 || q < 1) _err('Invalid stock: hold ' + key + ' must be a whole number from 1, not ' + JSON.stringify(q) + '.');
    sum += q;
  }
  if (newDoc.reserved !== sum) _err('Invalid stock: reserved must be the sum of the holds = ' + sum + ', not ' + newDoc.reserved + '.');
  if (newDoc.reserved > newDoc.on_hand) {
    _err('Not enough stock of ' + newDoc.sku + ' at ' + newDoc.warehouse + ': reserving ' + newDoc.reserved +
         ' of ' + newDoc.on_hand + ' on hand would oversell.');
  }
  if (access.isAdmin(userCtx)) return;
  var level = access.level(userCtx), roles = userCtx.roles || [];
  var manager = level >= access.levelIndex('manager');
  if (!manager && (level < access.levelIndex('editor') || roles.indexOf('[Warehouse]') === -1)) {
    _err('Only the [Warehouse] role (Editor or above) or a Manager may change stock.');
  }
};
