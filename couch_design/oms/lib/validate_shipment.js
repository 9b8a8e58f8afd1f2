// Shipments shipment:<uuid>: a record of what left which warehouse for which order. Written once
// by the [Shipping] role as themselves; never edited (ship a correction as another document).
var access = require('lib/access');
var schema = require('lib/schema');

exports.validate = function (newDoc, oldDoc, userCtx, _err) {
  var admin = access.isAdmin(userCtx);
  if (oldDoc && !admin) _err('A shipment is a record of what left; it never changes. Record another shipment instead.');
  var problem = schema.check(newDoc, 'shipment');
  if (problem) _err('Invalid shipment: ' + problem + '.');
  if (newDoc._id.indexOf('shipment:') !== 0) _err('Invalid shipment: _id must start with "shipment:".');
  if (admin) return;
  var level = access.level(userCtx), roles = userCtx.roles || [];
  var manager = level >= access.levelIndex('manager');
  if (!manager && (level < access.levelIndex('editor') || roles.indexOf('[Shipping]') === -1)) {
    _err('Only the [Shipping] role (Editor or above) or a Manager may record shipments.');
  }
  if (newDoc.shipped_by !== userCtx.name) _err('shipped_by must be you (' + userCtx.name + ').');
};
