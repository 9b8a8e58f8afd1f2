"""Prices, tax and price approval from rules/pricing.json: documents and numbers in, numbers out
(no I/O). Money is whole cents, rates and discounts basis points (1900 = 19%).

validate_doc_update computes the same with couch_design/oms/lib/pricing.js; both round with the
same integer rule (half-up to the cent) and tests/unit/test_pricing_parity.py runs both on the
same inputs. Shapes of products and price lists are rules/schema.json's ("product", "pricelist");
check_product and check_pricelist add what a shape cannot say."""
from __future__ import annotations

import datetime as dt
import json

from oms.core import rules, schema
from oms.core.errors import InvalidInput

# JavaScript's numbers hold whole numbers exactly only up to 2**53 - 1: an amount beyond it is
# refused on both sides rather than computed differently on one.
MAX_CENTS = 2**53 - 1
LIST_PRICE = "list_price"   # best_price's source when no price list applies


def pricing_rules() -> dict:
    return rules.rules()["pricing"]


def _js(v) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _whole(value, what: str, most: int = MAX_CENTS) -> int:
    """`value` as a whole number from 0 to `most`. 3.0 is 3, as JSON (and so the JavaScript) reads
    it; True is never a number, though Python counts it as one."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int or not 0 <= value <= most:
        raise InvalidInput(f"{what} must be a whole number from 0 to {most}")
    return value


def _max_unit_cents() -> int:
    """The largest unit price an order line may carry (rules/schema.json): list prices, price
    lists, shipping and discounts keep within it too (and so their products stay exact in
    JavaScript)."""
    return rules.schema()["order"]["lines[].unit_price_cents"]["max"]


def _unit(value, what: str) -> int:
    return _whole(value, what, _max_unit_cents())


def _rate(value) -> int:
    return _whole(value, "rate_bp", 10000)


# ------------------------------------------------------------------ rounding

def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest whole number, halves up (both non-negative): whole
    numbers only, so nothing is lost to a float or a decimal context (lib/pricing.js halfUp)."""
    return (2 * numerator + denominator) // (2 * denominator)


def tax_cents(net_cents: int, rate_bp: int) -> int:
    """The tax on one line's net amount, half-up to the cent (the rulebook's per_line rounding)."""
    return round_half_up(_whole(net_cents, "net_cents") * _rate(rate_bp), 10000)


def net_from_gross(gross_cents: int, rate_bp: int) -> int:
    """A unit price entered with tax, without it: gross x 10000 / (10000 + rate), half-up to the
    cent. Rounded per unit, so qty x net plus its tax may differ from qty x gross by a cent or so a
    unit; the net price is what the order keeps, the gross only how the list was typed."""
    return round_half_up(_unit(gross_cents, "gross_cents") * 10000, 10000 + _rate(rate_bp))


# ------------------------------------------------------------------ tax

def home_country() -> str:
    """The country the rulebook's `default` rates name: where an order without a ship-to ships."""
    return pricing_rules()["tax_rates_bp"]["default"]


def tax_rate_bp(tax_class: str, country: str | None) -> int:
    """The rate of `tax_class` for goods shipped to `country` (ISO code); a country the rulebook
    does not list, or none, pays the rates of its `default`, the home country."""
    table = pricing_rules()["tax_rates_bp"]
    rates = table[country] if isinstance(country, str) and country in table else table["default"]
    if isinstance(rates, str):   # "default" names the country whose rates apply
        rates = table[rates]
    if not isinstance(tax_class, str) or tax_class not in rates:
        raise InvalidInput(f"tax class must be one of {', '.join(pricing_rules()['tax_classes'])}, "
                           f"not {_js(tax_class)}")
    return rates[tax_class]


def price_line(qty: int, unit_cents: int, tax_class: str, country: str | None) -> dict:
    """One line: {"amount_cents" (net), "tax_cents", "gross_cents", "tax_rate_bp"}."""
    net = _whole(qty, "qty") * _unit(unit_cents, "unit_price_cents")
    _whole(net, "amount_cents")
    rate = tax_rate_bp(tax_class, country)
    tax = tax_cents(net, rate)
    return {"amount_cents": net, "tax_cents": tax, "gross_cents": _whole(net + tax, "gross_cents"),
            "tax_rate_bp": rate}


