function (doc, req) {
  // A partner's copy -> the centre: its orders, comments and shipment receipts (rules/
  // replication.json partners.sends; tests/unit check the two lists agree). Never the number
  // counter or the centre's notes about refused changes. Self-contained on purpose: PouchDB
  // Server evaluates filters without require(). CouchDB 3 uses the equivalent selector.
  return !!req.query.partner && doc.partner === req.query.partner &&
    (doc.type === 'order' || doc.type === 'comment' || doc.type === 'receipt');
}
