function (doc) {
  // Backorders: open orders with quantities waiting for stock, under each SKU they wait for (a
  // document shows under several categories, as in Notes). qty = units waiting for that SKU.
  if (doc.type !== 'order' || !doc.backorders || !doc.backorders.length) return;
  /*@include order_row*/
  var open = /*@rules open*/null;
  if (!open[doc.status]) return;
  var by = {}, skus = [], i, b;
  for (i = 0; i < doc.backorders.length; i++) {
    b = doc.backorders[i];
    if (!b || typeof b.sku !== 'string' || typeof b.qty !== 'number' || b.qty <= 0) continue;
    if (!by.hasOwnProperty(b.sku)) { by[b.sku] = 0; skus.push(b.sku); }
    by[b.sku] += b.qty;
  }
  for (i = 0; i < skus.length; i++) {
    emitAll(doc, [sortable(skus[i]), skus[i], doc.number], row(doc, skus[i], by[skus[i]]));
  }
}
