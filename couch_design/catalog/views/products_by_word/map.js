function (doc) {
  // The product picker: a product under its SKU and under each word of its description, lower
  // case, so that typing "wid" or "steel" finds it by key prefix. Withdrawn products are kept
  // (an old order still names them) and the picker leaves them out by the value's status.
  if (doc.type !== 'product') return;
  var value = {sku: doc.sku, description: doc.description, unit: doc.unit, status: doc.status};
  var seen = {};
  var words = [doc.sku.toLowerCase()].concat(String(doc.description).toLowerCase().split(/[^a-z0-9äöüßéèàçñ]+/));
  for (var i = 0; i < words.length; i++) {
    if (words[i] && !seen[words[i]]) {
      seen[words[i]] = true;
      emit(words[i], value);
    }
  }
}
