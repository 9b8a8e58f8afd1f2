function (doc) {
  // What hangs under an order: comments, shipments, receipts, and notes about refused changes.
  var order = doc.type === 'comment' ? doc.parent :
              (doc.type === 'shipment' || doc.type === 'receipt') ? doc.order :
              doc.type === 'rejection' ? doc.doc_id : null;
  // shipments name the order by number, comments by id: key everything by id
  if (order && order.indexOf('order:') !== 0) order = 'order:' + order;
  if (order) emit([order, doc.type, doc.at || doc.shipped_at || doc.refused_at || ''], null);
}
