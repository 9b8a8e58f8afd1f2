function (doc) {
  // Payments in the order they arrived: the payments list and its export for bookkeeping.
  if (doc.type !== 'payment') return;
  emit([doc.received_on, doc._id], {customer: doc.customer, currency: doc.currency, amount_cents: doc.amount_cents,
                                    method: doc.method, reference: doc.reference || null,
                                    allocations: doc.allocations, recorded_by: doc.recorded_by});
}
