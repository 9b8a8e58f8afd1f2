"""The API under schemathesis: every operation of /api/openapi.json, with generated
valid and invalid input, as a Manager (sees everything), as a Sales Author and with an API token,
answers as documented and never with a server error. Sizes and flags: tests/fuzzing.py.

It runs in a database of its own (seeded like the demo), because the fuzz creates orders,
customers, stock and comments that tests counting things in the shared database should not see."""
from __future__ import annotations

import pytest
from schemathesis import GenerationMode

from tests import fuzzing
from webapp.api import openapi

STAFF_OPERATIONS = [(path, method) for path, ops in openapi.PATHS.items() for method in ops
                    if not path.startswith("/api/v1/partner/")]
# A Manager with every role; a Sales Author (Authors fields decide her orders); an integration's
# API token (Bearer) at Editor level with the [Warehouse] role, as a WMS would hold.
CALLERS = ["mia", "sally", "wms-token"]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.fixture(scope="module")
def fuzz_app(stack, server, settings):
    from couch_design.deploy import deploy
    from oms.devstack.seed import seed
    from webapp import create_app
    s = settings.with_(db_name=settings.db_name + "_fuzz")
    deploy(server.admin(s.db_name), progress=lambda *_: None, namespace=s.namespace)
    seed(server, s, orders=8, progress=lambda *_: None)
    # Many generated requests carry wrong credentials on purpose: no throttling here.
    yield create_app({"TESTING": True, "OMS_THROTTLE": {"max_failures": 10_000}}, settings=s)
    server.request("DELETE", f"/{s.db_name}")


@pytest.fixture(scope="module")
def credentials(fuzz_app, server, settings):
    from oms.identity import tokens
    from oms.identity.acl import Access
    s = settings.with_(db_name=settings.db_name + "_fuzz")
    token, _ = tokens.issue(server.admin(s.db_name), server, s.secret_key, Access("mia", "manager", ()),
                            "fuzz-wms", "editor", ["[Warehouse]"], namespace=s.namespace)
    return {"mia": fuzzing.basic("mia"), "sally": fuzzing.basic("sally"),
            "wms-token": {"Authorization": f"Bearer {token}"}}


@pytest.fixture(scope="module")
def schema(fuzz_app):
    return fuzzing.load(fuzz_app)


@pytest.fixture(scope="module")
def known(fuzz_app, server, settings):
    """Real identifiers of the fuzz database, drawn besides random ones."""
    from oms.devstack import seed
    db = server.admin(settings.db_name + "_fuzz")
    rows = db.all_docs(start_key="order:", end_key="order:\ufff0", limit=20)["rows"]
    numbers = [r["id"].split(":", 1)[1] for r in rows]
    return {"number": numbers, "sku": [sku for sku, *_ in seed.PRODUCTS],
            "warehouse": ["MAIN", "EAST"], "ref": [cid for cid, *_ in seed.CUSTOMERS],
            "name": ["all_orders", "by_status", "by_customer"]}


@pytest.fixture(scope="module")
def plant(known):
    """Real values for body fields, so valid bodies also reach the credit check, the stock and
    the workflow (tests/fuzzing.py planted())."""
    from oms.core import rules
    actions = sorted({t["name"] for t in rules.workflow()["transitions"]} | {"edit", "amend"})
    return {"customer": known["ref"], "sku": known["sku"], "warehouse": known["warehouse"],
            "action": actions, "line": [1, 2], "status": ["draft", "submitted"], "qty": [1, 2, 5, 40],
            "unit_price": ["4.50", 12, "0.15", "39.90"], "promised_date": ["2027-03-01", "2026-12-24"],
            "currency": ["EUR"], "on_hand": [0, 50, 400]}


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("name", CALLERS)
@pytest.mark.parametrize("path,method", STAFF_OPERATIONS,
                         ids=[openapi.PATHS[p][m]["operationId"] for p, m in STAFF_OPERATIONS])
def test_every_operation_answers_as_documented_and_never_with_a_server_error(schema, credentials, known, plant,
                                                                           path, method, name, mode):
    statuses = fuzzing.fuzz(fuzzing.operation(schema, path, method), credentials[name], mode, known=known,
                            plant=plant)
    assert 401 not in statuses, "the fuzz's credentials were refused: it tested only the sign-in"
