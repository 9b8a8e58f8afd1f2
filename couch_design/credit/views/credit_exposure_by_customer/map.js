function (doc) {
  // Credit exposure: the value of each customer's orders in the states that count
  // (rules/priority.json credit.exposure_states), summed per customer and currency: the credit
  // check asks for [customer, the customer's currency] by key, one row each, and never adds
  // amounts of different currencies. The value is what the customer will owe: the gross total
  // (tax and shipping included) of a priced order, else its net total (oms/crm/exposure.py
  // order_value reads an order the same way).
  if (doc.type !== 'order') return;
  var exposure = /*@rules exposure*/null;
  if (!exposure[doc.status]) return;
  var t = doc.totals;
  emit([doc.customer.id, doc.currency], typeof t.gross_cents === 'number' ? t.gross_cents : t.net_cents);
}
