function (doc) {
  // What waits for stock, per SKU, in the order it is served when stock arrives: most urgent
  // priority first, then the oldest order; number and line make every key unique.
  // Readers and Authors travel in the value so a page can leave out orders a person may not see.
  if (doc.type !== 'order' || !doc.backorders || !doc.backorders.length) return;
  for (var i = 0; i < doc.backorders.length; i++) {
    var b = doc.backorders[i];
    var value = {qty: b.qty, status: doc.status, customer: doc.customer.name};
    if (doc.readers && doc.readers.length) {
      value.readers = doc.readers;
      value.authors = doc.authors || [];
    }
    emit([b.sku, doc.priority, doc.created_at, doc.number, b.line], value);
  }
}
