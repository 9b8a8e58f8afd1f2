function (doc) {
  // Work queues ("My queue"): orders by state, most urgent first, then oldest. The first key is
  // "<status>|<principal>" where principal is "*" or a name/role from the Readers and Authors
  // fields, so a person's queue is a few key ranges: the states their roles own (owner_role in
  // rules/workflow.json, looked up by the reader, so no second copy of the rulebook lives here)
  // times their principals. States no role owns (closed, cancelled...) are never queried.
  if (doc.type !== 'order') return;
  var who = (doc.readers && doc.readers.length) ? doc.readers.concat(doc.authors || []) : ['*'];
  var value = {
    number: doc.number, customer: doc.customer.name, status: doc.status, priority: doc.priority,
    net_cents: doc.totals.net_cents, currency: doc.currency, created_at: doc.created_at,
    promised_date: doc.promised_date || null, backordered: !!(doc.backorders && doc.backorders.length)
  };
  var seen = {};
  for (var i = 0; i < who.length; i++) {
    if (seen[who[i]]) continue;
    seen[who[i]] = true;
    emit([doc.status + '|' + who[i], doc.priority, doc.created_at, doc.number], value);
  }
}
