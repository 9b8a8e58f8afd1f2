function (doc) {
  // What is open now, with when it began (the SLA and ageing classes follow from the clock in Python),
  // reduced by the built-in _stats (the count; for backorder lines the sum is their units):
  //   [principal, "wip", stage index, hour the stay began "YYYY-MM-DDTHH", tier, warehouse, number]
  //   [principal, "bo",  day the backorder began (the order's allocation), tier, warehouse, number, line]
  if (doc.type !== 'order') return;
  /*@include order_row*/
  /*@include review_row*/
  var R = /*@rules review*/null;
  if (!R.open[doc.status]) return;
  var who = principals(doc), tier = tierOf(doc), wh = warehouseOf(doc), s = stays(doc), p, i;
  var since = s.length ? s[s.length - 1].from : doc.updated_at;
  if (typeof since !== 'string') return;
  for (p = 0; p < who.length; p++)
    emit([who[p], 'wip', R.stages.indexOf(doc.status), since.slice(0, 13), tier, wh, doc.number], 1);
  var bo = doc.backorders, allocated = firstAt(doc, 'allocated') || since;
  if (!bo || !bo.length) return;
  for (i = 0; i < bo.length; i++)
    for (p = 0; p < who.length; p++)
      emit([who[p], 'bo', allocated.slice(0, 10), tier, wh, doc.number, bo[i].line], typeof bo[i].qty === 'number' ? bo[i].qty : 0);
}
