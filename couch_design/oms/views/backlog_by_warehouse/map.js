function (doc) {
  // Backlog by warehouse: units the warehouse still owes on orders not yet (fully) shipped. A line's
  // shipped quantity is taken off its allocations in order; what no allocation covers shows
  // under "" (not allocated yet).
  if (doc.type !== 'order' || !doc.lines) return;
  /*@include order_row*/
  var backlog = /*@rules backlog*/null;
  if (!backlog[doc.status]) return;
  var allocs = doc.allocations || [], per = {}, names = [], i, j, l, left, a, take;
  function add(wh, qty) {
    if (qty <= 0) return;
    if (!per.hasOwnProperty(wh)) { per[wh] = 0; names.push(wh); }
    per[wh] += qty;
  }
  for (i = 0; i < doc.lines.length; i++) {
    l = doc.lines[i];
    var shipped = l.shipped_qty || 0, allocated = 0;
    for (j = 0; j < allocs.length; j++) {
      a = allocs[j];
      if (!a || a.line !== l.line || typeof a.qty !== 'number') continue;
      take = Math.min(shipped, a.qty);
      shipped -= take;
      allocated += a.qty;
      add(String(a.warehouse || ''), a.qty - take);
    }
    left = l.qty - Math.max(allocated, l.shipped_qty || 0);
    add('', left);
  }
  for (i = 0; i < names.length; i++) {
    emitAll(doc, [sortable(names[i]), names[i], doc.number], row(doc, names[i], per[names[i]]));
  }
}
