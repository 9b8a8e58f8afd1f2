function (doc) {
  // Credit exposure: what each customer owes and will owe, summed per customer and currency: the
  // credit check asks for [customer, the customer's currency] by key, one row each, and never adds
  // amounts of different currencies.
  // - An order in the states that count (rules/priority.json credit.exposure_states), for what is
  //   not invoiced yet: the gross total (tax and shipping included) of a priced order, else its
  //   net total (oms/crm/exposure.py order_value reads an order the same way), less its invoices.
  // - An invoice, for its gross total; each payment's allocations and each credit note take off
  //   what they pay or credit.
  if (doc.type === 'invoice') return emit([doc.customer.id, doc.currency], doc.totals.gross_cents);
  if (doc.type === 'credit_note') return emit([doc.customer.id, doc.currency], -doc.totals.gross_cents);
  if (doc.type === 'payment') {
    for (var i = 0; i < doc.allocations.length; i++) emit([doc.customer, doc.currency], -doc.allocations[i].amount_cents);
    return;
  }
  if (doc.type !== 'order') return;
  var exposure = /*@rules exposure*/null;
  if (!exposure[doc.status]) return;
  var t = doc.totals, value = typeof t.gross_cents === 'number' ? t.gross_cents : t.net_cents;
  var invoices = doc.invoices || [];
  for (var k = 0; k < invoices.length; k++) value -= invoices[k].gross_cents || 0;
  if (value > 0) emit([doc.customer.id, doc.currency], value);
}
