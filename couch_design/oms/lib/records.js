// Validation of the desk's own records (import claims, idempotency records, API tokens, webhooks,
// events, deliveries, notifications, agents' logs), called from one dispatch line in
// validate_doc_update. Each rule says who may write the document and what may change, so a
// client with a password cannot forge an event, a token or an agent's log. ES5: runs in CouchDB.
var access = require('lib/access');
var schema = require('lib/schema');
var acl = require('lib/acl_rules');
var wf = require('lib/workflow_rules');

function L(name) { return access.levelIndex(name); }

function isSystem(userCtx) { return userCtx.name === acl.system_identity; }

function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

// Fields of oldDoc that must not change in newDoc.
function frozen(newDoc, oldDoc, fields, what, err) {
  for (var i = 0; i < fields.length; i++) {
    if (!same(newDoc[fields[i]], oldDoc[fields[i]])) err('The field ' + fields[i] + ' of ' + what + ' cannot change.');
  }
}

function needLevel(userCtx, level, what, err) {
  if (access.level(userCtx) < L(level)) {
    err('Only ' + acl.level_titles[level] + ' or above may write ' + what + '.');
  }
}

function isInt(v) { return typeof v === 'number' && v % 1 === 0; }

// The document an import claim of `ref` lives in: the reference without its last two digits
// (oms/interchange/refclaims.py: prefix_of; ASCII digits only, so both languages cut at the same place).
function refPrefix(ref) {
  var i = ref.length;
  while (i > 0 && i > ref.length - 2 && ref.charCodeAt(i - 1) >= 48 && ref.charCodeAt(i - 1) <= 57) i--;
  return ref.slice(0, i);
}

var rules = {
  // Idempotency keys and import claims: written by the person who sends the request; the first
  // write fixes what the key stands for, later writes only record the outcome.
  idem: function (newDoc, oldDoc, userCtx, admin, err) {
    if (newDoc.scope !== 'person' && newDoc.scope !== 'ref') err('An idempotency record needs scope "person" or "ref".');
    if (typeof newDoc.fingerprint !== 'string' || !newDoc.fingerprint) err('An idempotency record needs the request fingerprint.');
    if (admin) return;
    if (!oldDoc) {
      if (newDoc.by !== userCtx.name) err('An idempotency record must name you (' + userCtx.name + ') in by.');
      return;
    }
    frozen(newDoc, oldDoc, ['scope', 'by', 'fingerprint', 'reserved', 'at'], 'an idempotency record', err);
    if (oldDoc.scope === 'person' && oldDoc.by !== userCtx.name) err('Only ' + oldDoc.by + ' may complete this idempotency record.');
    if (oldDoc.response && !same(oldDoc.response, newDoc.response)) err('The outcome of an idempotency record is written once.');
  },

  // Import claims of external references (oms/interchange/refclaims.py), up to 110 to a document: a claim,
  // once written, never changes or goes; a new one names its writer; a reference sits in the
  // document its prefix names, so two imports of one reference always meet in one document.
  ref_claims: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin && access.level(userCtx) === L('reader')) err('As Reader you may not import orders; Depositors and Authors may.');
    if (typeof newDoc.kind !== 'string' || !/^[a-z]{1,20}$/.test(newDoc.kind)) err('Import claims need a kind like "orders".');
    if (typeof newDoc.prefix !== 'string' || newDoc._id !== 'refclaims:' + newDoc.kind + ':' + newDoc.prefix) {
      err('The _id of import claims is "refclaims:" + kind + ":" + prefix, e.g. "refclaims:orders:ERP-47".');
    }
    var refs = newDoc.refs, old = (oldDoc && oldDoc.refs) || {}, ref, e;
    if (!refs || typeof refs !== 'object' || Array.isArray(refs)) err('Import claims need refs: {"ERP-4711": {number, fingerprint, by, at}}.');
    for (ref in refs) {
      if (!refs.hasOwnProperty(ref)) continue;
      if (refPrefix(ref) !== newDoc.prefix) err('The claim of ' + JSON.stringify(ref) + ' belongs in refclaims:' + newDoc.kind + ':' + refPrefix(ref) + '.');
      e = refs[ref];
      if (!e || typeof e.number !== 'string' || !e.number || typeof e.fingerprint !== 'string' || !e.fingerprint || typeof e.at !== 'string') {
        err('The claim of ' + JSON.stringify(ref) + ' needs number, fingerprint, by and at.');
      }
    }
    if (admin) return;
    for (ref in old) {
      if (old.hasOwnProperty(ref) && !same(old[ref], refs[ref])) err('The claim of ' + JSON.stringify(ref) + ' cannot change or go.');
    }
    for (ref in refs) {
      if (refs.hasOwnProperty(ref) && !old.hasOwnProperty(ref) && refs[ref].by !== userCtx.name) {
        err('A new import claim must name you (' + userCtx.name + ') in by.');
      }
    }
  },

  // API tokens: a Manager issues and revokes them; only the hash of the secret is ever stored.
  api_token: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin) needLevel(userCtx, 'manager', 'API tokens', err);
    if (typeof newDoc.hash !== 'string' || !/^[0-9a-f]{64}$/.test(newDoc.hash)) err('An API token stores the sha256 hash of its secret (64 hex digits), never the secret.');
    if (acl.levels.indexOf(newDoc.level) === -1) err('An API token needs a level from ' + acl.levels.join(', ') + '.');
    if (!newDoc.identity || newDoc.identity.indexOf('api.') !== 0) err('An API token acts as an identity named api.<client>.');
    if (oldDoc) {
      frozen(newDoc, oldDoc, ['hash', 'identity', 'client', 'level', 'roles', 'created_by', 'created_at'], 'an API token', err);
      if (oldDoc.revoked_at && !newDoc.revoked_at) err('A revoked API token stays revoked.');
    }
  },

  webhook: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin) needLevel(userCtx, 'manager', 'webhooks', err);
    if (typeof newDoc.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(newDoc.url)) err('A webhook needs an http(s) url, e.g. "https://erp.example.com/hooks/orders".');
    if (!Array.isArray(newDoc.events) || !newDoc.events.length) err('A webhook needs events, e.g. ["order.*"].');
  },

  // The outbox: events are derived by the agents from order history and from the billing
  // documents (invoices, credit notes, payments); nobody edits one after.
  event: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin) needLevel(userCtx, 'editor', 'order events', err);
    if (oldDoc && !admin) err('An order event never changes once recorded.');
    var name = typeof newDoc.name === 'string' ? newDoc.name : '', kind = name.split('.')[0];
    if (['order', 'invoice', 'credit_note', 'payment'].indexOf(kind) === -1 || name.indexOf('.') === -1) {
      err('An event needs a name like "order.approved" or "invoice.issued".');
    }
    if (kind !== 'payment' && (typeof newDoc.order !== 'string' || !newDoc.order)) err('An event names its order.');
  },

  delivery: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin) needLevel(userCtx, 'editor', 'webhook deliveries', err);
    if (['pending', 'delivered', 'dead'].indexOf(newDoc.state) === -1) err('A delivery state is pending, delivered or dead.');
    if (!isInt(newDoc.attempts) || newDoc.attempts < 0) err('A delivery counts its attempts from 0.');
    if (oldDoc) {
      frozen(newDoc, oldDoc, ['webhook', 'event'], 'a delivery', err);
      if (oldDoc.state === 'delivered' && !admin) err('A delivered event stays delivered.');
    }
  },

  notification: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin) needLevel(userCtx, 'editor', 'notifications', err);
    if (!Array.isArray(newDoc.to) || !newDoc.to.length) err('A notification needs to: names or [Roles].');
    if (typeof newDoc.subject !== 'string' || !newDoc.subject) err('A notification needs a subject.');
    if (oldDoc) frozen(newDoc, oldDoc, ['to', 'subject', 'text', 'kind', 'order', 'at', 'by'], 'a notification', err);
  },

  notification_seen: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin && newDoc.name !== userCtx.name) err('You may only mark your own notifications as seen.');
    if (newDoc._id !== 'seen:' + newDoc.name) err('_id must be "seen:" + name.');
  },

  agent_run: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin) needLevel(userCtx, 'editor', 'agent run logs', err);
    if (!admin && newDoc.by !== userCtx.name) err('An agent run is logged as its signer (' + userCtx.name + ').');
    if (oldDoc) frozen(newDoc, oldDoc, ['agent', 'started_at', 'by'], 'an agent run', err);
  },

  agent_state: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin) needLevel(userCtx, 'editor', 'agent state', err);
  },

  import_run: function (newDoc, oldDoc, userCtx, admin, err) {
    if (!admin && newDoc.by !== userCtx.name) err('An import report is written as yourself (' + userCtx.name + ').');
    if (oldDoc && !admin) err('An import report never changes.');
  }
};

