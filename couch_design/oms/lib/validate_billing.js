// Invoices invoice:<number>, credit notes credit_note:<number> and payments payment:<id>
// (rules/billing.json). All are records of what was billed, credited and received: written once
// and never changed or deleted, by any writer, a server admin included (a correction to an invoice
// is a credit note, a wrong payment is reversed by another). Issued by the [Billing] role at
// Editor or above, or a Manager, as themselves.
var access = require('lib/access');
var schema = require('lib/schema');
var pricing = require('lib/pricing');
var billing = require('lib/billing_rules');

var TYPES = {invoice: 'an invoice', credit_note: 'a credit note', payment: 'a payment'};

exports.handles = function (type) {
  return typeof type === 'string' && TYPES.hasOwnProperty(type);
};

exports.mayIssue = function (userCtx) {
  if (access.isAdmin(userCtx)) return true;
  var level = access.level(userCtx), roles = userCtx.roles || [];
  if (level >= access.levelIndex('manager')) return true;
  for (var i = 0; i < billing.issue_roles.length; i++) {
    if (roles.indexOf(billing.issue_roles[i]) !== -1 && level >= access.levelIndex(billing.issue_min_level)) return true;
  }
  return false;
};

// The ids invoices and payments are kept under, whatever type a write claims.
exports.owns = function (id) {
  return typeof id === 'string' && exports.handles(id.split(':')[0]) && id.indexOf(':') !== -1;
};

var TITLE = {invoice: 'An issued invoice', credit_note: 'An issued credit note', payment: 'A recorded payment'};
var AFTER = {invoice: 'issue a credit note instead', credit_note: 'issue another document instead',
             payment: 'record a reversal instead'};

// Called for every write of a document that is or was an invoice or a payment, deletions too.
exports.validate = function (newDoc, oldDoc, userCtx, _err) {
  var type = (oldDoc && exports.handles(oldDoc.type)) ? oldDoc.type : newDoc._id.split(':')[0];
  if (!exports.handles(type)) type = newDoc.type;
  if (oldDoc) _err(TITLE[type] + ' never changes and is never deleted; ' + AFTER[type] + '.');
  if (newDoc._deleted) _err('There is nothing to delete.');
  if (newDoc.type !== type) _err('Only ' + TYPES[type] + ' is kept under "' + type + ':", not a ' + JSON.stringify(newDoc.type === undefined ? null : newDoc.type) + '.');
  var problem = schema.check(newDoc, type) || (type === 'payment' ? allocations(newDoc) : sums(newDoc, type));
  if (problem) _err('Invalid ' + type.replace('_', ' ') + ': ' + problem + '.');
  if (access.isAdmin(userCtx)) return;
  if (!exports.mayIssue(userCtx)) {
    _err('Only the ' + billing.issue_roles.join(' or ') + ' role (' + access.levelTitle(access.levelIndex(billing.issue_min_level)) +
         ' or above) or a Manager may ' + (type === 'payment' ? 'record payments.' : 'issue invoices and credit notes.'));
  }
  var by = type === 'payment' ? 'recorded_by' : 'issued_by';
  if (newDoc[by] !== userCtx.name) _err(by + ' must be you (' + userCtx.name + ').');
};

// An invoice's (or a credit note's) lines and totals add up, and its tax follows the rulebook for
// its ship-to country.
function sums(doc, type) {
  if (doc._id !== type + ':' + doc.number) return '_id must be "' + type + ':" + number = ' + JSON.stringify(type + ':' + doc.number);
  return schema.checkLineSums(doc) || pricing.orderTaxProblem(doc);
}

// A payment is given out to invoices, never more than it is.
function allocations(doc) {
  if (doc._id.indexOf('payment:') !== 0) return '_id must start with "payment:"';
  if (!billing.payment_methods.hasOwnProperty(doc.method)) return 'method must be one of ' + Object.keys(billing.payment_methods).join(', ');
  var sum = 0, seen = {};
  for (var i = 0; i < doc.allocations.length; i++) {
    var a = doc.allocations[i];
    if (seen[a.invoice]) return 'allocations name ' + a.invoice + ' twice';
    seen[a.invoice] = true;
    sum += a.amount_cents;
  }
  if (sum > doc.amount_cents) return 'allocations add up to ' + sum + ', more than the payment\'s amount_cents ' + doc.amount_cents;
  return null;
}

// An order's returns take back no more of a line than reached the customer: what shipped (its
// shipped_qty) and what was sent again as a replacement, less nothing else; the return's reason
// and outcome are the rulebook's. Returns are never dropped from the order.
exports.returnsProblem = function (doc, oldDoc) {
  var returns = doc.returns || [], sent = {}, back = {}, i, k;
  for (i = 0; i < doc.lines.length; i++) sent[doc.lines[i].line] = doc.lines[i].shipped_qty || 0;
  var shipped = doc.shipped || [];
  for (i = 0; i < shipped.length; i++) {
    if (!shipped[i].replacement) continue;
    for (k = 0; k < shipped[i].lines.length; k++) sent[shipped[i].lines[k].line] = (sent[shipped[i].lines[k].line] || 0) + shipped[i].lines[k].qty;
  }
  for (i = 0; i < returns.length; i++) {
    for (k = 0; k < returns[i].lines.length; k++) {
      var l = returns[i].lines[k];
      if (!billing.return_reasons.hasOwnProperty(l.reason)) return 'returns[' + i + '].lines[' + k + '].reason must be one of ' + Object.keys(billing.return_reasons).join(', ');
      back[l.line] = (back[l.line] || 0) + l.qty;
      if (!sent.hasOwnProperty(l.line)) return 'returns[' + i + '] names line ' + l.line + ', which the order does not have';
      if (back[l.line] > sent[l.line]) return 'returns take back ' + back[l.line] + ' of line ' + l.line + ', more than the ' + sent[l.line] + ' sent';
    }
  }
  var before = (oldDoc && oldDoc.returns) || [];
  if (returns.length < before.length) return 'returns are never removed from an order';
  for (i = 0; i < before.length; i++) {
    if (returns[i].number !== before[i].number || JSON.stringify(returns[i].lines) !== JSON.stringify(before[i].lines)) {
      return 'a return keeps its number and lines (returns[' + i + '])';
    }
  }
  return null;
};
