function (doc) {
  // Orders with competing revisions (replication conflicts), keyed like every order view:
  // [reader principal, number] ("*" = everyone), so a person sees only what they may read.
  if (doc.type !== 'order' || !doc._conflicts || !doc._conflicts.length) return;
  var who = (doc.readers && doc.readers.length) ? doc.readers.concat(doc.authors || []) : ['*'];
  var value = {
    number: doc.number, customer: doc.customer.name, status: doc.status,
    net_cents: doc.totals.net_cents, currency: doc.currency, partner: doc.partner || '',
    versions: doc._conflicts.length + 1, updated_at: doc.updated_at
  };
  var seen = {};
  for (var i = 0; i < who.length; i++) {
    if (seen[who[i]]) continue;
    seen[who[i]] = true;
    emit([who[i], doc.number], value);
  }
}
