"""Compile-time pieces of the view functions (map.js / reduce.js).

PouchDB Server runs each map function alone in a fresh `vm` context per document: no `require()`
(CouchDB 3 only allows `require('views/lib/...')` in maps). So the helpers every order view shares
(`views_lib/*.js`) and the bits of the rulebook a view needs are inlined at deploy:

  /*@include order_row*/        -> the text of couch_design/<ddoc>/views_lib/order_row.js (or, for
                                   a design without its own, the oms design's shared one)
  /*@rules awaiting_shipment*/null -> JSON of view_rules()["awaiting_shipment"]

Only the derived facts a view uses are embedded (not the whole workflow), so a view's index is
rebuilt only when something it depends on changes. Python reads the same view_rules()."""
from __future__ import annotations

import json
import re
from pathlib import Path

from oms.core.rules import load_rules

_INCLUDE = re.compile(r"/\*@include ([A-Za-z0-9_]+)\*/")
_RULES = re.compile(r"/\*@rules ([A-Za-z0-9_]+)\*/null")


def view_rules(workflow: dict | None = None, priority: dict | None = None) -> dict:
    """Facts the views derive from rules/workflow.json (and priority.json's credit rules):
    stages: state names in rulebook order (an order's stage is its index: numbers collate alike
            everywhere); open: {state: true} for open states; owner: {state: owner_role} for open
            states that name one (My queue); awaiting_shipment: {state: true} for states from
            which "shipped" is still ahead (Overdue, backorders); backlog: the same minus draft (a
            draft is not yet an order the warehouse owes); exposure: {state: true} for the states
            whose orders count against a customer's credit limit (credit.exposure_states)."""
    if workflow is None or priority is None:
        workflow = workflow or load_rules()["workflow"]
        priority = priority or load_rules()["priority"]
    states = workflow["states"]
    edges: dict[str, set[str]] = {s: set() for s in states}
    for t in workflow["transitions"]:
        if t["to"] == "$same":   # a step that records work and keeps the state leads nowhere new
            continue
        if t["to"].startswith("$"):
            # "$held_from": back to wherever the order was when it was put on hold, i.e. any
            # state a transition into this one starts from.
            targets = {f for u in workflow["transitions"] if u["to"] in t["from"] for f in u["from"]}
        else:
            targets = {t["to"]}
        for f in t["from"]:
            edges[f] |= targets
    ahead = {"shipped"}
    changed = True
    while changed:
        changed = False
        for s, outs in edges.items():
            if s not in ahead and outs & ahead:
                ahead.add(s)
                changed = True
    awaiting = [s for s in states if s in ahead and s != "shipped"]
    return {
        "stages": list(states),
        "open": {s: True for s, v in states.items() if v.get("open")},
        "owner": {s: v["owner_role"] for s, v in states.items() if v.get("open") and v.get("owner_role")},
        "awaiting_shipment": {s: True for s in awaiting},
        "backlog": {s: True for s in awaiting if s != "draft"},
        "exposure": {s: True for s in priority["credit"]["exposure_states"]},
        "review": review_rules(workflow),
    }


def bucket_bounds(review: dict) -> list[float]:
    """The upper bounds in hours of the Review's duration buckets (rules/review.json buckets):
    log-spaced, `per_doubling` to each doubling from `first_hours`. The views count a duration
    into the number of bounds at or below it; views/review.py reads the same list."""
    b = review["buckets"]
    return [round(b["first_hours"] * 2 ** (k / b["per_doubling"]), 4) for k in range(b["count"])]


def review_rules(workflow: dict, review: dict | None = None) -> dict:
    """What the review views need: stage names in rulebook order, open states, bucket bounds,
    the state an order is placed in and the states that end it."""
    review = review or load_rules()["review"]
    return {"stages": list(workflow["states"]),
            "open": {s: True for s, v in workflow["states"].items() if v.get("open")},
            "bounds": bucket_bounds(review), "placed": review["placed_state"], "ends": review["end_states"]}


def expand(src: str, folder: Path, rules: dict | None = None) -> str:
    """Inline `/*@include name*/` and `/*@rules name*/null` markers (see the module doc)."""
    rules = rules if rules is not None else view_rules()

    def include(m):
        own = Path(folder) / "views_lib" / f"{m.group(1)}.js"
        shared = Path(__file__).resolve().parent / "oms" / "views_lib" / f"{m.group(1)}.js"
        return (own if own.exists() else shared).read_text().strip()

    def rule(m):
        if m.group(1) not in rules:
            raise KeyError(f"unknown view rule {m.group(1)!r}; one of {', '.join(rules)}")
        return json.dumps(rules[m.group(1)], sort_keys=True, separators=(",", ":"))

    return _RULES.sub(rule, _INCLUDE.sub(include, src))
