"""The order shape is checked twice, in the app (oms/schema.py, for a 400 before writing) and by
CouchDB (lib/schema.js in validate_doc_update): both read rules/schema.json and must give the same
sentence for the same document."""
import copy

import pytest

from oms import schema
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
