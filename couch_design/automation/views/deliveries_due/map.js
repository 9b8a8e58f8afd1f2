function (doc) {
  // Webhook deliveries still to attempt, by the time they are due.
  if (doc.type !== 'delivery' || doc.state !== 'pending') return;
  emit([doc.next_at, doc._id], null);
}
