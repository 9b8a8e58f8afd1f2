"""The order shape is checked twice, in the app (oms/core/schema.py, for a 400 before writing) and by
CouchDB (lib/schema.js in validate_doc_update): both read rules/schema.json and must give the same
sentence for the same document."""
import copy

import pytest

from oms.core import rules, schema
from tests import designjs

GOOD = {
    "_id": "order:SO-000123", "type": "order", "number": "SO-000123",
    "customer": {"id": "customer:C0001", "name": "Acme Ltd"},
    "lines": [{"line": 1, "sku": "WID-100", "qty": 3, "unit_price_cents": 1250, "amount_cents": 3750}],
    "totals": {"net_cents": 3750, "qty": 3}, "currency": "EUR", "status": "draft", "priority": 3,
    "version": 1, "created_by": "sally", "created_at": "2026-11-25T10:00:00Z",
    "updated_by": "sally", "updated_at": "2026-11-25T10:00:00Z",
    "history": [{"at": "2026-11-25T10:00:00Z", "by": "sally", "action": "create", "from": None, "to": "draft"}],
    "authors": ["sally"],
}


def broken(path, value):
    doc = copy.deepcopy(GOOD)
    node, keys = doc, path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return doc


CASES = [
    ("number", "SO-1"), ("number", KeyError), ("customer", "Acme"), ("customer.id", "C0001"),
    ("customer.name", ""), ("lines", []), ("lines.0.sku", "wid 100"), ("lines.0.qty", 0),
    ("lines.0.qty", 2.5), ("lines.0.qty", "3"), ("lines.0.unit_price_cents", -1),
    ("lines.0.amount_cents", 3751), ("totals.net_cents", 1), ("totals.qty", 4), ("status", "lost"),
    ("priority", 9), ("currency", "euro"), ("promised_date", "24/12/2026"), ("history", []),
    ("history.0.by", KeyError), ("readers", "sally"), ("_id", "order:SO-999999"), ("version", 0),
    ("notes", "x" * 4001),
]


def js_problem(doc):
    result = designjs.run([{"kind": "call", "module": "lib/schema", "fn": "check", "args": [doc, "order"]}])[0]
    if result["value"]:
        return result["value"]
    return designjs.run([{"kind": "call", "module": "lib/schema", "fn": "checkOrderSums", "args": [doc]}])[0]["value"]


def test_a_good_order_passes_both_checks():
    assert schema.order_problem(GOOD) is None
    assert js_problem(GOOD) is None


@pytest.mark.parametrize("path,value", CASES, ids=[f"{p}={v!r}"[:40] for p, v in CASES])
def test_python_and_couchdb_refuse_the_same_orders_with_the_same_sentence(path, value):
    doc = broken(path, value)
    py = schema.order_problem(doc)
    assert py, f"Python accepted a bad order ({path}={value!r})"
    assert py == js_problem(doc)


def test_messages_show_a_valid_value():
    assert 'like "SO-000123"' in schema.order_problem(broken("number", "SO-1"))
    assert "from 1 to 1000000" in schema.order_problem(broken("lines.0.qty", 0))


# The compiled rules (oms/core/schema.py) against the rulebook read step by step: any document, good
# or broken anywhere (a value of the wrong type, a missing field, a list where an object belongs),
# gets the same answer, word for word.
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st  # noqa: E402

PATHS = ["number", "customer", "customer.id", "customer.name", "lines", "lines.0", "lines.0.sku", "lines.0.qty",
         "lines.0.unit_price_cents", "lines.0.amount_cents", "lines.0.description", "lines.0.shipped_qty", "lines.1",
         "totals", "totals.net_cents", "totals.qty", "currency", "status", "priority", "version", "promised_date",
         "notes", "external_ref", "readers", "readers.0", "authors", "authors.0", "created_by", "created_at",
         "updated_by", "updated_at", "history", "history.0", "history.0.at", "history.0.by", "history.0.action"]


def edges():
    """Each bound of the rulebook, and one step past it: numbers, lengths of text and of lists."""
    out = set()
    for specs in rules.schema().values():
        if not isinstance(specs, dict):
            continue
        for spec in specs.values():
            for key in ("min", "max", "min_length", "max_length", "min_items", "max_items"):
                if isinstance(spec.get(key), int):
                    out.update({spec[key] - 1, spec[key], spec[key] + 1})
    return sorted(n for n in out if n >= -1)


EDGES = edges()
values = st.one_of(st.none(), st.booleans(), st.integers(-3, 2 * 10**9), st.floats(allow_nan=True),
                   st.sampled_from(EDGES), st.sampled_from(EDGES).map(float),
                   st.sampled_from([n for n in EDGES if 0 <= n <= 5000]).map(lambda n: "x" * n),
                   st.sampled_from([n for n in EDGES if 0 <= n <= 600]).map(lambda n: ["sally"] * n),
                   st.sampled_from(["", "SO-000001", "WID-100", "draft", "EUR", "2026-12-24", "x" * 4001, "sally",
                                    "2026-11-25T10:00:00Z", "customer:C1"]),
                   st.text(max_size=6), st.lists(st.integers(0, 3), max_size=2), st.just({}), st.just([{}]),
                   st.just(KeyError))


def put(doc, path, value):
    node, keys = doc, path.split(".")
    for k in keys[:-1]:
        try:
            node = node[int(k)] if k.isdigit() else node[k]
        except (KeyError, IndexError, TypeError, ValueError):
            return
    last = keys[-1]
    try:
        if value is KeyError:
            del node[int(last) if last.isdigit() else last]
        elif last.isdigit() and isinstance(node, list):
            idx = int(last)
            node[idx:idx + 1] = [value] if idx < len(node) else node.append(value) or []
        elif isinstance(node, dict):
            node[last] = value
    except (KeyError, IndexError, TypeError):
        pass


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), values), max_size=4))
def test_the_compiled_rules_give_the_rulebooks_answer_for_any_document(changes):
    doc = copy.deepcopy(GOOD)
    for path, value in changes:
        put(doc, path, value)
    assert schema.check(doc, "order") == schema.check_interpreted(doc, "order"), doc
    for doc_type in ("customer", "stock", "shipment"):
        assert schema.check(doc, doc_type) == schema.check_interpreted(doc, doc_type)


def test_the_compiled_rules_meet_every_bound_of_the_rulebook_on_every_path():
    samples = ([None, True, 2.5, float("nan"), "", "SO-000001", "WID-100", "wid 1", "draft", "lost", "EUR",
                "2026-12-24", "2026-11-25T10:00:00Z", {}, [{}], [1], KeyError]
               + EDGES + [float(n) for n in EDGES] + ["x" * n for n in EDGES if 0 <= n <= 5000]
               + [["sally"] * n for n in EDGES if 0 <= n <= 600])
    for path in PATHS:
        for value in samples:
            doc = copy.deepcopy(GOOD)
            put(doc, path, value)
            assert schema.check(doc, "order") == schema.check_interpreted(doc, "order"), (path, value)