def order_totals(lines: list[dict], country: str | None, shipping_cents: int = 0,
                 shipping_tax_class: str | None = None) -> dict:
    """An order's sums, tax per line then added up (rounding "per_line").

    `lines`: {"qty", "unit_price_cents", "tax_class"}; a line without a tax class, and shipping
    without one, pay the rulebook's default_tax_class. net_cents is the goods alone, as the order
    document's totals.net_cents (the sum of the lines' amounts); gross_cents adds shipping and
    all tax. Also "lines": each line priced (price_line)."""
    default = pricing_rules()["default_tax_class"]
    _unit(shipping_cents, "shipping_cents")
    priced = [price_line(line.get("qty"), line.get("unit_price_cents"),
                         default if line.get("tax_class") is None else line["tax_class"], country)
              for line in lines]
    shipping = price_line(1, shipping_cents, default if shipping_tax_class is None else shipping_tax_class, country)
    net = _whole(sum(p["amount_cents"] for p in priced), "net_cents")
    tax = _whole(sum(p["tax_cents"] for p in priced) + shipping["tax_cents"], "tax_cents")
    qty = _whole(sum(_whole(line["qty"], "qty") for line in lines), "qty")
    return {"lines": priced, "qty": qty, "net_cents": net,
            "shipping_cents": shipping["amount_cents"], "shipping_tax_cents": shipping["tax_cents"],
            "tax_cents": tax, "gross_cents": _whole(net + shipping["amount_cents"] + tax, "gross_cents")}


def priced_totals(lines: list[dict], country: str | None, shipping_cents: int = 0) -> dict:
    """order_totals for lines already priced by price_line (each with its amount_cents and
    tax_cents): the same sums without pricing every line again."""
    default = pricing_rules()["default_tax_class"]
    net = sum(line["amount_cents"] for line in lines)
    shipping_tax = tax_cents(_unit(shipping_cents, "shipping_cents"), tax_rate_bp(default, country))
    tax = sum(line["tax_cents"] for line in lines) + shipping_tax
    return {"net_cents": net, "qty": sum(line["qty"] for line in lines), "shipping_cents": shipping_cents,
            "tax_cents": tax, "gross_cents": net + shipping_cents + tax}


# ------------------------------------------------------------------ prices

def list_price(product: dict, currency: str) -> int | None:
    """The product's list price (net) in `currency`, or None when it has none there."""
    price = (product.get("list_prices") or {}).get(currency)
    return price if type(price) is int else None


def _day(on_date) -> str:
    return on_date.isoformat() if isinstance(on_date, dt.date) else str(on_date)


def applies(price_list: dict, customer: dict | None, currency: str, on_date) -> bool:
    """Whether `price_list` prices this customer's order in `currency` on `on_date` (a date or
    "YYYY-MM-DD"): same currency, valid_from <= day <= valid_to (both inclusive, either open),
    and made for this customer, for the customers a partner orders for (the profile's partner),
    for the customer's tier, or for everyone. A list is for one of these only (check_pricelist)."""
    day = _day(on_date)
    if price_list.get("currency") != currency:
        return False
    if price_list.get("valid_from") and day < price_list["valid_from"]:
        return False
    if price_list.get("valid_to") and day > price_list["valid_to"]:
        return False
    if price_list.get("customer"):
        return customer is not None and customer.get("_id") == price_list["customer"]
    if price_list.get("partner"):
        return customer is not None and customer.get("partner") == price_list["partner"]
    if price_list.get("tier"):
        return customer is not None and customer.get("tier") == price_list["tier"]
    return True


def quantity_break(breaks: list[dict] | None, qty: int) -> int | None:
    """The unit price of the break with the largest min_qty up to `qty` (None: no break reaches)."""
    reached = [b for b in breaks or () if b["min_qty"] <= qty]
    return max(reached, key=lambda b: b["min_qty"])["unit_cents"] if reached else None


def _specificity(price_list: dict) -> int:
    return (0 if price_list.get("customer") else 1 if price_list.get("partner")
            else 2 if price_list.get("tier") else 3)


def best_price(product: dict, price_lists: list[dict], customer: dict | None, qty: int, currency: str,
               on_date, country: str | None = None) -> tuple[int, str]:
    """(net unit price in cents, where it comes from: a price list's _id or LIST_PRICE).

    The lowest net price among the applicable lists' quantity breaks for this product; a list
    entered with tax is taken net at the product's rate for `country` (net_from_gross). Only when
    no applicable list prices the product at this quantity does the product's list price apply.
    At equal prices the most specific list is named (customer, then tier, then everyone's)."""
    sku = product.get("sku")
    found = []
    for price_list in price_lists:
        if not applies(price_list, customer, currency, on_date):
            continue
        unit = quantity_break((price_list.get("items") or {}).get(sku), qty)
        if unit is None:
            continue
        if price_list.get("prices_include_tax"):
            unit = net_from_gross(unit, tax_rate_bp(product.get("tax_class"), country))
        found.append((unit, _specificity(price_list), price_list["_id"]))
    if found:
        unit, _, source = min(found)
        return unit, source
    unit = list_price(product, currency)
    if unit is None:
        raise InvalidInput(f"{sku} has no price in {currency}: neither a list price nor a price list for it")
    return unit, LIST_PRICE


