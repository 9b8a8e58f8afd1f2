function (doc) {
  // Search: [principal, term, number] for each term of an order: its number (SO000123, 000123,
  // 123), the customer's id, name and each word of it, each SKU and the partner. Terms are
  // lower-case letters and digits; a search is a prefix range on one term.
  if (doc.type !== 'order') return;
  /*@include order_row*/
  var terms = {}, list = [], i, words;
  function add(t) { t = sortable(t); if (t && !terms[t]) { terms[t] = true; list.push(t); } }
  add(doc.number);
  var digits = String(doc.number || '').replace(/[^0-9]/g, '');
  add(digits);
  add(digits.replace(/^0+/, ''));
  if (doc.customer) {
    add(doc.customer.name);
    add(String(doc.customer.id || '').replace(/^customer:/, ''));
    words = String(doc.customer.name || '').split(/\s+/);
    for (i = 0; i < words.length; i++) add(words[i]);
  }
  for (i = 0; i < (doc.lines || []).length; i++) add(doc.lines[i] && doc.lines[i].sku);
  if (doc.partner) add(doc.partner);
  var who = principals(doc), value = row(doc);
  for (var p = 0; p < who.length; p++) {
    for (i = 0; i < list.length; i++) emit([who[p], list[i], doc.number], value);
  }
}
