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

import threading
import time

from oms.core import rules


def seconds() -> float:
    return float(rules.credit()["exposure_memory"]["seconds"])


def trusted(customer: dict, order_cents: int, remembered_cents: int) -> bool:
    """May a remembered exposure decide `order_cents` more for `customer` (approve it)?"""
    limit = customer.get("credit_limit_cents")
    if limit is None:
        return True
    headroom = float(rules.credit()["exposure_memory"]["headroom"])
    exposure = (customer.get("open_balance_cents") or 0) + remembered_cents + order_cents
    return exposure <= limit * (1 - headroom)


class ExposureMemory:
    """(database, customer id) -> exposure in cents and when it was read from the view.

    A figure read while this process changed that customer's exposure (a pass of another batch
    adding its approvals, a single order approved and forgotten) may or may not include the
    change, so it is not kept: each entry knows when it was last touched."""

    REFRESH_MOST = 64   # customers asked in one query (those due within half a period ride along)

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._data: dict[tuple[str, str], list] = {}   # -> [read at, cents or None, touched at]
        self._lock = threading.Lock()

    def recall(self, db_name: str, cids: list[str]) -> dict[str, int]:
        """The customers' figures read within `seconds()`."""
        oldest = self.clock() - seconds()
        with self._lock:
            hits = {cid: self._data.get((db_name, cid)) for cid in cids}
        return {cid: hit[1] for cid, hit in hits.items() if hit and hit[1] is not None and hit[0] >= oldest}

    def to_ask(self, db_name: str, missing: list[str]) -> list[str]:
        """The customers a query for `missing` should ask for: those, and the remembered ones
        past half their period, so that figures come due together (one query per period)."""
        if not missing:
            return []
        half = self.clock() - seconds() / 2
        with self._lock:
            due = [cid for (db, cid), (at, cents, _) in self._data.items()
                   if db == db_name and cents is not None and at < half]
        ask = list(dict.fromkeys([*missing, *due]))
        return ask[:max(len(missing), self.REFRESH_MOST)]

    def store(self, db_name: str, figures: dict[str, int], read_at: float) -> None:
        """Figures as a query sent at `read_at` (this clock) answered them."""
        with self._lock:
            if len(self._data) > 20_000:
                self._data.clear()
            for cid, cents in figures.items():
                hit = self._data.get((db_name, cid))
                if hit and hit[2] >= read_at:
                    continue   # touched while the query ran: the answer may have missed it
                self._data[(db_name, cid)] = [read_at, cents, read_at]

    def add(self, db_name: str, cid: str, cents: int) -> None:
        """An approval this process wrote: it counts from now on."""
        now = self.clock()
        with self._lock:
            hit = self._data.get((db_name, cid))
            if hit and hit[1] is not None:
                hit[1] += cents
                hit[2] = now
            else:   # nothing to add to; a query in flight must not store a figure without it
                self._data[(db_name, cid)] = [now, None, now]

    def forget(self, db_name: str, cids) -> None:
        now = self.clock()
        with self._lock:
            for cid in cids:
                self._data[(db_name, cid)] = [now, None, now]


MEMORY = ExposureMemory()


def moved_into_exposure(db_name: str, before: dict, after: dict) -> None:
    """After this process wrote `after` over `before` (an order): an order that now counts as
    exposure and did not (approved from a credit hold, say) makes the remembered figure too low."""
    states = rules.credit()["exposure_states"]
    if after.get("status") in states and before.get("status") not in states:
        MEMORY.forget(db_name, [after["customer"]["id"]])
