// Prices, tax and price approval (rules/pricing.json, embedded at deploy as lib/pricing_rules):
// the twin of oms/catalog/pricing.py for what validate_doc_update checks. Money is whole cents,
// rates and discounts basis points. Every step is integer arithmetic that stays below 2^53, where
// a JavaScript number holds every whole number, so each result equals Python's to the cent
// (tests/unit/test_pricing_parity.py). A bad input throws an Error with Python's sentence.
// ES5: runs in CouchDB.
var rules = require('lib/pricing_rules');
var schemaRules = require('lib/schema_rules');

var MAX_CENTS = 9007199254740991;  // 2^53 - 1
var MAX_UNIT_CENTS = schemaRules.order['lines[].unit_price_cents'].max;

function has(obj, key) {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function whole(value, what, most) {
  if (most === undefined) most = MAX_CENTS;
  if (typeof value !== 'number' || value % 1 !== 0 || value < 0 || value > most) {
    throw new Error(what + ' must be a whole number from 0 to ' + most);
  }
  return value;
}

function unit(value, what) {
  return whole(value, what, MAX_UNIT_CENTS);
}

function rate(value) {
  return whole(value, 'rate_bp', 10000);
}

// a / b rounded down, for whole a >= 0 and b > 0 below 2^53: the float quotient can land one off
// next to a whole number, so it is corrected with exact products.
function idiv(a, b) {
  var q = Math.floor(a / b);
  while (q * b > a) q -= 1;
  while ((q + 1) * b <= a) q += 1;
  return q;
}

// a / b to the nearest whole number, halves up; 2a + b must stay below 2^53.
function halfUp(a, b) {
  return idiv(2 * a + b, 2 * b);
}

exports.MAX_CENTS = MAX_CENTS;

// The tax on one line's net amount, half-up to the cent (rounding "per_line"). net x rate may pass
// 2^53, so net is split into whole ten-thousands (exact: their tax is q x rate) and the rest.
exports.taxCents = function (netCents, rateBp) {
  var net = whole(netCents, 'net_cents'), bp = rate(rateBp);
  var q = idiv(net, 10000), r = net - q * 10000;
  return q * bp + halfUp(r * bp, 10000);
};

// A unit price entered with tax, without it: gross x 10000 / (10000 + rate), half-up.
exports.netFromGross = function (grossCents, rateBp) {
  var gross = unit(grossCents, 'gross_cents'), bp = rate(rateBp);
  return halfUp(gross * 10000, 10000 + bp);
};

// The rate of taxClass for goods shipped to country; an unlisted country (or none) pays the
// rates of "default", which names the home country.
exports.taxRateBp = function (taxClass, country) {
  var table = rules.tax_rates_bp;
  var rates = (typeof country === 'string' && has(table, country)) ? table[country] : table['default'];
  if (typeof rates === 'string') rates = table[rates];
  if (typeof taxClass !== 'string' || !has(rates, taxClass)) {
    throw new Error('tax class must be one of ' + rules.tax_classes.join(', ') + ', not ' + JSON.stringify(taxClass));
  }
  return rates[taxClass];
};

exports.priceLine = function (qty, unitCents, taxClass, country) {
  var net = whole(qty, 'qty') * unit(unitCents, 'unit_price_cents');
  whole(net, 'amount_cents');
  var bp = exports.taxRateBp(taxClass, country);
  var tax = exports.taxCents(net, bp);
  return {amount_cents: net, tax_cents: tax, gross_cents: whole(net + tax, 'gross_cents'), tax_rate_bp: bp};
};

// Tax per line, then added up; net_cents is the goods alone (the order's totals.net_cents),
// gross_cents adds shipping and all tax. A line or shipping without a tax class pays the
// rulebook's default_tax_class.
exports.orderTotals = function (lines, country, shippingCents, shippingTaxClass) {
  var deflt = rules.default_tax_class, priced = [], i, net = 0, tax = 0, qty = 0, line;
  if (shippingCents === undefined) shippingCents = 0;
  unit(shippingCents, 'shipping_cents');
  for (i = 0; i < lines.length; i++) {
    line = lines[i];
    priced.push(exports.priceLine(line.qty, line.unit_price_cents,
                                  (line.tax_class === undefined || line.tax_class === null) ? deflt : line.tax_class, country));
  }
  var shipping = exports.priceLine(1, shippingCents,
                                   (shippingTaxClass === undefined || shippingTaxClass === null) ? deflt : shippingTaxClass, country);
  for (i = 0; i < priced.length; i++) {
    net += priced[i].amount_cents;
    tax += priced[i].tax_cents;
  }
  whole(net, 'net_cents');
  tax = whole(tax + shipping.tax_cents, 'tax_cents');
  for (i = 0; i < lines.length; i++) qty += whole(lines[i].qty, 'qty');
  whole(qty, 'qty');
  return {lines: priced, qty: qty, net_cents: net, shipping_cents: shipping.amount_cents,
          shipping_tax_cents: shipping.tax_cents, tax_cents: tax,
          gross_cents: whole(net + shipping.amount_cents + tax, 'gross_cents')};
};

// How far unitCents is below listPriceCents in basis points, rounded UP so that comparing it with
// a whole-bp limit is exact. At or above the list price, or a list price of 0: no discount.
exports.discountBp = function (listPriceCents, unitCents) {
  var base = unit(listPriceCents, 'list_price_cents'), price = unit(unitCents, 'unit_price_cents');
  if (base === 0 || price >= base) return 0;
  return idiv((base - price) * 10000 + base - 1, base);
};

// The larger of the person's ACL level's limit and their roles' (none listed: 0).
exports.discountLimitBp = function (level, roles) {
  var limits = rules.discount_limits_bp, best = 0, i;
  if (typeof level === 'string' && has(limits.levels, level)) best = limits.levels[level];
  roles = roles || [];
  for (i = 0; i < roles.length; i++) {
    if (typeof roles[i] === 'string' && has(limits.roles, roles[i])) best = Math.max(best, limits.roles[roles[i]]);
  }
  return best;
};

// Indexes of the lines ({unit_price_cents, list_price_cents: the price the desk offered})
// discounted beyond the person's limit.
exports.linesBeyondLimit = function (lines, level, roles) {
  var limit = exports.discountLimitBp(level, roles), out = [];
  for (var i = 0; i < lines.length; i++) {
    if (exports.discountBp(lines[i].list_price_cents, lines[i].unit_price_cents) > limit) out.push(i);
  }
  return out;
};

exports.needsPriceApproval = function (lines, level, roles) {
  return exports.linesBeyondLimit(lines, level, roles).length > 0;
};

// The order's gross value is above its currency's ceiling: it needs approval.
exports.beyondCeiling = function (grossCents, currency) {
  var ceilings = rules.order_ceiling_cents;
  if (typeof currency !== 'string' || !has(ceilings, currency)) {
    throw new Error('currency must be one of ' + Object.keys(rules.currencies).join(', ') + ', not ' + JSON.stringify(currency));
  }
  return whole(grossCents, 'gross_cents') > ceilings[currency];
};

// The first thing wrong with a priced order's tax and totals, in oms/catalog/pricing.py
// order_tax_problem's words: each line's rate is its tax class's for the ship-to country, its tax
// is its amount at that rate (per line, half-up), and totals add net, shipping and tax to gross.
// An order kept from before the catalog (no gross total, no line tax) has none.
exports.orderTaxProblem = function (doc) {
  var totals = doc.totals || {}, lines = doc.lines || [], i, taxed = false;
  for (i = 0; i < lines.length; i++) {
    if (has(lines[i], 'tax_cents') || has(lines[i], 'tax_rate_bp') || has(lines[i], 'tax_class')) taxed = true;
  }
  if (!has(totals, 'gross_cents')) {
    if (taxed || has(totals, 'tax_cents')) return 'totals.gross_cents is required on an order whose lines carry tax';
    return null;
  }
  var country = (doc.ship_to || {}).country, taxSum = 0;
  for (i = 0; i < lines.length; i++) {
    var cls = lines[i].tax_class;
    if (typeof cls !== 'string' || rules.tax_classes.indexOf(cls) === -1) {
      return 'lines[' + i + '].tax_class must be one of ' + rules.tax_classes.join(', ') + ', not ' + JSON.stringify(cls === undefined ? null : cls);
    }
    var bp = exports.taxRateBp(cls, country);
    if (lines[i].tax_rate_bp !== bp) {
      return 'lines[' + i + '].tax_rate_bp must be ' + bp + ' (' + cls + ' shipped to ' + (country || 'the home country') +
             '), not ' + JSON.stringify(lines[i].tax_rate_bp === undefined ? null : lines[i].tax_rate_bp);
    }
    var want = exports.taxCents(lines[i].amount_cents, bp);
    if (lines[i].tax_cents !== want) {
      return 'lines[' + i + '].tax_cents must be amount_cents at ' + bp + ' bp = ' + want + ', not ' +
             JSON.stringify(lines[i].tax_cents === undefined ? null : lines[i].tax_cents);
    }
    taxSum += want;
  }
  var shipping = has(totals, 'shipping_cents') ? totals.shipping_cents : 0;
  taxSum += exports.taxCents(shipping, exports.taxRateBp(rules.default_tax_class, country));
  if (totals.tax_cents !== taxSum) {
    return "totals.tax_cents must be the lines' tax and shipping's = " + taxSum + ', not ' +
           JSON.stringify(totals.tax_cents === undefined ? null : totals.tax_cents);
  }
  var gross = totals.net_cents + shipping + taxSum;
  if (totals.gross_cents !== gross) return 'totals.gross_cents must be net + shipping + tax = ' + gross + ', not ' + JSON.stringify(totals.gross_cents);
  return null;
};

// Why this write may not leave the order in Submitted (null: it may). A write that brings an
// order to Submitted or changes a submitted order's lines is within the writer's discount limit
// on every line (against the price the desk offered, list_price_cents) and, above the value
// ceiling, is made by someone who may approve prices: otherwise the order waits in price approval.
exports.approvalProblem = function (newDoc, oldDoc, levelName, roles, mayApprove) {
  if (newDoc.status !== 'submitted') return null;
  if (oldDoc && oldDoc.status === 'submitted' && JSON.stringify(oldDoc.lines) === JSON.stringify(newDoc.lines) &&
      JSON.stringify(oldDoc.totals) === JSON.stringify(newDoc.totals)) return null;
  var offered = [], i;
  for (i = 0; i < newDoc.lines.length; i++) {
    if (typeof newDoc.lines[i].list_price_cents === 'number') offered.push(newDoc.lines[i]);
  }
  var beyond = exports.linesBeyondLimit(offered, levelName, roles);
  if (beyond.length) {
    var l = offered[beyond[0]];
    return 'Line ' + l.line + ' (' + l.sku + ') is ' + (exports.discountBp(l.list_price_cents, l.unit_price_cents) / 100) +
           '% below the offered price, beyond your limit of ' + (exports.discountLimitBp(levelName, roles) / 100) +
           '%: the order waits in price approval.';
  }
  if (typeof newDoc.totals.gross_cents === 'number' && has(rules.order_ceiling_cents, newDoc.currency) &&
      exports.beyondCeiling(newDoc.totals.gross_cents, newDoc.currency) && !mayApprove) {
    return 'The order is above the value that needs approval (' + (rules.order_ceiling_cents[newDoc.currency] / 100) +
           ' ' + newDoc.currency + '): the order waits in price approval.';
  }
  return null;
};
