function (doc, req) {
  // A branch office -> the centre: everything people wrote here, but never design documents
  // (the centre's come from deploy; _design/site stays here) nor the branch's own number
  // counter (rules/replication.json sites.local_ids). Self-contained: PouchDB has no require().
  return doc._id.indexOf('_design/') !== 0 && doc._id !== 'counter:order';
}
