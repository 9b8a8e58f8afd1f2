// Checks a document against rules/schema.json (embedded at deploy as lib/schema_rules).
// Returns the first problem as a sentence that shows a valid value, or null. ES5: runs in CouchDB.
var schemaRules = require('lib/schema_rules');
var workflowRules = require('lib/workflow_rules');

function kindOf(v) {
  if (v === null || v === undefined) return 'missing';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return (v % 1 === 0) ? 'integer' : 'number';
  return typeof v;
}

function describe(spec) {
  var parts = [];
  if (spec.type === 'integer') {
    parts.push('a whole number' + (spec.min !== undefined ? ' from ' + spec.min : '') +
               (spec.max !== undefined ? ' to ' + spec.max : ''));
  } else if (spec.type === 'string') {
    parts.push('text' + (spec.pattern ? ' like ' + JSON.stringify(spec.example || spec.pattern) : ''));
  } else {
    parts.push('a' + (spec.type === 'array' || spec.type === 'object' ? 'n ' : ' ') + spec.type);
  }
  return parts.join('');
}

function checkValue(path, value, spec) {
  var kind = kindOf(value);
  var ok = kind === spec.type || (spec.type === 'number' && kind === 'integer');
  if (!ok) return path + ' must be ' + describe(spec) + (spec.example !== undefined && spec.type !== 'string' ? ', e.g. ' + JSON.stringify(spec.example) : '');
  if (spec.type === 'integer' || spec.type === 'number') {
    if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
      return path + ' must be ' + describe(spec) + ', not ' + (Math.abs(value) < 1e15 ? String(value) : 'a number that large');
    }
  }
  if (spec.type === 'string') {
    if (spec.min_length !== undefined && value.length < spec.min_length) return path + ' must not be empty';
    if (spec.max_length !== undefined && value.length > spec.max_length) return path + ' must be at most ' + spec.max_length + ' characters';
    if (spec.pattern && !new RegExp(spec.pattern).test(value)) return path + ' must be ' + describe(spec) + ', not ' + JSON.stringify(value);
    if (spec['enum'] === 'workflow.states' && !workflowRules.states.hasOwnProperty(value)) {
      return path + ' must be one of ' + Object.keys(workflowRules.states).join(', ') + ', not ' + JSON.stringify(value);
    }
  }
  if (spec.type === 'array') {
    if (spec.min_items !== undefined && value.length < spec.min_items) return path + ' needs at least ' + spec.min_items + ' item' + (spec.min_items > 1 ? 's' : '');
    if (spec.max_items !== undefined && value.length > spec.max_items) return path + ' may hold at most ' + spec.max_items + ' items';
  }
  return null;
}

// Walk `path` ("a.b", "a[].b", "a[]") through `doc`, calling visit(concretePath, value) at each end.
function walk(doc, path, visit) {
  var steps = path.split('.');
  function go(node, i, shown) {
    if (i === steps.length) return visit(shown, node);
    if (node === null || node === undefined || typeof node !== 'object') return visit(shown ? shown + '.' + steps.slice(i).join('.') : path, undefined, true);
    var step = steps[i], isArray = step.slice(-2) === '[]';
    var name = isArray ? step.slice(0, -2) : step;
    var next = name ? node[name] : node;
    var here = name ? (shown ? shown + '.' + name : name) : shown;
    if (!isArray) return go(next, i + 1, here);
    if (!Array.isArray(next)) return null;  // the array's own rule reports it
    for (var k = 0; k < next.length; k++) {
      var problem = go(next[k], i + 1, here + '[' + k + ']');
      if (problem) return problem;
    }
    return null;
  }
  return go(doc, 0, '');
}

exports.check = function (doc, type) {
  var rules = schemaRules[type];
  if (!rules) return null;
  var paths = Object.keys(rules);
  for (var i = 0; i < paths.length; i++) {
    var spec = rules[paths[i]];
    var problem = walk(doc, paths[i], function (shown, value, parentMissing) {
      if (value === undefined || value === null) {
        return (spec.required && !parentMissing) ? shown + ' is required' + (spec.example !== undefined ? ', e.g. ' + JSON.stringify(spec.example) : '') : null;
      }
      return checkValue(shown, value, spec);
    });
    if (problem) return problem;
  }
  return null;
};

// Arithmetic the shape cannot say: line amounts and totals add up (orders, invoices, credit notes).
exports.checkLineSums = function (doc) {
  var net = 0, qty = 0;
  for (var i = 0; i < doc.lines.length; i++) {
    var l = doc.lines[i];
    if (l.amount_cents !== l.qty * l.unit_price_cents) {
      return 'lines[' + i + '].amount_cents must be qty x unit_price_cents = ' + (l.qty * l.unit_price_cents) + ', not ' + l.amount_cents;
    }
    net += l.amount_cents;
    qty += l.qty;
  }
  if (doc.totals.net_cents !== net) return 'totals.net_cents must be the sum of the lines = ' + net + ', not ' + doc.totals.net_cents;
  if (doc.totals.qty !== qty) return 'totals.qty must be the sum of the quantities = ' + qty + ', not ' + doc.totals.qty;
  return null;
};

exports.checkOrderSums = function (doc) {
  var problem = exports.checkLineSums(doc);
  if (problem) return problem;
  if (doc._id !== 'order:' + doc.number) return '_id must be "order:" + number = ' + JSON.stringify('order:' + doc.number);
  // Tax and the totals it makes (rules/pricing.json), as oms/catalog/pricing.py checks them.
  return require('lib/pricing').orderTaxProblem(doc);
};
