function (doc) {
  // Open orders by the day they were placed: the dashboard's ageing buckets.
  if (doc.type !== 'order' || !doc.created_at) return;
  /*@include order_row*/
  var open = /*@rules open*/null;
  if (!open[doc.status]) return;
  emitAll(doc, [doc.created_at.slice(0, 10), doc.number], row(doc));
}
