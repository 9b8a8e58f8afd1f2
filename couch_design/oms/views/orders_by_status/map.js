function (doc) {
  // By status: [principal, stage, number]. The stage is the state's index in the rulebook, so
  // categories come in workflow order (draft, submitted, ... closed) and numbers collate alike on
  // every server.
  if (doc.type !== 'order') return;
  /*@include order_row*/
  var stages = /*@rules stages*/null;
  emitAll(doc, [stages.indexOf(doc.status), doc.number], row(doc, doc.status));
}
