function (doc) {
  // My queue: open orders under the role that owns their stage (owner_role in the rulebook), then
  // by priority and promised date. A person's queue is the ranges of their roles.
  if (doc.type !== 'order') return;
  /*@include order_row*/
  var owner = /*@rules owner*/null;
  var role = owner[doc.status];
  if (!role) return;
  emitAll(doc, [role, doc.priority, doc.promised_date || '9999-12-31', doc.number], row(doc, role));
}
