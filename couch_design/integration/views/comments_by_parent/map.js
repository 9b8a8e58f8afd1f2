function (doc) {
  // Comments (response documents) under their order, oldest first; _id keeps each key unique.
  if (doc.type !== 'comment' || !doc.parent) return;
  emit([doc.parent, doc.at, doc._id], null);
}
