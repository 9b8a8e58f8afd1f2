function (doc) {
  // Shares and counts, one row per thing counted (value 1; reduced by the built-in _stats):
  //   [principal, "ontime", w|m, period shipped, 1|0 (on or before promised_date), tier, warehouse, number]
  //   [principal, "fill",   w|m, period placed, 1|0 (line fully available at allocation), tier, warehouse, number, i]
  //   [principal, "moves",  day, stage index left, tier, warehouse, number, history index]
  if (doc.type !== 'order') return;
  /*@include order_row*/
  /*@include review_row*/
  var R = /*@rules review*/null;
  var who = principals(doc), tier = tierOf(doc), wh = warehouseOf(doc), per, i, j, p;
  function out(tail) {
    for (var p = 0; p < who.length; p++) emit([who[p]].concat(tail), 1);
  }
  var shipped = firstAt(doc, 'shipped');
  if (shipped && doc.promised_date) {
    per = periodsOf(shipped);
    for (j = 0; j < per.length; j++)
      out(['ontime', per[j][0], per[j][1], shipped.slice(0, 10) <= doc.promised_date ? 1 : 0, tier, wh, doc.number]);
  }
  var placed = firstAt(doc, R.placed);
  var fill = doc.fill;
  if (placed && fill && typeof fill.lines === 'number' && typeof fill.full === 'number') {
    per = periodsOf(placed);
    for (i = 0; i < fill.lines && i < 500; i++)
      for (j = 0; j < per.length; j++)
        out(['fill', per[j][0], per[j][1], i < fill.full ? 1 : 0, tier, wh, doc.number, i]);
  }
  var h = doc.history || [];
  for (i = 0; i < h.length; i++) {
    if (!h[i] || typeof h[i].at !== 'string' || typeof h[i].from !== 'string') continue;
    var from = R.stages.indexOf(h[i].from);
    if (from >= 0) out(['moves', h[i].at.slice(0, 10), from, tier, wh, doc.number, i]);
  }
}
