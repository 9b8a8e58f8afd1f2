function (doc) {
  // What each invoice still asks for: [number, 0] its gross total, [number, 1, payment id] minus
  // each payment's share of it, [number, 2, credit note id] minus each credit note against it.
  // Summed per invoice (group_level 1) it is what is unpaid; the rows alone (reduce=false) list
  // the payments and credit notes.
  if (doc.type === 'invoice') return emit([doc.number, 0], doc.totals.gross_cents);
  if (doc.type === 'credit_note') return emit([doc.invoice, 2, doc._id], -doc.totals.gross_cents);
  if (doc.type !== 'payment') return;
  for (var i = 0; i < doc.allocations.length; i++) {
    emit([doc.allocations[i].invoice, 1, doc._id], -doc.allocations[i].amount_cents);
  }
}
