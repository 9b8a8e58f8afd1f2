function (doc) {
  // The partner's orders by number (paged by key: the number is unique).
  if (doc.type !== 'order') return;
  emit(doc.number, {
    number: doc.number, customer: doc.customer.name, status: doc.status,
    net_cents: doc.totals.net_cents, currency: doc.currency, created_at: doc.created_at,
    updated_at: doc.updated_at, versions: doc._conflicts ? doc._conflicts.length + 1 : 1
  });
}
