function (doc) {
  // The work queue: open orders by priority (1 most urgent), then promised date (none last).
  if (doc.type !== 'order') return;
  /*@include order_row*/
  var open = /*@rules open*/null;
  if (!open[doc.status]) return;
  emitAll(doc, [doc.priority, doc.promised_date || '9999-12-31', doc.number], row(doc, doc.priority));
}
