function (doc, req) {
  // Push to a partner's database (partner_<id>): the documents whose partner field names it
  // (its orders, their comments and shipments, its customers). Design documents carry no
  // partner, so they never leave. A tombstone keeps its partner field (replication/conflicts.py
  // deletes a losing revision with {partner, type} in the body) so the deletion travels too.
  // Self-contained on purpose: PouchDB Server evaluates filters without require().
  // CouchDB 3 uses the equivalent selector {"partner": id} instead (replication/replicator.py).
  return !!req.query.partner && doc.partner === req.query.partner;
}
