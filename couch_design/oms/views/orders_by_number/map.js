function (doc) {
  // All orders by number. Keyed first by reader principal ("*" = everyone) so that a person's
  // list is a few key ranges (Notes Readers fields); the number makes each key unique for paging.
  if (doc.type !== 'order') return;
  var who = (doc.readers && doc.readers.length) ? doc.readers.concat(doc.authors || []) : ['*'];
  var value = {
    number: doc.number, customer: doc.customer.name, status: doc.status,
    net_cents: doc.totals.net_cents, currency: doc.currency, priority: doc.priority,
    created_at: doc.created_at
  };
  var seen = {};
  for (var i = 0; i < who.length; i++) {
    if (seen[who[i]]) continue;
    seen[who[i]] = true;
    emit([who[i], doc.number], value);
  }
}
