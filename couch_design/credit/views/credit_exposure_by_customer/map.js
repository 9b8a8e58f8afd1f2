function (doc) {
  // Credit exposure: the value of each customer's orders in the states that count
  // (rules/priority.json credit.exposure_states), summed per customer: the credit check asks
  // for the customers it decides on by key, one row each.
  if (doc.type !== 'order') return;
  var exposure = /*@rules exposure*/null;
  if (exposure[doc.status]) emit(doc.customer.id, doc.totals.net_cents);
}
