function (doc) {
  // Open orders by stage and the time they entered it (the last history entry that led there):
  // the agents' work list. Escalation reads [status, ..cutoff], reminders read a role's stages.
  // Not keyed by reader: only server-side agents read it, and they check Readers themselves.
  if (doc.type !== 'order' || !doc.history || !doc.history.length) return;
  var closed = {closed: 1, cancelled: 1, refunded: 1, replaced: 1};
  if (closed[doc.status]) return;
  var entered = doc.created_at;
  for (var i = doc.history.length - 1; i >= 0; i--) {
    if (doc.history[i].to === doc.status && doc.history[i].from !== doc.status) { entered = doc.history[i].at; break; }
  }
  // last touched by someone, not by the escalation agent's own flagging (expiry reads this)
  var touched = doc.created_at;
  for (var j = doc.history.length - 1; j >= 0; j--) {
    var h = doc.history[j];
    if (!(h.action === 'edit' && h.changes && h.changes.indexOf('escalation') !== -1)) { touched = h.at; break; }
  }
  var esc = doc.escalation || null;
  emit([doc.status, entered, doc.number], {
    number: doc.number, priority: doc.priority, customer: doc.customer && doc.customer.name,
    net_cents: doc.totals && doc.totals.net_cents, currency: doc.currency, updated_at: doc.updated_at, touched_at: touched,
    created_by: doc.created_by, readers: doc.readers || null, authors: doc.authors || null,
    escalated: !!(esc && esc.stage === doc.status && esc.since === entered)
  });
}