# ------------------------------------------------------------------ discounts and approval

def discount_bp(list_price_cents: int, unit_cents: int) -> int:
    """How far `unit_cents` is below `list_price_cents`, in basis points, rounded UP: so comparing
    it with a whole-bp limit is exact (14.991% is 1500 and within a 1500 limit; 15.001% is 1501
    and beyond it). A price at or above the list price, or a list price of 0, is no discount."""
    base, unit = _unit(list_price_cents, "list_price_cents"), _unit(unit_cents, "unit_price_cents")
    if base == 0 or unit >= base:
        return 0
    return ((base - unit) * 10000 + base - 1) // base


def discount_limit_bp(level: str, roles) -> int:
    """The largest discount this person may give without price approval: the larger of their ACL
    level's limit and their roles' (none listed: 0)."""
    limits = pricing_rules()["discount_limits_bp"]
    found = [limits["levels"].get(level, 0) if isinstance(level, str) else 0]
    found += [limits["roles"].get(role, 0) for role in roles or () if isinstance(role, str)]
    return max(found)


def lines_beyond_limit(lines: list[dict], level: str, roles) -> list[int]:
    """Indexes of the lines discounted beyond the person's limit. Each line: "unit_price_cents"
    and "list_price_cents", the price the desk offered (best_price): prices from price lists are
    already agreed, only what the person takes off them counts."""
    limit = discount_limit_bp(level, roles)
    return [i for i, line in enumerate(lines)
            if discount_bp(line.get("list_price_cents"), line.get("unit_price_cents")) > limit]


def needs_price_approval(lines: list[dict], level: str, roles) -> bool:
    """Some line is discounted beyond the person's limit: the order waits in price approval."""
    return bool(lines_beyond_limit(lines, level, roles))


def beyond_ceiling(gross_cents: int, currency: str) -> bool:
    """The order's gross value is above its currency's ceiling: it needs approval."""
    ceilings = pricing_rules()["order_ceiling_cents"]
    if not isinstance(currency, str) or currency not in ceilings:
        raise InvalidInput(f"currency must be one of {', '.join(pricing_rules()['currencies'])}, not {_js(currency)}")
    return _whole(gross_cents, "gross_cents") > ceilings[currency]


# ------------------------------------------------------------------ products and price lists

def _real_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
        return True
    except ValueError:
        return False


def _price_problem(where: str, value) -> str | None:
    try:
        _unit(value, where)
        return None
    except InvalidInput:
        return f"{where} must be a whole number of cents from 0 to {_max_unit_cents()}, e.g. 1250"


def check_product(doc: dict) -> list[str]:
    """What is wrong with a product document, as sentences (none: fine). The shape first
    (rules/schema.json "product", its first problem, as for an order); on a sound shape, every
    problem the shape cannot say: the _id, the currencies and prices, the tax class."""
    problem = schema.check(doc, "product")
    if problem:
        return [problem]
    problems = []
    if doc.get("_id") != "product:" + doc["sku"]:
        problems.append(f'_id must be "product:" + sku = {_js("product:" + doc["sku"])}')
    currencies = pricing_rules()["currencies"]
    for currency, price in doc["list_prices"].items():
        if currency not in currencies:
            problems.append(f"list_prices.{currency}: we sell in {', '.join(currencies)}, not {_js(currency)}")
        else:
            problems.append(_price_problem(f"list_prices.{currency}", price))
    if doc["tax_class"] not in pricing_rules()["tax_classes"]:
        problems.append(f"tax_class must be one of {', '.join(pricing_rules()['tax_classes'])}, "
                        f"not {_js(doc['tax_class'])}")
    return [p for p in problems if p]


