function (doc) {
  // Every invoice by due date: the payment reminders walk the ones due before today; whether one
  // is paid comes from balance_by_invoice.
  if (doc.type !== 'invoice') return;
  emit([doc.due_date, doc.number], {number: doc.number, order: doc.order, customer: doc.customer,
                                    currency: doc.currency, gross_cents: doc.totals.gross_cents,
                                    readers: doc.readers || null});
}
