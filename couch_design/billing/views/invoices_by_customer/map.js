function (doc) {
  // Each customer's invoices, oldest due first: where a payment goes when nobody says, and the
  // customer's open invoices. Whether one is paid comes from balance_by_invoice.
  if (doc.type !== 'invoice') return;
  emit([doc.customer.id, doc.due_date, doc.number], {number: doc.number, order: doc.order, customer: doc.customer,
                                                     currency: doc.currency, gross_cents: doc.totals.gross_cents});
}
