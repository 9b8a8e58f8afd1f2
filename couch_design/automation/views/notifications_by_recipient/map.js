function (doc) {
  // Notifications by each principal they are addressed to (a name or a [Role]), newest last.
  if (doc.type !== 'notification' || !doc.to) return;
  for (var i = 0; i < doc.to.length; i++) {
    emit([doc.to[i], doc.at, doc._id], {subject: doc.subject, kind: doc.kind, order: doc.order || null});
  }
}
