function (newDoc, oldDoc, userCtx, secObj) {
  // A branch office's replica (written by `oms replicate site`, never replicated back): stock is
  // decided at the centre only (docs/architecture.md). Orders placed here wait as submitted and are
  // allocated when they reach the centre; stock documents change only by replication from it.
  var rules = require('lib/replication_rules').sites;
  var roles = require('lib/desk').local(userCtx).roles || [];
  if (roles.indexOf('_admin') !== -1) return;
  if (newDoc.type === 'stock' || (oldDoc && oldDoc.type === 'stock')) {
    throw({forbidden: 'Stock is decided at the centre only; this branch cannot change it.'});
  }
  if (newDoc.type === 'order' && oldDoc && newDoc.history) {
    var from = (oldDoc.history || []).length;
    for (var i = from; i < newDoc.history.length; i++) {
      if (rules.centre_only_actions.indexOf(newDoc.history[i].action) !== -1) {
        throw({forbidden: '"' + newDoc.history[i].action + '" happens at the centre only: stock is reserved there when the order arrives.'});
      }
    }
  }
}
