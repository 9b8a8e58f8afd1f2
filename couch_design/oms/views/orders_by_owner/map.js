function (doc) {
  // My queue: open orders under the role that owns their stage (owner_role in the rulebook), then
  // most urgent first, then oldest. A person's queue is the ranges of their roles.
  if (doc.type !== 'order') return;
  /*@include order_row*/
  var owner = /*@rules owner*/null;
  var role = owner[doc.status];
  if (!role) return;
  emitAll(doc, [role, doc.priority, doc.created_at, doc.number], row(doc, role));
}
