"""The partner API under schemathesis: its operations of /api/openapi.json, with
generated valid and invalid input, as a partner's person (alice@acme, who works in the partner's
own database), answer as documented and never with a server error. Sizes and flags:
tests/fuzzing.py."""
from __future__ import annotations

import pytest
from schemathesis import GenerationMode

from tests import fuzzing
from webapp.api import openapi

PARTNER_OPERATIONS = [(path, method) for path, ops in openapi.PATHS.items() for method in ops
                      if path.startswith("/api/v1/partner/")]


@pytest.fixture(scope="module")
def schema(rapp):
    return fuzzing.load(rapp)


@pytest.fixture(scope="module")
def known(rapp):
    listing = rapp.test_client().get("/api/v1/partner/orders", auth=("alice@acme", "demo")).get_json()
    return {"number": [o["number"] for o in listing["orders"]][:20]}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("path,method", PARTNER_OPERATIONS,
                         ids=[openapi.PATHS[p][m]["operationId"] for p, m in PARTNER_OPERATIONS])
def test_every_partner_operation_answers_as_documented_and_never_with_a_server_error(schema, known, path, method, mode):
    plant = {"customer": ["ACME-01"], "sku": ["WID-100", "GAD-310"], "qty": [1, 3], "unit_price": ["4.50", 12]}
    statuses = fuzzing.fuzz(fuzzing.operation(schema, path, method), fuzzing.basic("alice@acme"), mode,
                            known=known, plant=plant)
    assert 401 not in statuses, "the partner's credentials were refused: the fuzz tested only the sign-in"
