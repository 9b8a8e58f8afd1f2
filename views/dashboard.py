"""The dashboard's figures, for one person (Readers fields hold: the same principal ranges as the
views), from the cached totals of the design views: never a reduce on the request path."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from oms.core import rules
from oms.identity.acl import Access

from . import catalog
from .reader import Source
from .totals import TotalsCache, totals

DESIGN = "oms"
AGE_BUCKETS = [(0, 0, "today"), (1, 2, "1–2 days"), (3, 6, "3–6 days"), (7, 13, "1–2 weeks"),
               (14, 29, "2–4 weeks"), (30, None, "30+ days")]


@dataclass
class Bar:
    label: str
    value: float
    note: str = ""
    href: str | None = None
    key: str = ""
    money: dict[str, int] = field(default_factory=dict)   # net value in cents, per currency


@dataclass
class Day:
    """One day of throughput: orders placed and shipped, and their net value per currency (cents)."""
    day: str
    placed: int
    shipped: int
    placed_money: dict[str, int] = field(default_factory=dict)
    shipped_money: dict[str, int] = field(default_factory=dict)


def _src(access: Access, view: str, segments=((),), lower=(), upper=None) -> Source:
    return Source(DESIGN, view, tuple(access.principals), tuple(segments), lower=tuple(lower),
                  upper=None if upper is None else tuple(upper))


def stages(cache: TotalsCache, db, access: Access, wait: float) -> list[Bar] | None:
    t = totals(cache, db, _src(access, "orders_by_status"), 1, wait)
    if t is None:
        return None
    names = catalog.stages()
    states = rules.workflow()["states"]
    bars = []
    for (idx,), agg in t.ordered():
        name = names[idx] if isinstance(idx, int) and 0 <= idx < len(names) else str(idx)
        bars.append(Bar(states.get(name, {}).get("title", name), agg["n"], key=name, money=dict(agg["v"])))
    return bars


def ageing(cache: TotalsCache, db, access: Access, wait: float, today: dt.date | None = None) -> list[Bar] | None:
    today = today or dt.date.today()
    t = totals(cache, db, _src(access, "orders_open_by_created"), 1, wait)
    if t is None:
        return None
    counts = [0] * len(AGE_BUCKETS)
    values: list[dict[str, int]] = [{} for _ in AGE_BUCKETS]
    for (day,), agg in t.cats.items():
        try:
            age = (today - dt.date.fromisoformat(day)).days
        except (TypeError, ValueError):
            continue
        i = next((i for i, (lo, hi, _) in enumerate(AGE_BUCKETS) if age >= lo and (hi is None or age <= hi)),
                 0)   # dated in the future (clock skew): count as new
        counts[i] += agg["n"]
        _add_money(values[i], agg["v"])
    return [Bar(label, n, money=v) for (_, _, label), n, v in zip(AGE_BUCKETS, counts, values)]


def backlog(cache: TotalsCache, db, access: Access, wait: float) -> list[Bar] | None:
    t = totals(cache, db, _src(access, "backlog_by_warehouse"), 2, wait)
    if t is None:
        return None
    return [Bar(agg["l"] or "Not allocated", agg["q"], note=f'{agg["n"]} order{"s" if agg["n"] != 1 else ""}',
                key=cat[1] if len(cat) > 1 else "")
            for cat, agg in t.ordered()]


def throughput(cache: TotalsCache, db, access: Access, wait: float, days: int = 14,
               today: dt.date | None = None) -> list[Day] | None:
    """The last `days` days, oldest first."""
    today = today or dt.date.today()
    first = today - dt.timedelta(days=days - 1)
    src = _src(access, "orders_activity_by_day", segments=(("created",), ("shipped",)),
               lower=(first.isoformat(),), upper=((today + dt.timedelta(days=1)).isoformat(),))
    t = totals(cache, db, src, 2, wait)
    if t is None:
        return None
    out = []
    for i in range(days):
        day = (first + dt.timedelta(days=i)).isoformat()
        placed, shipped = t.cats.get(("created", day), {}), t.cats.get(("shipped", day), {})
        out.append(Day(day, placed.get("n", 0), shipped.get("n", 0), dict(placed.get("v") or {}),
                       dict(shipped.get("v") or {})))
    return out


def period_money(days: list[Day], which: str) -> dict[str, int]:
    """The net value per currency (cents) of the orders placed (`which` "placed") or shipped over
    these days."""
    out: dict[str, int] = {}
    for d in days:
        _add_money(out, getattr(d, f"{which}_money"))
    return out


def _add_money(into: dict[str, int], more: dict[str, int]) -> None:
    for cur, cents in (more or {}).items():
        into[cur] = into.get(cur, 0) + cents
