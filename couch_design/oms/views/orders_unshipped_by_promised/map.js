function (doc) {
  // Orders not yet shipped (nor cancelled or closed), by promised date: "Overdue" reads the range
  // before today (a view cannot know the date; the query brings it).
  if (doc.type !== 'order' || !doc.promised_date) return;
  /*@include order_row*/
  var awaiting = /*@rules awaiting_shipment*/null;
  if (!awaiting[doc.status]) return;
  emitAll(doc, [doc.promised_date, doc.number], row(doc));
}
