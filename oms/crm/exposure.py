"""Customers' credit exposure as this process last read it (credit_exposure_by_customer), plus
the approvals it wrote since, so that placement passes need not ask the view on every pass: an
index update and a query by key were the slowest step of placing an order (bench/README.md).

A remembered figure decides an order only where its age cannot matter (trusted()): the customer
has no limit, or the order leaves at least `headroom` of the limit free on that figure. Anything
closer to the limit is decided on a fresh read, so a remembered figure never holds an order, and
it never approves one that a fresh read would hold unless other writers added more than that
headroom within `seconds` (the rule: credit.exposure_memory in rules/priority.json). Exposure
that fell meanwhile (shipped, invoiced, cancelled) only makes the figure cautious. Within this
process nothing is missed: a placement pass adds what it approved, and any other write that
moves an order into an exposure state forgets that customer's figure (moved_into_exposure)."""
from __future__ import annotations

from oms.core import memories, rules


def order_value(order: dict) -> int:
    """What an order adds to its customer's exposure: the gross total (tax and shipping
    included) of a priced order, else its net total, less what its invoices bill (they count on
    their own until paid); credit_exposure_by_customer reads it so."""
    totals = order["totals"]
    gross = totals.get("gross_cents")
    value = gross if isinstance(gross, int) else totals["net_cents"]
    return max(0, value - sum(i.get("gross_cents") or 0 for i in order.get("invoices") or ()))


def trusted(customer: dict, order_cents: int, remembered_cents: int) -> bool:
    """May a remembered exposure decide `order_cents` more for `customer` (approve it)?"""
    limit = customer.get("credit_limit_cents")
    if limit is None:
        return True
    headroom = float(rules.credit()["exposure_memory"]["headroom"])
    exposure = (customer.get("open_balance_cents") or 0) + remembered_cents + order_cents
    return exposure <= limit * (1 - headroom)


def moved_into_exposure(db_name: str, before: dict, after: dict) -> None:
    """After this process wrote `after` over `before` (an order): an order that now counts as
    exposure and did not (approved from a credit hold, say) makes the remembered figure too low."""
    states = rules.credit()["exposure_states"]
    if after.get("status") in states and before.get("status") not in states:
        memories.exposure.forget(db_name, [after["customer"]["id"]])
