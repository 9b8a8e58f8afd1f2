// What an order holds in the warehouse and what credit decided, checked on every order write
// (in addition to the workflow gate, which decides WHO may change these fields and WHEN):
// allocations [{line, sku, warehouse, qty}] and backorders [{line, sku, qty}] name real lines,
// never promise more than a line's quantity, and a line never ships more than it was allocated.
// An order on credit hold is approved only with a reason (rules/priority.json credit).
var rules = require('lib/priority_rules');
var WAREHOUSE = new RegExp(require('lib/schema_rules').stock.warehouse.pattern);   // one pattern, the rulebook's

exports.validate = function (newDoc, oldDoc, userCtx, _err) {
  if (!Array.isArray(newDoc.lines)) return;  // the order's own schema check reports it
  var byLine = {}, i, l;
  for (i = 0; i < newDoc.lines.length; i++) {
    l = newDoc.lines[i];
    if (l && typeof l.line === 'number') byLine[l.line] = {line: l, allocated: 0, backordered: 0};
  }
  function entries(field, withWarehouse) {
    var list = newDoc[field], seen = {};
    if (list === undefined) return;
    if (!Array.isArray(list)) _err('Invalid order: ' + field + ' must be an array.');
    for (var k = 0; k < list.length; k++) {
      var e = list[k], where = field + '[' + k + ']';
      if (!e || typeof e !== 'object') _err('Invalid order: ' + where + ' must be an object.');
      var slot = byLine[e.line];
      if (!slot) _err('Invalid order: ' + where + '.line must name a line of the order, not ' + JSON.stringify(e.line) + '.');
      if (e.sku !== slot.line.sku) _err('Invalid order: ' + where + '.sku must be the line\'s SKU ' + JSON.stringify(slot.line.sku) + '.');
      if (typeof e.qty !== 'number' || e.qty % 1 !== 0 || e.qty < 1) _err('Invalid order: ' + where + '.qty must be a whole number from 1.');
      if (withWarehouse && (typeof e.warehouse !== 'string' || !WAREHOUSE.test(e.warehouse))) {
        _err('Invalid order: ' + where + '.warehouse must be a warehouse code like "MAIN".');
      }
      var key = e.line + '@' + (withWarehouse ? e.warehouse : '');
      if (seen[key]) _err('Invalid order: ' + field + ' lists line ' + e.line + (withWarehouse ? ' at ' + e.warehouse : '') + ' twice.');
      seen[key] = true;
      slot[withWarehouse ? 'allocated' : 'backordered'] += e.qty;
    }
  }
  entries('allocations', true);
  entries('backorders', false);
  for (var n in byLine) {
    if (!byLine.hasOwnProperty(n)) continue;
    var s = byLine[n];
    if (s.allocated + s.backordered > s.line.qty) {
      _err('Invalid order: line ' + n + ' has ' + s.allocated + ' allocated and ' + s.backordered +
           ' backordered, more than its quantity ' + s.line.qty + '.');
    }
    if ((s.line.shipped_qty || 0) > s.allocated && newDoc.allocations !== undefined) {
      _err('Invalid order: line ' + n + ' cannot ship ' + s.line.shipped_qty + ' with only ' + s.allocated + ' allocated.');
    }
  }

  if (!oldDoc || !Array.isArray(newDoc.history)) return;
  var entry = newDoc.history[newDoc.history.length - 1];
  if (entry && entry.action === 'approve' && oldDoc.status === 'credit_hold' &&
      rules.credit.approve_from_hold_needs_reason && !entry.reason) {
    _err('Approving an order on credit hold needs a reason.');
  }
};
