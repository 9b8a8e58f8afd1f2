function (doc) {
  // Throughput: orders placed and orders shipped per day (the day of the last move to "shipped").
  if (doc.type !== 'order' || !doc.created_at) return;
  /*@include order_row*/
  var h = doc.history || [], shipped = null;
  for (var i = 0; i < h.length; i++) if (h[i] && h[i].to === 'shipped' && h[i].at) shipped = h[i].at;
  var who = principals(doc), value = {net_cents: doc.totals && doc.totals.net_cents, currency: doc.currency};
  for (var p = 0; p < who.length; p++) {
    emit([who[p], 'created', doc.created_at.slice(0, 10), doc.number], value);
    if (shipped) emit([who[p], 'shipped', shipped.slice(0, 10), doc.number], value);
  }
}
