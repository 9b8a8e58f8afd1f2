function (doc) {
  // All orders by number. Keyed [principal, number]: the number makes each key unique for paging.
  // No reduce: other parts query this view for plain rows (All orders counts via orders_by_status).
  if (doc.type !== 'order') return;
  /*@include order_row*/
  emitAll(doc, [doc.number], row(doc));
}
