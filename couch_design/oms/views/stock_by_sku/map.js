function (doc) {
  // Stock per SKU per warehouse (the holds stay out of the index: only the numbers are shown).
  if (doc.type !== 'stock') return;
  emit([doc.sku, doc.warehouse], {
    sku: doc.sku, warehouse: doc.warehouse, on_hand: doc.on_hand, reserved: doc.reserved,
    available: doc.on_hand - doc.reserved, description: doc.description || null
  });
}
