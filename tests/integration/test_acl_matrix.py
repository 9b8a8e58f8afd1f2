"""The Notes ACL and the workflow, enforced by CouchDB itself: every level x every transition x
own/other's order (x holding the transition's role or not), written straight to the server as that
person. The server must allow exactly what the rulebook allows, and Python (which builds the
action bar) must predict the server's answer for every cell."""
import copy
import itertools

import pytest

from oms.core import rules
from oms.identity.acl import Access
from oms.ordering import workflow
from oms.store.couch import CouchError, Forbidden
from tests.unit.test_schema_parity import GOOD

NOW = "2026-11-25T12:00:00Z"
LEVELS = rules.acl()["levels"]


def order_in(state: str, number: str, owner: str) -> dict:
    doc = copy.deepcopy(GOOD)
    doc.update(_id=f"order:{number}", number=number, status=state, authors=[owner], held_from="approved")
    doc["history"][0]["to"] = state
    return doc


def rulebook_allows(level: str, has_role: bool, own: bool, t: dict) -> bool:
    """The rulebook read by hand, independent of oms.ordering.workflow: Authors and up act; Authors only on
    orders naming them; the transition's role, or Manager level (override)."""
    idx = LEVELS.index
    if idx(level) < idx("author"):
        return False
    if idx(level) < idx("editor") and not own:
        return False
    return has_role or idx(level) >= idx(rules.workflow()["override_level"])


CELLS = [(lvl, has_role, own, t["name"]) for t in rules.workflow()["transitions"]
         for lvl, has_role, own in itertools.product(LEVELS, (True, False), (True, False))]


@pytest.fixture(scope="module")
def matrix_db(server, settings):
    """Its own database: the matrix writes ~500 orders the other tests' views should not see."""
    from couch_design.deploy import deploy
    name = settings.db_name + "_matrix"
    db = server.admin(name)
    deploy(db, progress=lambda *_: None, namespace=settings.namespace)
    return name, db


@pytest.fixture(scope="module")
def matrix(matrix_db, person, server, settings):
    from oms.identity import people
    db_name, admin_db = matrix_db

    def as_person(name, level, roles):
        access, _ = person(name, level=level, roles=roles)
        return access, people.open_as(server, settings.secret_key, db_name, name, settings.namespace)

    """Write one order per cell (as admin, in the transition's from-state), then try each cell's
    transition as a person of that level/role, straight against CouchDB."""
    results = {}
    docs = {}

    def persona(lvl, has_role, t):
        role = t["roles"][0] if has_role else None
        return f"mx-{lvl}-{role.strip('[]').lower() if role else 'none'}", (role,) if role else ()

    for n, (lvl, has_role, own, tname) in enumerate(CELLS):
        t = workflow.transition(tname)
        owner = persona(lvl, has_role, t)[0] if own else "someone-else"
        docs[n] = order_in(t["from"][0], f"SO-7{n:05d}", owner=owner)
    saved = admin_db.bulk(list(docs.values()))
    assert all("rev" in r for r in saved), [r for r in saved if "rev" not in r][:3]
    for n, (lvl, has_role, own, tname) in enumerate(CELLS):
        name, roles = persona(lvl, has_role, workflow.transition(tname))
        access, db = as_person(name, lvl, roles)
        doc = admin_db.get(docs[n]["_id"])
        new = workflow.apply(access, doc, tname, NOW, reason="matrix")
        try:
            db.save(new)
            results[n] = (True, None)
        except Forbidden as exc:
            results[n] = (False, exc.reason)
        except CouchError as exc:  # No Access: CouchDB's _security refuses before the VDU
            results[n] = (False, f"{exc.status}: {exc.reason}")
        results[n] += (access, doc)
    return results


@pytest.mark.parametrize("n", range(len(CELLS)), ids=[f"{c[0]}-{'role' if c[1] else 'norole'}-{'own' if c[2] else 'other'}-{c[3]}" for c in CELLS])
def test_the_server_allows_exactly_what_the_rulebook_allows(matrix, n):
    lvl, has_role, own, tname = CELLS[n]
    allowed, reason, access, doc = matrix[n]
    assert allowed == rulebook_allows(lvl, has_role, own, workflow.transition(tname)), reason
    if not allowed:
        assert reason and "Traceback" not in reason and len(reason) < 300


def test_python_predicts_every_cell_of_the_server_matrix(matrix):
    wrong = []
    for n, (allowed, reason, access, doc) in matrix.items():
        t = workflow.transition(CELLS[n][3])
        predicted = workflow.may_edit(access, doc) and workflow.may_take(access, t)
        if predicted != allowed:
            wrong.append((CELLS[n], reason))
    assert not wrong, wrong[:5]


def test_refusals_name_the_rule_that_refused(matrix):
    reasons = {CELLS[n]: r for n, (ok, r, *_) in matrix.items() if not ok}
    assert "may not change orders" in reasons[("reader", True, True, "submit")]
    assert "Authors field names you" in reasons[("author", True, False, "submit")]
    assert "[Credit] (or a Manager) may \"Approve credit\"" in reasons[("editor", False, True, "approve")]
