function (doc) {
  // Idempotency records of API requests by age, for housekeeping (import claims are kept: they
  // are what makes re-importing a file create no duplicates).
  if (doc.type !== 'idem' || doc.scope !== 'person') return;
  emit([doc.at, doc._id], null);
}
