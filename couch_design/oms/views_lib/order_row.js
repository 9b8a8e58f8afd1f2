// (inlined at deploy into every order view: PouchDB Server has no require() in map functions)
// Notes Readers fields: an order that lists readers is indexed under each name/role of its
// Readers and Authors fields, any other under "*". A person's rows are then a few key ranges.
function principals(doc) {
  var who = (doc.readers && doc.readers.length) ? doc.readers.concat(doc.authors || []) : ['*'];
  var out = [], seen = {};
  for (var i = 0; i < who.length; i++) {
    if (typeof who[i] !== 'string' || seen[who[i]]) continue;
    seen[who[i]] = true;
    out.push(who[i]);
  }
  return out;
}
// A text sort key made of a-z and 0-9 only: CouchDB (ICU), PouchDB (code points) and Python then
// order keys the same way, which the reader's merge of a person's key ranges relies on.
function sortable(text) {
  return String(text === undefined || text === null ? '' : text).toLowerCase().replace(/[^a-z0-9]/g, '');
}
// One view row: what a view column can show, kept small (every view index stores it).
function row(doc, cat, qty) {
  var v = {
    number: doc.number, customer: doc.customer && doc.customer.name, status: doc.status,
    priority: doc.priority, net_cents: doc.totals && doc.totals.net_cents, currency: doc.currency,
    created_at: doc.created_at, updated_at: doc.updated_at
  };
  if (doc.promised_date) v.promised_date = doc.promised_date;
  if (doc.partner) v.partner = doc.partner;
  if (cat !== undefined) v.cat = cat;
  if (qty !== undefined) v.qty = qty;
  return v;
}
function emitAll(doc, tail, value) {
  var who = principals(doc);
  for (var i = 0; i < who.length; i++) emit([who[i]].concat(tail), value);
}
