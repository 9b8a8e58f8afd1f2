// Customer profiles customer:<external id> (the CRM link): shape from rules/schema.json, and
// who may write them: the Credit role (credit limits are theirs) at Editor or above, a Manager,
// or the system identity syncing the CRM feed (it carries [Credit]).
var access = require('lib/access');
var schema = require('lib/schema');
var CUSTOMER_ID = new RegExp(require('lib/schema_rules').order['customer.id'].pattern);   // the rulebook's

exports.validate = function (newDoc, oldDoc, userCtx, _err) {
  var problem = schema.check(newDoc, 'customer');
  if (problem) _err('Invalid customer: ' + problem + '.');
  if (!CUSTOMER_ID.test(newDoc._id)) {
    _err('Invalid customer: _id must be "customer:" + the CRM id, like "customer:C0001".');
  }
  if (access.isAdmin(userCtx)) return;
  var level = access.level(userCtx), roles = userCtx.roles || [];
  var manager = level >= access.levelIndex('manager');
  if (!manager && (level < access.levelIndex('editor') || roles.indexOf('[Credit]') === -1)) {
    _err('Only the [Credit] role (Editor or above) or a Manager may change customer profiles.');
  }
};
