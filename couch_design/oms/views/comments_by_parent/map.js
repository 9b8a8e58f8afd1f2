function (doc) {
  // Responses under their main document (Notes main doc + responses), oldest first.
  if (doc.type !== 'comment' || !doc.parent) return;
  emit([doc.parent, doc.at, doc._id], {by: doc.by, at: doc.at, text: doc.text});
}
