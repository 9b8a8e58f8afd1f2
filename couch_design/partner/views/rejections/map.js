function (doc) {
  // Changes the centre refused, newest last (the centre writes them; see replication/partners.py).
  if (doc.type === 'rejection') emit(doc.refused_at, {doc_id: doc.doc_id, number: doc.number, reason: doc.reason, by: doc.by});
}
