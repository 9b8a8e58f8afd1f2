"""Partner orders arriving at the centre are placed as the centre's own are: the moment one arrives
submitted, the centre decides from its own data, as the system identity (never an admin).

- The customer must be one this partner may order for (the centre's profile names the partner);
  an order for anyone else is cancelled with the reason, which the partner reads on its pages
  (the cancelled order replicates back to its database).
- The customer's name comes from the centre's profile: a name the partner typed differently is
  set to the centre's (an "edit" step in the order's history says so).
- Then the hand-offs any submitted order gets: credit (approve or hold, with the sentence why),
  priority, availability and reservation, what cannot be served backordered
  (fulfilment.settle).

The agent walks the central database's changes since the last it saw (a checkpoint kept in a
_local document, which never replicates), so each arrival is looked at once, and again only when
it changes."""
from __future__ import annotations

import logging

from oms.core.errors import InvalidInput
from oms.core.money import format_cents
from oms.fulfilment.handoffs import SystemIdentity, settle
from oms.store.couch import Conflict, CouchError, Database, NotFound

log = logging.getLogger(__name__)

CHECKPOINT = "_local/oms-partner-intake"
BATCH = 200


def place_arrivals(agent: SystemIdentity) -> list[dict]:
    """Place the partner orders that arrived submitted since the last call. Returns what became
    of each: [{"number", "outcome", "status"}]."""
    db = agent.db
    try:
        mark = db.get_json(CHECKPOINT)
    except NotFound:
        mark = {"since": "0"}
    out = []
    while True:
        page = db.get_json("_changes", since=mark["since"], include_docs="true", limit=BATCH)
        for change in page["results"]:
            doc = change.get("doc") or {}
            if doc.get("type") == "order" and doc.get("partner") and doc.get("status") == "submitted":
                out.append(_place(agent, doc))
        if page["results"]:
            mark["since"] = page["last_seq"]
            _save_mark(db, mark)
        if len(page["results"]) < BATCH:
            return out


def _place(agent: SystemIdentity, arrived: dict) -> dict:
    number = arrived["number"]
    order = arrived
    try:
        # As it stands now (someone may have acted since). A version in conflict waits: a partner's
        # refused change set back in its copy comes back here as a second version of the order,
        # which the conflicts agent drops (the next change brings the order here again).
        order = agent.db.get(arrived["_id"], conflicts=True)
        if order.get("_conflicts"):
            return {"number": number, "outcome": "in conflict", "status": order["status"]}
        if order["status"] != "submitted" or order.get("partner") != arrived["partner"]:
            return {"number": number, "outcome": "taken up by someone else", "status": order["status"]}
        customer = agent.db.get_or_none(order["customer"]["id"])
        if customer is None or customer.get("type") != "customer" or customer.get("partner") != order["partner"]:
            reason = (f"The centre refused this order: {order['customer'].get('id', '?').split(':', 1)[-1]} "
                      f"is not one of {order['partner']}'s customers.")
            done = agent.orders.act_on(order, "cancel", reason)
            return {"number": number, "outcome": "refused", "status": done["status"], "reason": reason}
        if order["customer"].get("name") != customer.get("name"):
            order = agent.orders.act_on(order, "edit", "The customer's name as the centre knows it.",
                                        {"customer": dict(order["customer"], name=customer["name"])})
        refusal, priced = _priced_by_centre(agent, order)
        if refusal:
            done = agent.orders.act_on(order, "cancel", refusal)
            return {"number": number, "outcome": "refused", "status": done["status"], "reason": refusal}
        if priced:
            order = agent.orders.act_on(order, "edit", "Priced by the centre from its catalog.", priced)
        done = settle(order, agent)
        return {"number": number, "outcome": "placed", "status": done["status"]}
    except Conflict:
        # Someone (a person at the centre, the partner) changed it meanwhile: its next change
        # brings it back here if it is still submitted.
        return {"number": number, "outcome": "changed meanwhile", "status": order["status"]}
    except CouchError as exc:
        log.warning("partner order %s not placed: %s", number, exc.reason)
        return {"number": number, "outcome": "stopped", "status": order["status"], "reason": exc.reason}


def _priced_by_centre(agent: SystemIdentity, order: dict) -> tuple[str | None, dict | None]:
    """(why the centre refuses the order's prices, or None; the lines and totals as the centre
    prices them when they differ from the order's in anything but the price, or None). A partner
    charges its customers the centre's prices: those of the customer's price lists."""
    try:
        lines, totals = agent.orders.reprice(order, [{"sku": l["sku"], "qty": l["qty"]} for l in order["lines"]])
    except InvalidInput as exc:
        return f"The centre refused this order: {exc.reason}.", None
    for mine, theirs in zip(lines, order["lines"]):
        if mine["unit_price_cents"] != theirs.get("unit_price_cents"):
            return (f"The centre refused this order: line {theirs.get('line')} ({mine['sku']}) is priced "
                    f"{format_cents(theirs.get('unit_price_cents'))}; the centre's price for "
                    f"{order['customer']['name']} is {format_cents(mine['unit_price_cents'])}."), None
    if lines == order["lines"] and totals == order["totals"]:
        return None, None
    return None, {"lines": lines, "totals": totals}


def _save_mark(db: Database, mark: dict) -> None:
    try:
        saved = db._raw("PUT", "/" + CHECKPOINT, json=mark).json()
        mark["_rev"] = saved["rev"]
    except Conflict:   # another agent round moved it: take theirs, ours is at most as far
        mark.update(db.get_json(CHECKPOINT))
