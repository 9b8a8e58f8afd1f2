function (newDoc, oldDoc, userCtx, secObj) {
  // The ACL + workflow gate. Runs on every write: the web app, the API, a replication, curl.
  // Rules come from couch_design/rules (embedded as lib/*_rules); the same data drives Python.
  // The writer as the desk knows them (lib/desk): every rule below speaks the desk's names.
  userCtx = require('lib/desk').local(userCtx);
  var access = require('lib/access');
  var workflow = require('lib/workflow');
  var schema = require('lib/schema');
  var acl = require('lib/acl_rules');
  var partners = require('lib/validate_partner');
  var records = require('lib/records');  // the desk's own records: claims, tokens, events, agents' logs

  function _err(msg) { throw({forbidden: msg}); }

  var admin = access.isAdmin(userCtx);
  var level = access.level(userCtx);
  var L = function (name) { return access.levelIndex(name); };
  var doc = newDoc._deleted ? oldDoc : newDoc;
  var type = (doc && doc.type) || (oldDoc && oldDoc.type);
  var who = userCtx.name;

  // A partner's changes arrive through its replicator identity: lib/validate_partner decides.
  if (partners.validate(newDoc, oldDoc, userCtx, _err)) return;

  if (!admin && level < L('depositor')) _err('You have No Access to this database.');

  if (type === 'counter') return validateCounter();
  // Invoices and payments are never changed or deleted, by anyone: checked before deletions,
  // and by id and by the old version's type too, so that no write can take one for another type.
  var billingDocs = require('lib/validate_billing');
  if (billingDocs.handles(type) || billingDocs.handles(oldDoc && oldDoc.type) || billingDocs.owns(newDoc._id)) {
    return billingDocs.validate(newDoc, oldDoc, userCtx, _err);
  }
  // A cluster resolves a conflict on import claims by deleting the losing version; the deletion
  // carries the claims it deletes and is checked as a write, so no claim changes or goes.
  if (newDoc._deleted && type === 'ref_claims') return records.validate(newDoc, oldDoc, userCtx, _err);
  if (newDoc._deleted) {
    if (!admin && level < L('editor')) {
      _err('Only an Editor or above may delete documents' + (type === 'order' ? '; cancel the order instead.' : '.'));
    }
    return;
  }

  if (type === 'order') require('lib/validate_order_links').validate(newDoc, oldDoc, userCtx, _err);
  if (type === 'order' && !oldDoc && newDoc.imported) return records.validateImportedOrder(newDoc, userCtx, _err);
  if (type === 'order') return validateOrder();
  if (type === 'acl') return validateAcl();
  if (type === 'order_version') return validateVersion();
  if (type === 'comment') return validateComment();
  if (type === 'stock') return require('lib/validate_stock').validate(newDoc, oldDoc, userCtx, _err);
  if (type === 'customer') return require('lib/validate_customer').validate(newDoc, oldDoc, userCtx, _err);
  if (type === 'shipment') return require('lib/validate_shipment').validate(newDoc, oldDoc, userCtx, _err);
  if (require('lib/validate_catalog').handles(type)) return require('lib/validate_catalog').validate(newDoc, oldDoc, userCtx, _err);
  if (records.handles(type)) return records.validate(newDoc, oldDoc, userCtx, _err);
  if (admin) return;
  _err('Unknown document type ' + JSON.stringify(newDoc.type) + ': expected one of order, comment.');

  function validateOrder() {
    var problem = schema.check(newDoc, 'order') || schema.checkOrderSums(newDoc) ||
                  billingDocs.returnsProblem(newDoc, oldDoc);
    if (problem) _err('Invalid order: ' + problem + '.');

    if (!oldDoc) {
      if (!admin) {
        // Notes: Depositors and Authors and up create documents; a Reader only reads.
        if (level === L('reader')) _err('As Reader you may not create orders; Depositors and Authors may.');
        if (workflow.rules.initial_states.indexOf(newDoc.status) === -1) {
          _err('A new order starts as ' + workflow.rules.initial_states.join(' or ') + ', not ' + newDoc.status + '.');
        }
        if (newDoc.created_by !== who) _err('created_by must be you (' + who + ').');
        if (newDoc.version !== 1) _err('A new order is version 1.');
      }
      // (A site's replication, as admin, may bring an order with several revisions at once.)
      var first = newDoc.history;
      if ((admin ? first.length < 1 : first.length !== 1) || first[0].action !== 'create' || (!admin && first[0].by !== who)) {
        _err('A new order carries one history entry: {action: "create", by: "' + who + '"}.');
      }
      if (!admin) checkPrices();
      return;
    }

    // History is append-only: every write adds one entry per step, and none is ever edited. A
    // write may take several steps at once (the system's approve + allocate at placement), each a
    // valid step of its own from where the last one left the order. (A site's replication, as
    // admin, may bring several revisions, so several entries, at once.)
    var oldH = oldDoc.history || [], newH = newDoc.history, grew = newH.length - oldH.length;
    if ((admin ? grew < 0 : grew < 1) || JSON.stringify(newH.slice(0, oldH.length)) !== JSON.stringify(oldH)) {
      _err('History entries cannot be edited or removed; each change appends one entry per step.');
    }
    var entry = newH[newH.length - 1];
    if (grew ? (newH[oldH.length].from !== oldDoc.status || entry.to !== newDoc.status) : newDoc.status !== oldDoc.status) {
      _err('The new history entry must read from "' + oldDoc.status + '" to "' + newDoc.status + '".');
    }
    if (admin) return;

    if (newDoc.updated_by !== who) _err('The history entry and updated_by must name you (' + who + ').');
    if (level < L(workflow.rules.min_level_to_act)) {
      _err('As ' + access.levelTitle(level) + ' you may not change orders.');
    }
    if (!access.mayRead(userCtx, oldDoc)) _err('This order is restricted to its readers.');
    if (level < L('editor') && !access.isNamedIn(userCtx, oldDoc.authors)) {
      _err('As Author you may change only orders whose Authors field names you; this one names ' +
           JSON.stringify(oldDoc.authors || []) + '.');
    }

    var allowed = workflow.rules.always_writable.concat(['status']);
    var at = oldDoc, state = workflow.rules.states[oldDoc.status];
    for (var k = oldH.length; k < newH.length; k++) {
      entry = newH[k];
      state = workflow.rules.states[at.status];
      if (entry.by !== who) _err('The history entry and updated_by must name you (' + who + ').');
      if (entry.from !== at.status) _err('Step ' + (k - oldH.length + 1) + ' must read from "' + at.status + '".');
      allowed = allowed.concat(state.editable);
      if (entry.action === 'edit') {
        if (grew !== 1) _err('An "edit" is a write of its own, not a step among others.');
        if (newDoc.status !== oldDoc.status) _err('A status change needs a workflow action, not "edit".');
        continue;
      }
      var t = workflow.transition(entry.action);
      if (!t) _err('Unknown workflow action ' + JSON.stringify(entry.action) + '.');
      if (t.from.indexOf(at.status) === -1) {
        _err('"' + t.title + '" cannot be taken from ' + state.title + '; only from ' + t.from.join(', ') + '.');
      }
      if (k > oldH.length && (t.to === '$held_from' || entry.action === 'amend')) {
        _err('"' + t.title + '" is a write of its own, not a step after another.');
      }
      if (workflow.target(t, at) !== entry.to) {
        _err('"' + t.title + '" leads to ' + workflow.target(t, at) + ', not ' + entry.to + '.');
      }
      if (!workflow.mayTake(t, userCtx)) {
        _err('Only ' + t.roles.join(' or ') + ' (or a Manager) may "' + t.title + '".');
      }
      if (t.needs_reason && !entry.reason) _err('"' + t.title + '" needs a reason.');
      if (entry.action === 'amend') checkAmend();
      allowed = allowed.concat(t.sets || []);
      at = {status: entry.to};
    }
    var changed = workflow.changedFields(oldDoc, newDoc);
    for (var i = 0; i < changed.length; i++) {
      if (allowed.indexOf(changed[i]) === -1) {
        _err('The field ' + changed[i] + ' cannot change while the order is ' + state.title +
             (entry.action === 'edit' ? '' : ' (action "' + entry.action + '")') + '.');
      }
    }
    checkPrices();
  }

  // Discounts and the value ceiling (rules/pricing.json): a write that leaves an order in
  // Submitted is within what its writer may give, or the order waits in price approval.
  function checkPrices() {
    var approval = require('lib/pricing').approvalProblem(newDoc, oldDoc, acl.levels[level], userCtx.roles,
                                                          workflow.mayTake(workflow.transition('approve_price'), userCtx));
    if (approval) _err(approval);
  }

  // An amendment is a new version; what was already shipped is never edited silently.
  function checkAmend() {
    if (newDoc.version !== oldDoc.version + 1) _err('An amendment makes version ' + (oldDoc.version + 1) + ', not ' + newDoc.version + '.');
    for (var i = 0; i < oldDoc.lines.length; i++) {
      var shipped = oldDoc.lines[i].shipped_qty || 0;
      if (!shipped) continue;
      var kept = null;
      for (var j = 0; j < newDoc.lines.length; j++) {
        if (newDoc.lines[j].line === oldDoc.lines[i].line) kept = newDoc.lines[j];
      }
      if (!kept || kept.sku !== oldDoc.lines[i].sku || kept.qty < shipped || kept.shipped_qty !== shipped) {
        _err('Line ' + oldDoc.lines[i].line + ' has ' + shipped + ' shipped: an amendment keeps its SKU, its shipped quantity and at least that much.');
      }
    }
  }

  // The order-number counter: written by whoever may create orders (a block of numbers per
  // write), never moved back. Writing the same value again is how a cluster settles a revision
  // on every copy; a deletion (a cluster's conflict being resolved) carries the value it deletes,
  // so the counter is read back from it and numbers are never handed out twice.
  function validateCounter() {
    if (!admin && (level === L('reader') || level < L('depositor'))) {
      _err('As ' + access.levelTitle(level) + ' you may not number orders; Depositors and Authors may.');
    }
    var series = require('lib/billing_rules').series, billingCounter = false, ids = ['counter:order'];
    for (var s in series) {
      ids.push(series[s].counter_id);
      if (newDoc._id === series[s].counter_id) billingCounter = true;
    }
    if (!admin && ids.indexOf(newDoc._id) === -1) _err('The counters are the documents ' + ids.join(', ') + '.');
    if (!admin && billingCounter && series.hasOwnProperty('return') && newDoc._id === series['return'].counter_id) billingCounter = false;
    if (!admin && billingCounter && !require('lib/validate_billing').mayIssue(userCtx)) {
      _err('Only the [Billing] role or a Manager may number invoices and credit notes.');
    }
    var problem = schema.check(newDoc, 'counter');
    if (problem) _err('Invalid counter: ' + problem + '.');
    if (oldDoc && newDoc.value < oldDoc.value) _err('A counter only moves forward (from ' + oldDoc.value + ').');
    var step = require('lib/schema_rules').counter.value.max_step;
    if (!admin && newDoc.value - (oldDoc ? oldDoc.value : 0) > step) _err('A counter moves at most ' + step + ' numbers at once.');
  }

  function validateAcl() {
    if (!admin && level < L('manager')) _err('Only a Manager may change the ACL.');
    if (!Array.isArray(newDoc.entries)) _err('The ACL needs entries: [{name, type, level, roles}].');
    for (var i = 0; i < newDoc.entries.length; i++) {
      var e = newDoc.entries[i];
      if (!e.name || acl.levels.indexOf(e.level) === -1) {
        _err('ACL entry ' + i + ' needs a name and a level from ' + acl.levels.join(', ') + '.');
      }
    }
    var kept = false;
    for (var j = 0; j < newDoc.entries.length; j++) kept = kept || newDoc.entries[j].level === acl.required_level;
    if (!kept) {
      _err('The ACL must keep at least one ' + acl.level_titles[acl.required_level] +
           ' entry: without one nobody could change the ACL again.');
    }
  }

  function validateVersion() {
    if (oldDoc) _err('A kept version of an order never changes.');
    if (!newDoc.order || newDoc._id.indexOf(newDoc.order + ':v') !== 0) _err('A kept version is "<order id>:v<version>", e.g. "order:SO-000123:v1".');
    if (!admin && level < L('author')) _err('As ' + access.levelTitle(level) + ' you may not amend orders.');
  }

  function validateComment() {
    if (oldDoc && !admin) _err('A comment cannot be edited once posted; post another.');
    if (!newDoc.parent || newDoc.parent.indexOf('order:') !== 0) _err('A comment needs parent: the order id, e.g. "order:SO-000123".');
    if (typeof newDoc.text !== 'string' || !newDoc.text.length || newDoc.text.length > 4000) _err('A comment needs text (1 to 4000 characters).');
    if (!admin && newDoc.by !== who) _err('A comment must be posted as yourself (' + who + ').');
    if (!admin && level < L('author')) _err('As ' + access.levelTitle(level) + ' you may not comment; Authors and above may.');
  }
}
