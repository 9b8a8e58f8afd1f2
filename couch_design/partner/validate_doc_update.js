function (newDoc, oldDoc, userCtx, secObj) {
  // A partner's own copy (partner_<id> on the central server): who may write here. What the
  // partner may change is decided at the centre (oms lib/validate_partner) when the change
  // arrives by replication; this copy accepts the partner's edits of its own documents, so a
  // change the centre refuses is recorded and shown to the partner instead of vanishing.
  // Compiled per partner by replication/design.py (lib/partner_config names the partner).
  var partner = require('lib/partner_config').id;
  var rules = require('lib/replication_rules').partners;
  var revisions = require('lib/revisions');
  userCtx = require('lib/desk').local(userCtx);  // the writer as the desk knows them
  var roles = userCtx.roles || [], who = userCtx.name;
  function _err(msg) { throw({forbidden: msg}); }
  function has(role) { return roles.indexOf(role) !== -1; }

  // The centre: server admins and this partner's replicator identity write what the centre holds.
  if (has('_admin') || (has(rules.replicator_role) && has(rules.partner_role_prefix + partner))) return;
  if (!has(rules.partner_role_prefix + partner)) _err('Only ' + partner + '\'s people may write here.');
  var level = null;
  for (var i = 0; i < roles.length; i++) {
    if (roles[i].indexOf(rules.level_role_prefix) === 0) level = roles[i].slice(rules.level_role_prefix.length);
  }
  function may(what) { return rules.may[what].indexOf(level) !== -1; }
  function as() { return 'As ' + (rules.level_titles[level] || 'a partner without a level') + ' you may not '; }
  function person(name) { return new RegExp(rules.person_pattern.replace('{PARTNER}', partner)).test(name || ''); }

  if (newDoc._deleted) _err('Nothing is deleted here; cancel an order instead.');
  var type = newDoc.type;
  if (type === 'counter') {
    if (newDoc._id !== 'counter:order' || !may('place_order')) _err(as() + 'number orders.');
    if (typeof newDoc.value !== 'number' || newDoc.value % 1 !== 0) _err('A counter value is a whole number.');
    if (oldDoc && newDoc.value <= oldDoc.value) _err('A counter only moves forward (from ' + oldDoc.value + ').');
    return;
  }
  if (newDoc.partner !== partner) _err('Every document here carries partner: "' + partner + '".');
  if (type === 'order') {
    var h = newDoc.history || [], last = h[h.length - 1];
    if (!oldDoc) {
      if (!may('place_order')) _err(as() + 'place orders.');
      if (newDoc.created_by !== who) _err('created_by must be you (' + who + ').');
      var prefix = rules.number_prefix.replace('{PARTNER}', partner.toUpperCase());
      if (typeof newDoc.number !== 'string' || newDoc.number.indexOf(prefix) !== 0) _err('Orders placed here are numbered ' + prefix + '000001 and up.');
      if (newDoc._id !== 'order:' + newDoc.number) _err('_id must be "order:" + number.');
    } else {
      if (!may('edit_order')) _err(as() + 'change orders.');
      var oldH = oldDoc.history || [], steps = revisions.steps(newDoc, oldDoc);
      if (h.length !== oldH.length + steps) _err('Each change appends one history entry.');
      for (var k = oldH.length; k < h.length - 1; k++) {
        if (!person(h[k].by)) _err('Each change must name one of ' + partner + '\'s people.');
      }
    }
    if (!last || last.by !== who || newDoc.updated_by !== who) _err('The new history entry and updated_by must name you (' + who + ').');
    return;
  }
  if (type === 'idem') {
    // The record of an Idempotency-Key of the partner API (oms/store/idempotency.py): a person's own,
    // completed once with the answer; it stays in this copy (filters/to_centre.js sends none).
    if (newDoc.by !== who || (oldDoc && (oldDoc.by !== who || oldDoc.fingerprint !== newDoc.fingerprint))) {
      _err('An Idempotency-Key record is your own and keeps its request (by must be you, ' + who + ').');
    }
    return;
  }
  if (type === 'comment' || type === 'receipt') {
    if (oldDoc) _err('A ' + type + ' cannot be changed once sent; send another.');
    if (!may(type === 'comment' ? 'comment' : 'accept_shipment')) _err(as() + (type === 'comment' ? 'comment.' : 'accept shipments.'));
    if (newDoc.by !== who) _err('by must be you (' + who + ').');
    return;
  }
  _err('Here you may write orders, comments and receipts, not ' + JSON.stringify(type) + '.');
}
