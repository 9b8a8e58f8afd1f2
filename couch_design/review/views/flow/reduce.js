function (keys, values, rereduce) {
  // Category totals: how many rows, the value per currency (integer cents), the quantity (qty,
  // for backorders and backlog) and the category's label (the row's `cat`). Small and
  // shrinking, as CouchDB 3's reduce_limit wants. PouchDB Server never re-reduces.
  var out = {n: 0, v: {}, q: 0, l: null}, i, c, x;
  for (i = 0; i < values.length; i++) {
    x = values[i];
    if (rereduce) {
      out.n += x.n;
      out.q += x.q;
      for (c in x.v) if (x.v.hasOwnProperty(c)) out.v[c] = (out.v[c] || 0) + x.v[c];
      if (out.l === null) out.l = x.l;
    } else {
      out.n += 1;
      if (typeof x.net_cents === 'number') {
        c = x.currency || '';
        out.v[c] = (out.v[c] || 0) + x.net_cents;
      }
      if (typeof x.qty === 'number') out.q += x.qty;
      if (out.l === null && x.cat !== undefined) out.l = x.cat;
    }
  }
  return out;
}
