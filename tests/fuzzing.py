"""Schemathesis against the app's own OpenAPI document (/api/openapi.json), run through the WSGI
app on the real servers: every operation gets generated input (valid by the schema, and invalid),
and every answer must be documented and never a server error.

Size: OMS_FUZZ_EXAMPLES examples per operation, mode (valid / invalid input) and caller (default
15: the staff fuzz, 132 runs, takes about 30 s on 2 cores); OMS_BIG=1 raises the default to 200. The examples
are derandomized, so CI runs the same inputs every time; OMS_FUZZ_SEED=<n> runs other ones."""
from __future__ import annotations

import base64
import os
from collections import Counter

import hypothesis
from hypothesis import HealthCheck, Phase, given, strategies as st

import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)

BIG = os.environ.get("OMS_BIG") == "1"
EXAMPLES = int(os.environ.get("OMS_FUZZ_EXAMPLES") or (200 if BIG else 15))
SEED = os.environ.get("OMS_FUZZ_SEED")
# OMS_FUZZ_REPORT=1 (with pytest -s): per operation, how often each status came back and the most
# frequent problem details: where the generated input stops (to make the fuzz reach further).
REPORT = os.environ.get("OMS_FUZZ_REPORT") == "1"

def invalid_json_rejection(ctx, response, case):
    """negative_data_rejection where invalid data can travel: a text/csv body is text whatever
    the generator turned it into (an array sent as text/csv is a CSV of one odd column)."""
    if case.media_type and "json" not in case.media_type:
        return None
    return negative_data_rejection(ctx, response, case)


POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance, invalid_json_rejection]


def basic(name: str, password: str = "demo") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def load(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def operation(schema, path: str, method: str):
    return schema[path][method.upper()]


def planted(strategy, plant: dict):
    """Cases of `strategy` whose JSON body has, half of the time, real values in the fields named
    in `plant` ({field: [values]}, at any depth): a random customer id or SKU only ever meets
    "unknown customer", a real one goes on to the credit check, the stock, the workflow."""
    def swap(value, draw):
        if isinstance(value, dict):
            return {k: draw(st.sampled_from(plant[k])) if k in plant else swap(v, draw) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v, draw) for v in value]
        return value

    @st.composite
    def cases(draw):
        case = draw(strategy)
        if isinstance(case.body, (dict, list)) and draw(st.booleans()):
            case.body = swap(case.body, draw)
        return case
    return cases()


def fuzz(op, headers: dict, mode: GenerationMode, known: dict | None = None, plant: dict | None = None,
         examples: int = EXAMPLES) -> Counter:
    """Run `examples` generated cases of one operation with these credentials; returns how
    often each status came back.
    known: {path parameter: [values]} to draw from besides generated values (real order
    numbers, SKUs...), so the fuzz also reaches past the 404 of a random identifier.
    plant: {body field: [values]} put into valid bodies (see planted()); never into invalid
    ones, which must stay invalid for the negative checks."""
    strategy = op.as_strategy(generation_mode=mode)
    known = {name: values for name, values in (known or {}).items()
             if any(p.name == name for p in op.path_parameters)}
    if known:
        params = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items()})
        strategy = st.one_of(strategy, params.flatmap(
            lambda p: op.as_strategy(generation_mode=mode, path_parameters=p)))
    if plant and mode == GenerationMode.POSITIVE:
        strategy = planted(strategy, plant)
    statuses: Counter = Counter()
    details: Counter = Counter()
    checks = POSITIVE_CHECKS if mode == GenerationMode.POSITIVE else NEGATIVE_CHECKS

    @hypothesis.settings(max_examples=examples, deadline=None, database=None, derandomize=SEED is None,
                         phases=[Phase.explicit, Phase.generate, Phase.shrink], print_blob=False,
                         suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call_and_validate(headers=headers, checks=checks)
        statuses[response.status_code] += 1
        if REPORT and response.status_code >= 400:
            try:
                details[(response.status_code, str(response.json().get("detail"))[:90])] += 1
            except Exception:  # not JSON
                pass

    if SEED is not None:
        run = hypothesis.seed(int(SEED))(run)
    run()
    if REPORT:
        print(f"\n{op.label} {mode.value}: {dict(sorted(statuses.items()))}")
        for (status, detail), n in details.most_common(4):
            print(f"    {n:3d} x {status} {detail}")
    return statuses
