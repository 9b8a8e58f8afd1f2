function (doc) {
  // Order value per customer and state: the credit check sums the states that count as exposure
  // (rules/priority.json credit.exposure_states) with group_level=2 over one customer's range.
  if (doc.type !== 'order') return;
  emit([doc.customer.id, doc.status], doc.totals.net_cents);
}
