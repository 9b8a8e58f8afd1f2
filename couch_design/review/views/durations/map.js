function (doc) {
  // Cycle times as histogram rows, counted by the built-in _stats (count, sum) grouped by bucket:
  //   [principal, "stage", w|m, period left, stage index, bucket, tier, warehouse, number, stay]
  //   [principal, "e2e",   w|m, period reached, "shipped"|"closed", bucket, tier, warehouse, number]
  // The value is the duration in hours. Percentiles come from the bucket counts in Python.
  if (doc.type !== 'order') return;
  /*@include order_row*/
  /*@include review_row*/
  var R = /*@rules review*/null;
  var who = principals(doc), tier = tierOf(doc), wh = warehouseOf(doc), s = stays(doc), i, j, p, hours, per;
  function out(kind, at, what, hours, tail) {
    var b = bucketOf(hours, R.bounds), per = periodsOf(at);
    for (var j = 0; j < per.length; j++)
      for (var p = 0; p < who.length; p++)
        emit([who[p], kind, per[j][0], per[j][1], what, b, tier, wh].concat(tail), Math.round(hours * 100) / 100);
  }
  for (i = 0; i < s.length; i++) {
    if (s[i].to === null) continue;
    hours = hoursBetween(s[i].from, s[i].to);
    if (hours !== null) out('stage', s[i].to, R.stages.indexOf(s[i].state), hours, [doc.number, i]);
  }
  var placed = firstAt(doc, R.placed);
  if (!placed) return;
  for (i = 0; i < R.ends.length; i++) {
    var end = firstAt(doc, R.ends[i]);
    hours = end && hoursBetween(placed, end);
    if (hours !== null && hours !== undefined && end) out('e2e', end, R.ends[i], hours, [doc.number]);
  }
}