exports.handles = function (type) { return rules.hasOwnProperty(type); };

exports.validate = function (newDoc, oldDoc, userCtx, err) {
  var admin = access.isAdmin(userCtx);
  if (newDoc.type !== (oldDoc ? oldDoc.type : newDoc.type)) err('A document keeps its type.');
  rules[newDoc.type](newDoc, oldDoc, userCtx, admin, err);
};

// An order migrated from another system (a Notes database) keeps its status and its earlier
// history: the entries before the last are marked legacy (they happened elsewhere), the last is
// {action: "import", by: you}. Only a Manager or the system identity may import this way.
exports.validateImportedOrder = function (newDoc, userCtx, err) {
  var admin = access.isAdmin(userCtx);
  if (!admin && access.level(userCtx) < L('manager') && !isSystem(userCtx)) {
    err('Only a Manager or ' + acl.system_identity + ' may import orders with their history.');
  }
  var problem = schema.check(newDoc, 'order') || schema.checkOrderSums(newDoc);
  if (problem) err('Invalid order: ' + problem + '.');
  var imp = newDoc.imported;
  if (typeof imp !== 'object' || !imp.source || !imp.ref) err('imported needs source and ref, e.g. {"source": "dxl", "ref": "<UNID>"}.');
  var h = newDoc.history, last = h[h.length - 1];
  if (last.action !== 'import' || last.to !== newDoc.status || (!admin && last.by !== userCtx.name)) {
    err('An imported order ends its history with {action: "import", by: "' + userCtx.name + '", to: "' + newDoc.status + '"}.');
  }
  for (var i = 0; i < h.length - 1; i++) {
    if (h[i].legacy !== true) err('history[' + i + '] came from the other system: mark it legacy: true.');
  }
  if (!admin && newDoc.updated_by !== userCtx.name) err('updated_by must be you (' + userCtx.name + ').');
  if (!wf.states.hasOwnProperty(newDoc.status)) err('Unknown status ' + JSON.stringify(newDoc.status) + '.');
};
