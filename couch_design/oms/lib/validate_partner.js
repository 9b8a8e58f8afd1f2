// What a partner may change, decided when the change arrives at the centre. A partner never
// writes here itself: its changes come through the pull replication, which writes as the
// partner's replicator identity (roles "oms-replicator" and "partner:<id>"). The partner's own
// copy accepted the change; this module has the last word, and a refusal is counted in the
// replication's doc_write_failures, recorded by the centre's agent and shown to the partner.
// Rules: rules/replication.json "partners" (embedded as lib/replication_rules).
var rules = require('lib/replication_rules').partners;
var schema = require('lib/schema');
var workflow = require('lib/workflow');
var revisions = require('lib/revisions');

function roleAfter(userCtx, prefix) {
  var roles = userCtx.roles || [];
  for (var i = 0; i < roles.length; i++) {
    if (roles[i].indexOf(prefix) === 0) return roles[i].slice(prefix.length);
  }
  return null;
}

exports.partnerOf = function (userCtx) {
  return roleAfter(userCtx, rules.partner_role_prefix);
};

exports.isReplicator = function (userCtx) {
  return (userCtx.roles || []).indexOf(rules.replicator_role) !== -1;
};

exports.numberPrefix = function (partner) {
  return rules.number_prefix.replace('{PARTNER}', partner.toUpperCase());
};

// People of partner P are named "someone@P" (rules: person_pattern).
exports.isPersonOf = function (name, partner) {
  return typeof name === 'string' && new RegExp(rules.person_pattern.replace('{PARTNER}', partner)).test(name);
};

function title(status) {
  var s = workflow.rules.states[status];
  return s ? s.title : status;
}

// Called first by validate_doc_update for every write. Returns true when the write came from a
// partner and has been decided here; false lets the staff rules decide.
exports.validate = function (newDoc, oldDoc, userCtx, _err) {
  var partner = exports.partnerOf(userCtx);
  if (!partner) {
    guardNumberSpace(newDoc, oldDoc, userCtx, _err);
    return false;
  }
  if (!exports.isReplicator(userCtx)) {
    _err('Partner people work in their own database (' + rules.database_prefix + partner + '), never in the central one.');
  }
  // The centre's agent restores a refused change in the partner's copy by writing back the
  // revision the centre holds: it arrives here as a write that changes nothing.
  if (oldDoc && !newDoc._deleted && revisions.sameBody(newDoc, oldDoc)) return true;
  if (newDoc._deleted) _err('Partner ' + partner + ' may not delete documents; cancel the order instead.');
  if (newDoc.partner !== partner) {
    _err('A document from partner ' + partner + ' must carry partner: "' + partner + '", not ' + JSON.stringify(newDoc.partner) + '.');
  }
  if (oldDoc && oldDoc.partner !== partner) _err('This document does not belong to partner ' + partner + '.');
  var type = newDoc.type;
  if (rules.sends.indexOf(type) === -1) {
    _err('Partner ' + partner + ' may send ' + rules.sends.join(', ') + ', not ' + JSON.stringify(type) + '.');
  }
  if (type === 'order') validateOrder(newDoc, oldDoc, partner, _err);
  else validateResponse(newDoc, oldDoc, partner, _err);
  return true;
};

// Order numbers with a partner infix (SO-ACME-000001) are given by that partner's database;
// nobody else may create one, so a partner's order never collides with anybody else's.
function guardNumberSpace(newDoc, oldDoc, userCtx, _err) {
  if (oldDoc || newDoc._deleted || newDoc.type !== 'order' || typeof newDoc.number !== 'string') return;
  if ((userCtx.roles || []).indexOf('_admin') !== -1) return;
  if (/^SO-[A-Z]/.test(newDoc.number)) {
    _err('Numbers like ' + newDoc.number + ' belong to a partner\'s orders; take the next number from the centre (SO-000123).');
  }
}

