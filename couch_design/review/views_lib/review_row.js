// (inlined at deploy into the review views, after order_row: PouchDB Server has no require() in maps)
// What the Review counts, read from an order's history. `R` is view_rules()["review"]: the stage
// names in rulebook order, the bucket bounds in hours, the state an order is placed in.
function hoursBetween(from, to) {
  var a = Date.parse(from), b = Date.parse(to);
  return (isNaN(a) || isNaN(b) || b < a) ? null : (b - a) / 3600000;
}
// The bucket of a duration: how many bounds are <= hours (0 .. bounds.length). Python's
// views.review.bucket_of is the same search over the same bounds.
function bucketOf(hours, bounds) {
  var lo = 0, hi = bounds.length;
  while (lo < hi) {
    var mid = (lo + hi) >> 1;
    if (bounds[mid] <= hours) lo = mid + 1; else hi = mid;
  }
  return lo;
}
// The periods a moment falls in: its week (the Monday's date) and its month.
function periodsOf(at) {
  var d = new Date(at.slice(0, 10) + 'T00:00:00Z');
  if (isNaN(d.getTime())) return [];
  var monday = new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * 86400000);
  return [['w', monday.toISOString().slice(0, 10)], ['m', at.slice(0, 7)]];
}
function tierOf(doc) {
  return (doc.customer && typeof doc.customer.tier === 'string') ? doc.customer.tier : '';
}
// The order's warehouse: the one its first allocation names ('' before any allocation).
function warehouseOf(doc) {
  var a = doc.allocations;
  return (a && a.length && typeof a[0].warehouse === 'string') ? a[0].warehouse : '';
}
function entries(doc) {
  var h = doc.history || [], out = [];
  for (var i = 0; i < h.length; i++) if (h[i] && typeof h[i].at === 'string' && typeof h[i].to === 'string') out.push(h[i]);
  return out;
}
// Each stay in a state: {state, from (entered at), to (left at, null while still there), left (entry index)}.
// A step that keeps the state (invoicing part of an order, serving backorders) does not end a stay.
function stays(doc) {
  var h = entries(doc), out = [], cur = null;
  for (var i = 0; i < h.length; i++) {
    if (cur && h[i].to === cur.state) continue;
    if (cur) { cur.to = h[i].at; cur.left = i; out.push(cur); }
    cur = {state: h[i].to, from: h[i].at, to: null, left: -1};
  }
  if (cur) out.push(cur);
  return out;
}
function firstAt(doc, state) {
  var h = entries(doc);
  for (var i = 0; i < h.length; i++) if (h[i].to === state) return h[i].at;
  return null;
}
