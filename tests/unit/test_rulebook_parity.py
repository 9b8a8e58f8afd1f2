"""Python (which builds the action bar and answers 400s) and validate_doc_update (which has the
last word) read the same rulebook; these tests fail if they ever disagree. They run the real
design-document JavaScript under node, every state x every field, every state x every action."""
import copy

from oms.core import rules
from oms.core.errors import InvalidInput
from oms.identity.acl import Access
from oms.ordering import workflow
from tests import designjs
from tests.unit.test_schema_parity import GOOD

NOW = "2026-11-25T12:00:00Z"
EDITOR = Access("erin", "editor", ("[Sales]", "[Credit]", "[Warehouse]", "[Shipping]", "[Billing]", "[Manager]"))
USER_CTX = {"name": EDITOR.name, "roles": EDITOR.couch_roles()}
SAMPLE = {"notes": "n", "promised_date": "2027-01-31", "priority": 1, "readers": ["erin"],
          "authors": ["erin"], "currency": "USD", "customer": {"id": "customer:C0002", "name": "Globex"},
          "credit": {"ok": True}, "allocations": [], "backorders": [], "invoice": {"no": "I1"},
          "shipped": [], "ship_to": {"name": "Globex, Goods in", "city": "Lyon", "country": "FR"}, "return": {"r": 1}, "partner": "acme", "created_by": "mallory",
          "number": "SO-999999"}


def order_in(state):
    doc = copy.deepcopy(GOOD)
    doc.update(status=state, authors=["erin"], held_from="approved", _rev="1-a")
    doc["history"][0]["to"] = state
    return doc


def python_allows(doc, action, changes):
    try:
        workflow.apply(EDITOR, doc, action, NOW, reason="r", changes=changes)
        return True
    except InvalidInput:
        return False


def hand_built(doc, action, changes):
    """The next revision as any client could build it, without the app's checks."""
    t = workflow.transition(action) if action != "edit" else None
    to = doc["status"] if t is None else workflow.target(t, doc)
    new = copy.deepcopy(doc)
    new.update(changes)
    if action == "amend":
        new["version"] = doc["version"] + 1
    new.update(status=to, updated_by="erin", updated_at=NOW)
    new["history"] = doc["history"] + [workflow.history_entry(EDITOR, NOW, action, doc["status"], to, "r")]
    return new


def compare(cases):
    results = designjs.run([{"kind": "validate", "newDoc": hand_built(d, a, c), "oldDoc": d, "userCtx": USER_CTX}
                            for d, a, c in cases])
    return [(a, d["status"], sorted(c), python_allows(d, a, c), r.get("ok", False), r)
            for (d, a, c), r in zip(cases, results)]


def test_every_field_edit_in_every_state_is_judged_alike():
    cases = [(order_in(s), "edit", {f: v}) for s in rules.workflow()["states"] for f, v in SAMPLE.items()]
    disagreements = [c for c in compare(cases) if c[3] != c[4]]
    assert not disagreements, disagreements[:5]
    # and the rulebook really does forbid something: the creator never changes
    assert not any(c[4] for c in compare([(order_in("draft"), "edit", {"created_by": "mallory"})]))


def test_every_action_from_every_state_is_judged_alike():
    cases = [(order_in(s), t["name"], {}) for s in rules.workflow()["states"] for t in rules.workflow()["transitions"]]
    results = compare(cases)
    disagreements = [c for c in results if c[3] != c[4]]
    assert not disagreements, disagreements[:5]
    assert sum(1 for c in results if c[4]) == sum(len(t["from"]) for t in rules.workflow()["transitions"])


def chained(doc, steps):
    """Several steps in one revision, as Python's workflow.apply builds them one after another."""
    for action, changes in steps:
        doc = workflow.apply(EDITOR, doc, action, NOW, reason="r", changes=changes)
    return doc


def judged(old, new, user_ctx=USER_CTX):
    return designjs.run([{"kind": "validate", "newDoc": new, "oldDoc": old, "userCtx": user_ctx}])[0]


def test_steps_taken_together_in_one_write_are_each_judged_as_a_step():
    old = order_in("submitted")
    new = chained(old, [("approve", {"credit": {"ok": True}}),
                        ("allocate", {"allocations": [{"line": 1, "sku": "WID-100", "warehouse": "MAIN", "qty": 1}]})])
    assert [h["action"] for h in new["history"][-2:]] == ["approve", "allocate"] and new["status"] == "allocated"
    assert judged(old, new).get("ok"), judged(old, new)


def test_a_chain_with_a_step_the_writer_may_not_take_is_refused():
    old = order_in("submitted")
    new = chained(old, [("approve", {}), ("allocate", {})])
    credit_only = {"name": "carl", "roles": [r for r in USER_CTX["roles"] if r != "[Warehouse]"]}
    new = {**new, "updated_by": "carl",
           "history": [*new["history"][:-2], *({**h, "by": "carl"} for h in new["history"][-2:])]}
    assert not judged(old, new, {"name": "carl", "roles": ["[Credit]", "editor"]}).get("ok")
    assert "Allocate" in str(judged(old, new, credit_only))


def test_a_chain_must_join_up_and_keep_its_own_writes_apart():
    old = order_in("submitted")
    new = chained(old, [("approve", {}), ("allocate", {})])
    broken = {**new, "history": [*new["history"][:-1], {**new["history"][-1], "from": "submitted"}]}
    assert "must read from" in str(judged(old, broken))
    edit = chained(old, [("approve", {})])
    edit["history"].append(workflow.history_entry(EDITOR, NOW, "edit", "approved", "approved"))
    assert "write of its own" in str(judged(old, edit))
    held = chained(order_in("approved"), [("hold", {})])
    release = chained(held, [("release", {})])
    both = {**release, "history": release["history"]}
    assert "write of its own" in str(judged(order_in("approved"), both))
    assert judged(held, release).get("ok")


def test_a_field_no_step_of_the_chain_may_change_is_refused():
    old = order_in("submitted")
    new = chained(old, [("approve", {}), ("allocate", {})])
    new["created_by"] = "mallory"
    assert "created_by cannot change" in str(judged(old, new))
