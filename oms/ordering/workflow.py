"""The order workflow from rules/workflow.json: which actions a person may take on an order, and
the new revision each action produces (with its history entry). validate_doc_update applies the
same rulebook on the server; tests/unit/test_rulebook_parity.py checks the two agree."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from oms.core import rules
from oms.core.errors import InvalidInput
from oms.identity.acl import Access, level_index


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    to: str
    needs_reason: bool
    confirm: str | None = None    # the question to ask first: the step cannot be undone


def transition(name: str) -> dict | None:
    return next((t for t in rules.workflow()["transitions"] if t["name"] == name), None)


def state(name: str) -> dict:
    return rules.workflow()["states"][name]


def target(t: dict, doc: dict) -> str | None:
    if t["to"] == "$same":  # a step that records work but keeps the state (allocate_backorders)
        return doc["status"]
    return doc.get("held_from") if t["to"] == "$held_from" else t["to"]


def may_edit(access: Access, doc: dict) -> bool:
    """May this person write this order at all (level, Readers and Authors fields)?"""
    wf = rules.workflow()
    if not access.at_least(wf["min_level_to_act"]) or not access.may_read(doc):
        return False
    return access.at_least("editor") or access.named_in(doc.get("authors"))


def may_take(access: Access, t: dict) -> bool:
    return access.level_index >= level_index(rules.workflow()["override_level"]) or any(
        r in access.roles for r in t["roles"])


def may_act(access: Access, doc: dict, action: str) -> bool:
    """May this person take `action` on this order now?"""
    return any(a.name == action for a in actions_for(access, doc))


def actions_for(access: Access, doc: dict) -> list[Action]:
    """The action bar: the transitions this person may take on this order now."""
    if not may_edit(access, doc):
        return []
    out = []
    for t in rules.workflow()["transitions"]:
        if doc["status"] in t["from"] and may_take(access, t) and target(t, doc):
            out.append(Action(t["name"], t["title"], target(t, doc), bool(t.get("needs_reason")), t.get("confirm")))
    return out


def history_entry(access: Access, now: str, action: str, old_status: str, new_status: str,
                  reason: str | None = None, changes: list[str] | None = None) -> dict:
    entry = {"at": now, "by": access.name, "action": action, "from": old_status, "to": new_status}
    if reason:
        entry["reason"] = reason
    if changes:
        entry["changes"] = changes
    return entry


def apply(access: Access, doc: dict, action: str, now: str, reason: str | None = None,
          changes: dict | None = None) -> dict:
    """The next revision of `doc` after `action` ("edit" or a transition name), checked against
    the rulebook here so a person gets a 400 with a reason; CouchDB checks again on write."""
    reason = (reason or "").strip() or None
    changes = dict(changes or {})
    new = copy.deepcopy(doc)
    if action == "edit":
        to = doc["status"]
        allowed = set(state(doc["status"])["editable"])
    else:
        t = transition(action)
        if t is None:
            raise InvalidInput(f'An order has no step called "{action}": reload the order to see the steps '
                               'it offers now.')
        if doc["status"] not in t["from"]:
            raise InvalidInput(f'"{t["title"]}" cannot be taken from {state(doc["status"])["title"]}; '
                               f'only from {", ".join(state(x)["title"] for x in t["from"])}')
        if t.get("needs_reason") and not reason:
            raise InvalidInput(f'"{t["title"]}" needs a reason')
        to = target(t, doc)
        allowed = set(state(doc["status"])["editable"]) | set(t.get("sets", ()))
        if action == "hold":
            changes["held_from"] = doc["status"]
        elif action == "release":
            changes["held_from"] = None
        elif action == "cancel":
            changes["cancel_reason"] = reason
        elif action == "amend":
            changes.setdefault("version", doc["version"] + 1)
    # Only real changes count (as on the server): re-sending a field's current value is no edit.
    bad = sorted(k for k in set(changes) - allowed if changes[k] != doc.get(k))
    if bad:
        raise InvalidInput(f"{', '.join(bad)} cannot change while the order is {state(doc['status'])['title']}")
    for k, v in changes.items():
        if v is None:
            new.pop(k, None)
        else:
            new[k] = v
    new["status"] = to
    new["updated_by"], new["updated_at"] = access.name, now
    changed = sorted(k for k in changes if doc.get(k) != new.get(k))
    new["history"] = doc["history"] + [history_entry(access, now, action, doc["status"], to, reason, changed)]
    return new
