function (doc) {
  // The outbox in the order events happened; readers travel along so listings can filter.
  if (doc.type !== 'event') return;
  emit([doc.at, doc._id], {name: doc.name, order: doc.order, readers: doc.readers || null,
    authors: doc.authors || null});
}