function validateOrder(newDoc, oldDoc, partner, _err) {
  var person = function (name) { return exports.isPersonOf(name, partner); };
  var problem = schema.check(newDoc, 'order') || schema.checkOrderSums(newDoc);
  if (problem) _err('Invalid order: ' + problem + '.');
  var prefix = exports.numberPrefix(partner);
  if (newDoc.number.indexOf(prefix) !== 0 && !oldDoc) {
    _err('A new order from partner ' + partner + ' is numbered ' + prefix + '000001 and up, not ' + newDoc.number + '.');
  }
  var history = newDoc.history, i, status, allowed = [];
  var steps = revisions.steps(newDoc, oldDoc);
  if (!oldDoc) {
    // First seen here: it may bring several revisions (placed, then changed before the pull ran).
    if (!person(newDoc.created_by)) {
      _err('created_by must name one of ' + partner + '\'s people (name@' + partner + '), not ' + JSON.stringify(newDoc.created_by) + '.');
    }
    if (newDoc.version !== 1) _err('A new order is version 1.');
    if (history.length < 1 || history.length > steps || history[0].action !== 'create' || history[0].by !== newDoc.created_by ||
        history[0].to !== rules.new_order_status) {
      _err('An order from a partner starts with one history entry: {action: "create", by: "' + newDoc.created_by +
           '", to: "' + rules.new_order_status + '"}; it is allocated at the centre.');
    }
    for (i = 0; i < rules.set_by_centre.length; i++) {
      if (newDoc[rules.set_by_centre[i]] !== undefined) _err('Only the centre sets ' + rules.set_by_centre[i] + '; leave it out of a new order.');
    }
    status = rules.new_order_status;
    checkEntries(history, 1, status, partner, _err);
    status = history[history.length - 1].to;
    if (status !== newDoc.status) _err('The last history entry must lead to "' + newDoc.status + '".');
    return;
  }

  // One entry per change; a revision the centre's agent set back carries none, hence "at most".
  var oldH = oldDoc.history || [], grew = history.length - oldH.length;
  if (grew < 1 || grew > steps || JSON.stringify(history.slice(0, oldH.length)) !== JSON.stringify(oldH)) {
    _err('History entries cannot be edited or removed; each change appends exactly one entry.');
  }
  allowed = checkEntries(history, oldH.length, oldDoc.status, partner, _err);
  status = history[history.length - 1].to;
  if (status !== newDoc.status) _err('The last history entry must lead to "' + newDoc.status + '".');
  if (!person(newDoc.updated_by)) _err('updated_by must name one of ' + partner + '\'s people.');
  allowed = allowed.concat(workflow.rules.always_writable, ['status']);
  var changed = workflow.changedFields(oldDoc, newDoc);
  for (i = 0; i < changed.length; i++) {
    if (allowed.indexOf(changed[i]) === -1) {
      var may = rules.editable[oldDoc.status] || [];
      _err('Partner ' + partner + ' may not change ' + changed[i] + ' of an order that is ' + title(oldDoc.status) +
           (may.length ? ' (only ' + may.join(', ') + ')' : '') + '; ask the centre to amend it.');
    }
  }
}

// The new history entries from index `from`: each by one of the partner's people, an edit of
// what the partner may change in that state or a transition the partner may take, in a chain
// starting at `status`. Returns the fields those entries allow to change.
function checkEntries(history, from, status, partner, _err) {
  var allowed = [];
  for (var i = from; i < history.length; i++) {
    var e = history[i];
    if (!exports.isPersonOf(e.by, partner)) _err('Each change must name one of ' + partner + '\'s people; ' + JSON.stringify(e.by) + ' is not.');
    if (e.from !== status) _err('History entry ' + (i + 1) + ' must read from "' + status + '", not ' + JSON.stringify(e.from) + '.');
    if (e.action === 'edit') {
      var editable = rules.editable[status] || [];
      if (!editable.length) _err('Partner ' + partner + ' may not change an order that is ' + title(status) + '; ask the centre.');
      if (e.to !== status) _err('A partner changes the status only by a workflow action, not "edit".');
      allowed = allowed.concat(editable);
    } else {
      var t = rules.transitions[e.action];
      if (!t) {
        _err('Partner ' + partner + ' may edit or ' + Object.keys(rules.transitions).join(', ') + ' an order, not "' + e.action + '".');
      }
      if (t.from.indexOf(status) === -1) {
        _err('A partner may take "' + e.action + '" only from ' + t.from.join(', ') + ', not from ' + title(status) + '.');
      }
      if (e.to !== t.to) _err('"' + e.action + '" leads to ' + t.to + ', not ' + e.to + '.');
      if (t.needs_reason && !e.reason) _err('"' + e.action + '" needs a reason.');
      allowed = allowed.concat(t.sets || []);
      status = t.to;
    }
  }
  return allowed;
}

// Comments and shipment receipts: new documents, sent once, by one of the partner's people.
function validateResponse(newDoc, oldDoc, partner, _err) {
  if (oldDoc) _err('A ' + newDoc.type + ' cannot be changed once sent; send another.');
  if (!exports.isPersonOf(newDoc.by, partner)) {
    _err('by must name one of ' + partner + '\'s people (name@' + partner + '), not ' + JSON.stringify(newDoc.by) + '.');
  }
  if (typeof newDoc.at !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}T/.test(newDoc.at)) _err('at must be a time like "2026-11-25T10:00:00Z".');
  if (newDoc.type === 'comment') {
    if (typeof newDoc.parent !== 'string' || newDoc.parent.indexOf('order:') !== 0) _err('A comment needs parent: the order id, e.g. "order:SO-000123".');
    if (typeof newDoc.text !== 'string' || !newDoc.text.length || newDoc.text.length > 4000) _err('A comment needs text (1 to 4000 characters).');
  } else {
    if (typeof newDoc.shipment !== 'string' || newDoc.shipment.indexOf('shipment:') !== 0) _err('A receipt names its shipment, e.g. "shipment:…".');
    if (typeof newDoc.order !== 'string' || newDoc.order.indexOf('order:') !== 0) _err('A receipt names its order, e.g. "order:SO-000123".');
    if (newDoc._id !== 'receipt:' + newDoc.shipment.slice('shipment:'.length)) _err('A receipt\'s id is "receipt:" + the shipment\'s id after "shipment:".');
  }
}
