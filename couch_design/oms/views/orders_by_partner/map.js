function (doc) {
  // By partner: orders that came through (or go to) a partner, categorized by partner id.
  if (doc.type !== 'order' || !doc.partner) return;
  /*@include order_row*/
  emitAll(doc, [sortable(doc.partner), String(doc.partner), doc.number], row(doc, String(doc.partner)));
}
