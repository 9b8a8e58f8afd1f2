function (doc) {
  // By customer: [principal, sortable name, customer id, number]; totals of value per customer.
  if (doc.type !== 'order' || !doc.customer) return;
  /*@include order_row*/
  emitAll(doc, [sortable(doc.customer.name), doc.customer.id, doc.number], row(doc, doc.customer.name));
}
