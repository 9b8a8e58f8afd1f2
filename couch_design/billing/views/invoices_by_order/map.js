function (doc) {
  // An order's invoices, in number order: the order page lists them, billing finds what is billed.
  if (doc.type !== 'invoice') return;
  emit([doc.order, doc.number], {number: doc.number, issued_at: doc.issued_at, due_date: doc.due_date,
                                 currency: doc.currency, gross_cents: doc.totals.gross_cents,
                                 shipments: doc.shipments});
}