def check_pricelist(doc: dict) -> list[str]:
    """What is wrong with a price list document, as sentences (none: fine): the shape
    (rules/schema.json "pricelist"), then the currency, whom it is for, its dates and its items:
    each a product's sku with quantity breaks [{"min_qty", "unit_cents"}], distinct min_qty."""
    problem = schema.check(doc, "pricelist")
    if problem:
        return [problem]
    problems = []
    currencies = pricing_rules()["currencies"]
    if doc["currency"] not in currencies:
        problems.append(f"currency: we sell in {', '.join(currencies)}, not {_js(doc['currency'])}")
    if sum(1 for k in ("tier", "customer", "partner") if doc.get(k)) > 1:
        problems.append("A price list is for one customer, one partner's customers or a tier, not several: "
                        "keep one of customer, partner and tier")
    for field in ("valid_from", "valid_to"):
        if doc.get(field) and not _real_date(doc[field]):
            problems.append(f"{field} must be a real date like \"2026-01-31\", not {_js(doc[field])}")
    start, end = doc.get("valid_from"), doc.get("valid_to")
    if start and end and _real_date(start) and _real_date(end) and start > end:
        problems.append(f"valid_to ({end}) must not be before valid_from ({start})")
    sku_pattern = schema.pattern("product", "sku")
    most = rules.schema()["order"]["lines[].qty"]["max"]   # no break beyond the largest line
    for sku, breaks in doc["items"].items():
        where = f"items.{sku}"
        if not sku_pattern.search(sku):
            problems.append(f"items: {_js(sku)} is not a product code like \"WID-100\"")
            continue
        if not isinstance(breaks, list) or not breaks:
            problems.append(f'{where} must be a list of quantity breaks like [{{"min_qty": 1, "unit_cents": 1250}}]')
            continue
        seen = set()
        for k, brk in enumerate(breaks):
            if not isinstance(brk, dict):
                problems.append(f'{where}[{k}] must be a quantity break like {{"min_qty": 1, "unit_cents": 1250}}')
                continue
            qty = brk.get("min_qty")
            if type(qty) is not int or not 1 <= qty <= most:
                problems.append(f"{where}[{k}].min_qty must be a whole number from 1 to {most}, e.g. 10")
            elif qty in seen:
                problems.append(f"{where}[{k}].min_qty {qty} appears twice: one price per quantity")
            else:
                seen.add(qty)
            problems.append(_price_problem(f"{where}[{k}].unit_cents", brk.get("unit_cents")))
    return [p for p in problems if p]


# ------------------------------------------------------------------ an order's tax, as the server checks it

def order_tax_problem(doc: dict) -> str | None:
    """The first thing wrong with a priced order's tax and totals, as validate_doc_update says it
    (lib/pricing.js orderTaxProblem): each line's rate is its tax class's for the ship-to country,
    its tax is its amount at that rate (per line, half-up), and totals add net, shipping and tax
    to gross. An order kept from before the catalog (no gross total, no line tax) has none."""
    totals, lines = doc.get("totals") or {}, doc.get("lines") or []
    taxed = [i for i, l in enumerate(lines) if "tax_cents" in l or "tax_rate_bp" in l or "tax_class" in l]
    if "gross_cents" not in totals:
        if taxed or "tax_cents" in totals:
            return "totals.gross_cents is required on an order whose lines carry tax"
        return None
    country = (doc.get("ship_to") or {}).get("country")
    tax_sum = 0
    for i, line in enumerate(lines):
        cls = line.get("tax_class")
        if cls not in pricing_rules()["tax_classes"]:
            return f"lines[{i}].tax_class must be one of {', '.join(pricing_rules()['tax_classes'])}, not {_js(cls)}"
        rate = tax_rate_bp(cls, country)
        if line.get("tax_rate_bp") != rate:
            return (f"lines[{i}].tax_rate_bp must be {rate} ({cls} shipped to {country or 'the home country'}), "
                    f"not {_js(line.get('tax_rate_bp'))}")
        want = tax_cents(line["amount_cents"], rate)
        if line.get("tax_cents") != want:
            return f"lines[{i}].tax_cents must be amount_cents at {rate} bp = {want}, not {_js(line.get('tax_cents'))}"
        tax_sum += want
    shipping = totals.get("shipping_cents", 0)
    tax_sum += tax_cents(shipping, tax_rate_bp(pricing_rules()["default_tax_class"], country))
    if totals.get("tax_cents") != tax_sum:
        return f"totals.tax_cents must be the lines' tax and shipping's = {tax_sum}, not {_js(totals.get('tax_cents'))}"
    gross = totals["net_cents"] + shipping + tax_sum
    if totals["gross_cents"] != gross:
        return f"totals.gross_cents must be net + shipping + tax = {gross}, not {_js(totals['gross_cents'])}"
    return None
