function (doc, req) {
  // The centre -> a branch office: everything, design documents included, except the ids each
  // side keeps for itself (rules/replication.json sites.local_ids: the order-number counter, as
  // a branch hands out numbers from the block it reserved at the centre).
  // Self-contained on purpose: PouchDB Server evaluates filters without require().
  return doc._id !== 'counter:order';
}
