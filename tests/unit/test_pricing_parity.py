"""The app prices an order with oms/catalog/pricing.py; validate_doc_update will check it with
lib/pricing.js. Both read rules/pricing.json and must give the same cents, the same yes/no and,
for a bad input, the same sentence: here they are run side by side on the same inputs (the
JavaScript as deploy compiles it, under node)."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.catalog import pricing
from oms.core import rules
from oms.core.errors import InvalidInput
from tests import designjs

PY = {"taxRateBp": pricing.tax_rate_bp, "taxCents": pricing.tax_cents, "netFromGross": pricing.net_from_gross,
      "priceLine": pricing.price_line, "orderTotals": pricing.order_totals, "discountBp": pricing.discount_bp,
      "discountLimitBp": pricing.discount_limit_bp, "linesBeyondLimit": pricing.lines_beyond_limit,
      "needsPriceApproval": pricing.needs_price_approval, "beyondCeiling": pricing.beyond_ceiling}


def python(fn, args):
    try:
        return {"value": PY[fn](*args)}
    except InvalidInput as e:
        return {"error": str(e)}


def javascript(calls):
    results = designjs.run([{"kind": "call", "module": "lib/pricing", "fn": fn, "args": args} for fn, args in calls])
    out = []
    for r in results:
        if r.get("ok"):
            out.append({"value": r.get("value")})
        else:
            first = r.get("error", repr(r)).split("\n")[0]
            out.append({"error": first[len("Error: "):] if first.startswith("Error: ") else first})
    return out


def assert_same(calls):
    # Through JSON, as a document reaches either side: tuples become lists, 3.0 stays 3.0.
    calls = json.loads(json.dumps(calls))
    js = javascript(calls)
    disagreements = [(fn, args, py, j) for (fn, args), j in zip(calls, js) if (py := python(fn, args)) != j]
    assert not disagreements, disagreements[:3]


BOOK = rules.rules()["pricing"]
MAX = pricing.MAX_CENTS
UNIT_MAX = rules.schema()["order"]["lines[].unit_price_cents"]["max"]
COUNTRIES = sorted(BOOK["tax_rates_bp"]) + ["XX", "de", "", None, "constructor", "__proto__", "hasOwnProperty"]
CLASSES = BOOK["tax_classes"] + ["luxury", "", None, "constructor", "toString"]
CURRENCIES = list(BOOK["currencies"]) + ["JPY", "eur", "", None, "constructor"]
LEVELS = rules.acl()["levels"] + ["nobody", None, "constructor"]
ROLES = rules.acl()["roles"] + ["[Nobody]", "constructor", "__proto__"]
EDGES = [0, 1, 2, 3, 49, 50, 150, 4999, 5000, 5001, 9999, 10000, 10001, UNIT_MAX - 1, UNIT_MAX, UNIT_MAX + 1,
         MAX // 10000, MAX - 1, MAX, MAX + 1, -1]

cents = st.one_of(st.integers(0, 100_000), st.integers(0, UNIT_MAX + 10), st.sampled_from(EDGES))
odd = st.one_of(st.none(), st.booleans(), st.just(2.5), st.just("100"), st.integers(0, 1000).map(float),
                st.integers(-(2**60), 2**60))
amount = st.one_of(cents, cents, cents, odd)
qty = st.one_of(st.integers(0, 50), st.integers(0, 1_000_000), st.sampled_from(EDGES), odd)
rate = st.one_of(st.sampled_from([0, 500, 550, 700, 900, 1900, 2000, 2100, 10000]), st.integers(0, 10000),
                 st.sampled_from([-1, 10001]))
country = st.sampled_from(COUNTRIES)
tax_class = st.one_of(st.sampled_from(BOOK["tax_classes"]), st.sampled_from(CLASSES))
line = st.fixed_dictionaries({"qty": st.one_of(st.integers(1, 1000), qty), "unit_price_cents": amount},
                             optional={"tax_class": tax_class})
roles = st.lists(st.sampled_from(ROLES), max_size=3)
offer = st.fixed_dictionaries({"list_price_cents": amount, "unit_price_cents": amount})

call = st.one_of(
    st.tuples(st.just("taxRateBp"), st.tuples(tax_class, country)),
    st.tuples(st.just("taxCents"), st.tuples(st.one_of(cents, st.integers(0, MAX + 1), odd), rate)),
    st.tuples(st.just("netFromGross"), st.tuples(amount, rate)),
    st.tuples(st.just("priceLine"), st.tuples(qty, amount, tax_class, country)),
    st.tuples(st.just("orderTotals"), st.tuples(st.lists(line, max_size=6), country, amount,
                                               st.one_of(st.none(), tax_class))),
    st.tuples(st.just("discountBp"), st.tuples(amount, amount)),
    st.tuples(st.just("discountLimitBp"), st.tuples(st.sampled_from(LEVELS), roles)),
    st.tuples(st.just("linesBeyondLimit"), st.tuples(st.lists(offer, max_size=5), st.sampled_from(LEVELS), roles)),
    st.tuples(st.just("needsPriceApproval"), st.tuples(st.lists(offer, max_size=5), st.sampled_from(LEVELS), roles)),
    st.tuples(st.just("beyondCeiling"), st.tuples(st.one_of(amount, st.integers(4_000_000, 5_000_002)),
                                                  st.sampled_from(CURRENCIES))),
)


def test_deploy_embeds_the_pricing_lib_and_its_rules():
    lib = designjs.ddoc()["lib"]
    assert "pricing" in lib and lib["pricing_rules"].startswith("module.exports = ")


# Each example is a batch of calls, so node is asked once for many of them.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(call, min_size=1, max_size=40))
def test_python_and_couchdb_price_alike(calls):
    assert_same(calls)


def test_every_rate_in_the_rulebook_is_read_alike():
    assert_same([("taxRateBp", (c, n)) for c in CLASSES for n in COUNTRIES])


def near_half(candidates, numerator, denominator, most=12):
    """The first `most` candidates x whose numerator(x) / denominator falls on a half, or a hair
    either side of one: where half-up, half-even and an off-by-one division part ways."""
    found = []
    for x in candidates:
        if (2 * numerator(x)) % (2 * denominator) in (denominator - 2, denominator, denominator + 2):
            found.append(x)
            if len(found) == most:
                break
    return found


RATES = sorted({bp for rates in BOOK["tax_rates_bp"].values() if isinstance(rates, dict) for bp in rates.values()}
               | {1, 3, 5000, 9999, 10000})


def test_rounding_agrees_at_every_rate_on_halves_small_and_near_2_to_53():
    """Half-up at the cent, where the JavaScript divides in whole numbers: line amounts whose tax
    falls on a half cent (or next to one), small and near 2^53, at every rate of the rulebook."""
    calls = []
    for bp in RATES:
        for base in (0, 10000 * 12345, MAX - 19999 - (MAX % 10000)):
            calls += [("taxCents", (base + r, bp)) for r in near_half(range(20000), lambda r: r * bp, 10000)]
            calls += [("taxCents", (base + r, bp)) for r in range(0, 20000, 997)]
        calls.append(("taxCents", (MAX, bp)))
    assert len(calls) > 400
    assert_same(calls)


def test_gross_prices_agree_at_every_rate_on_halves():
    calls = []
    for bp in RATES:
        d = 10000 + bp
        calls += [("netFromGross", (g, bp)) for g in near_half(range(200_000), lambda g: g * 10000, d)]
        calls += [("netFromGross", (g, bp)) for g in near_half(range(UNIT_MAX, UNIT_MAX - 200_000, -1), lambda g: g * 10000, d, 3)]
        calls += [("netFromGross", (g, bp)) for g in list(range(0, 60)) + [UNIT_MAX - 1, UNIT_MAX, UNIT_MAX + 1]]
    assert len(calls) > 500
    assert_same(calls)


def test_discounts_agree_around_every_limit():
    limits = sorted(set(BOOK["discount_limits_bp"]["levels"].values()) | set(BOOK["discount_limits_bp"]["roles"].values()))
    calls = []
    for base in (1, 3, 7, 999, 1000, 1001, 12345, UNIT_MAX):
        for bp in limits:
            unit = base - base * bp // 10000
            calls += [("discountBp", (base, u)) for u in range(max(0, unit - 2), min(base, unit + 2) + 1)]
    assert_same(calls)


def test_the_parity_check_sees_a_difference():
    """The comparison itself must be able to fail: a Python figure off by a cent is caught."""
    js = javascript([("taxCents", [150, 1900])])
    assert js == [{"value": 29}]
    assert python("taxCents", [150, 1900]) == js[0]
    assert {"value": 28} != js[0]
