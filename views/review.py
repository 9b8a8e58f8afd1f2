"""The performance Review's figures, for one person, from the review design views' cached totals
(views/totals.py): never a reduce, never a scan of the orders on the request path, and the same
principal ranges as every order view, so a person counts only the orders they may read.

Durations are histograms: the views count each one into a log-spaced bucket of hours
(rules/review.json, couch_design/viewsrc.py bucket_bounds) and the median and p90 are read from
the bucket counts here (nearest rank, reported as the bucket's geometric middle). With four
buckets to a doubling a reported figure is within about 9% of the exact one.

A stage belongs to the function of its state's owner_role (rules/workflow.json); a step taken
counts for the function owning the stage it leaves. The function filter narrows the stage
figures and the throughput; the end-to-end, on-time and fill figures are whole orders."""
from __future__ import annotations

import bisect
import datetime as dt
import math
import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass

from couch_design.viewsrc import bucket_bounds
from oms.core import rules
from oms.core.errors import InvalidInput
from oms.identity.acl import Access

from .reader import Source, iter_rows
from .totals import TotalsCache, totals

DESIGN = "review"

# The key parts after the principal, per kind of row (couch_design/review/views/*/map.js).
LAYOUT = {
    "stage": ("kind", "grain", "period", "stage", "bucket", "tier", "warehouse", "number", "stay"),
    "e2e": ("kind", "grain", "period", "end", "bucket", "tier", "warehouse", "number"),
    "ontime": ("kind", "grain", "period", "ok", "tier", "warehouse", "number"),
    "fill": ("kind", "grain", "period", "full", "tier", "warehouse", "number", "line"),
    "moves": ("kind", "day", "stage", "tier", "warehouse", "number", "step"),
    "wip": ("kind", "stage", "hour", "tier", "warehouse", "number"),
    "bo": ("kind", "day", "tier", "warehouse", "number", "line"),
}
VIEW = {"stage": "durations", "e2e": "durations", "ontime": "flow", "fill": "flow", "moves": "flow",
        "wip": "open", "bo": "open"}
# how many key parts a grouped count keeps: everything up to the order number
PARTS = {k: v.index("number") for k, v in LAYOUT.items()}
GRAINS = {"w": "weeks", "m": "months"}
TIERS = ("gold", "silver", "bronze")
SLA_CLASSES = (("on_track", "On track"), ("at_risk", "At risk"), ("late", "Late"))


def review_rules() -> dict:
    return rules.rules()["review"]


def bounds() -> list[float]:
    return bucket_bounds(review_rules())


def bucket_of(hours: float, edges: list[float] | None = None) -> int:
    """The same search as bucketOf() in couch_design/review/views_lib/review_row.js."""
    return bisect.bisect_right(edges if edges is not None else bounds(), hours)


def bucket_span(b: int, edges: list[float] | None = None) -> tuple[float, float | None]:
    edges = edges if edges is not None else bounds()
    return (0.0 if b == 0 else edges[b - 1]), (edges[b] if b < len(edges) else None)


def bucket_middle(b: int, edges: list[float] | None = None) -> float:
    lo, hi = bucket_span(b, edges)
    if hi is None:
        return lo
    return hi / 2 if lo == 0 else math.sqrt(lo * hi)


def percentile(hist: dict[int, int], q: float, edges: list[float] | None = None) -> float | None:
    """The q-quantile (nearest rank) of a histogram {bucket: count}, as its bucket's middle."""
    n = sum(hist.values())
    if n == 0:
        return None
    rank, seen = max(1, math.ceil(q * n)), 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= rank:
            return round(bucket_middle(b, edges), 2)
    return None


# --- what is asked -----------------------------------------------------------------------------

def stage_names() -> list[str]:
    return list(rules.workflow()["states"])


def stage_title(name: str) -> str:
    return rules.workflow()["states"].get(name, {}).get("title", name)


def owner_of(stage: str) -> str:
    return rules.workflow()["states"].get(stage, {}).get("owner_role", "")


def functions() -> list[str]:
    seen: list[str] = []
    for s in rules.workflow()["states"].values():
        if s.get("owner_role") and s["owner_role"] not in seen:
            seen.append(s["owner_role"])
    return seen


def function_title(role: str) -> str:
    return role.strip("[]") or "No function"


_MONTH = re.compile(r"^[0-9]{4}-[0-9]{2}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def period_of(day: dt.date, grain: str) -> str:
    return (day - dt.timedelta(days=day.weekday())).isoformat() if grain == "w" else day.isoformat()[:7]


def next_period(period: str, grain: str) -> str:
    if grain == "w":
        return (dt.date.fromisoformat(period) + dt.timedelta(days=7)).isoformat()
    y, m = int(period[:4]), int(period[5:7])
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def _parse_period(text: str, grain: str, what: str) -> str:
    text = text.strip()
    if text[:4].isdigit() and not 1971 <= int(text[:4]) <= 2998:   # room for a period either side
        raise InvalidInput(f"{what} must be a date between 1971 and 2998, not {text!r}")
    try:
        if grain == "m":
            if _MONTH.match(text):
                dt.date.fromisoformat(text + "-01")
                return text
            if _DAY.match(text):
                return dt.date.fromisoformat(text).isoformat()[:7]
        elif _DAY.match(text):
            return period_of(dt.date.fromisoformat(text), "w")
    except ValueError:
        pass
    example = "2026-03" if grain == "m" else "2026-03-02 (a week is named by its Monday)"
    raise InvalidInput(f"{what} must be a {'month' if grain == 'm' else 'day'} like {example}, not {text!r}")


@dataclass(frozen=True)
class Filters:
    grain: str
    first: str
    last: str
    function: str = ""
    tier: str = ""
    warehouse: str = ""

    @classmethod
    def parse(cls, args, today: dt.date) -> "Filters":
        """From a query string; InvalidInput with the reason for anything it cannot take."""
        grain = (args.get("grain") or "m").strip()
        if grain not in GRAINS:
            raise InvalidInput(f"grain must be w (weeks) or m (months), not {grain!r}")
        default_span = 6 if grain == "m" else 12
        last = _parse_period(args["to"], grain, "to") if args.get("to") else period_of(today, grain)
        if args.get("from"):
            first = _parse_period(args["from"], grain, "from")
        else:
            first = last
            for _ in range(default_span - 1):
                first = _previous(first, grain)
        if first > last:
            raise InvalidInput(f"from ({first}) must not be after to ({last})")
        n = len(_periods(first, last, grain, review_rules()["max_periods"] + 1))
        if n > review_rules()["max_periods"]:
            raise InvalidInput(f"at most {review_rules()['max_periods']} {GRAINS[grain]} at once; narrow from/to")
        function = (args.get("function") or "").strip()
        if function and function not in functions():
            raise InvalidInput(f"function must be one of {', '.join(functions())}, not {function!r}")
        tier = (args.get("tier") or "").strip()
        if tier and tier not in TIERS:
            raise InvalidInput(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
        warehouse = (args.get("warehouse") or "").strip()
        if warehouse and not re.match(r"^[A-Z0-9][A-Z0-9_-]{0,19}$", warehouse):
            raise InvalidInput(f"warehouse must be a warehouse code like MAIN, not {warehouse!r}")
        return cls(grain, first, last, function, tier, warehouse)

    def periods(self) -> list[str]:
        return _periods(self.first, self.last, self.grain)

    def days(self) -> tuple[dt.date, dt.date]:
        """The days the throughput covers: the range's last max_days days at most."""
        start = dt.date.fromisoformat(self.first + ("-01" if self.grain == "m" else ""))
        end = dt.date.fromisoformat(next_period(self.last, self.grain) + ("-01" if self.grain == "m" else "")) \
            - dt.timedelta(days=1)
        return max(start, end - dt.timedelta(days=review_rules()["max_days"] - 1)), end

    def args(self, **extra) -> dict:
        out = {"grain": self.grain, "from": self.first, "to": self.last}
        out.update({k: v for k, v in (("function", self.function), ("tier", self.tier),
                                      ("warehouse", self.warehouse)) if v})
        out.update({k: v for k, v in extra.items() if v is not None and v != ""})
        return out

    def matches(self, row: dict) -> bool:
        return ((not self.tier or row.get("tier") == self.tier)
                and (not self.warehouse or row.get("warehouse") == self.warehouse))


def _previous(period: str, grain: str) -> str:
    if grain == "w":
        return (dt.date.fromisoformat(period) - dt.timedelta(days=7)).isoformat()
    y, m = int(period[:4]), int(period[5:7])
    return f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"


def _periods(first: str, last: str, grain: str, cap: int = 10_000) -> list[str]:
    out, p = [], first
    while p <= last and len(out) < cap:
        out.append(p)
        p = next_period(p, grain)
    return out


# --- the counts ---------------------------------------------------------------------------------

def _source(access: Access, kind: str, f: Filters | None = None) -> Source:
    principals = tuple(access.principals)
    if kind in ("stage", "e2e", "ontime", "fill"):
        return Source(DESIGN, VIEW[kind], principals, ((kind, f.grain),), lower=(f.first,),
                      upper=(next_period(f.last, f.grain),))
    if kind == "moves":
        first, last = f.days()
        return Source(DESIGN, VIEW[kind], principals, ((kind,),), lower=(first.isoformat(),),
                      upper=((last + dt.timedelta(days=1)).isoformat(),))
    return Source(DESIGN, VIEW[kind], principals, ((kind,),))


def _groups(cache: TotalsCache, db, access: Access, kind: str, f: Filters, wait: float):
    """[(key parts as a dict, aggregate)] of one kind, narrowed by tier and warehouse; None while
    first being counted. Also (exact, fresh)."""
    t = totals(cache, db, _source(access, kind, f), PARTS[kind], wait)
    if t is None:
        return None, (True, False)
    names = LAYOUT[kind]
    out = []
    for cat, agg in t.cats.items():
        row = dict(zip(names, cat))
        if f.matches(row):
            out.append((row, agg))
    return out, (t.exact, t.fresh)


def _summary(hist: dict[int, int], edges) -> dict:
    return {"count": sum(hist.values()), "median_hours": percentile(hist, 0.5, edges),
            "p90_hours": percentile(hist, 0.9, edges)}


def _add(hist: dict, b, n: int) -> None:
    if isinstance(b, int):
        hist[b] = hist.get(b, 0) + n


@dataclass
class Review:
    filters: Filters
    figures: dict
    counting: bool = False
    exact: bool = True
    fresh: bool = True

    def as_json(self) -> dict:
        return {"filters": asdict(self.filters), "counting": self.counting, "exact": self.exact,
                "fresh": self.fresh, **self.figures}


# The figures of one (database state, principals, filters), kept a while: computing them walks
# every grouped count (tens of thousands at a year of orders), which a page should pay once per
# change of the database, not once per request. Only what the clock moves (SLA classes, backorder
# ages) is worked out per request, from small per-hour and per-day counts.
MEMO_SIZE = 32
_memo: OrderedDict = OrderedDict()
_memo_lock = threading.Lock()


def review(cache: TotalsCache, db, access: Access, f: Filters, wait: float,
           now: dt.datetime | None = None) -> Review:
    now = now or dt.datetime.now(dt.timezone.utc)
    key = (db.name, cache.seq(db), tuple(sorted(access.principals)), f)
    with _memo_lock:
        settled = _memo.get(key)
        if settled is not None:
            _memo.move_to_end(key)
    if settled is None:
        got, counting, exact, fresh = {}, False, True, True
        for kind in LAYOUT:
            rows, (ex, fr) = _groups(cache, db, access, kind, f, wait)
            counting |= rows is None
            exact &= ex
            fresh &= fr
            got[kind] = rows or []
        settled = (_settled(got, f), counting, exact, fresh and not counting)
        if settled[3]:
            with _memo_lock:
                _memo[key] = settled
                while len(_memo) > MEMO_SIZE:
                    _memo.popitem(last=False)
    counted, counting, exact, fresh = settled
    figures = {k: v for k, v in counted.items() if not k.startswith("_")}
    figures.update(_clocked(counted["_open"], counted["_backorders"], now))
    return Review(f, figures, counting=counting, exact=exact, fresh=fresh)


def _settled(got: dict, f: Filters) -> dict:
    """Every figure that depends on the counts alone; `_open` {stage: {hour: n}} and
    `_backorders` {day: [lines, units]} for the ones the clock moves."""
    edges = bounds()
    names = stage_names()

    def stage_name(i):
        return names[i] if isinstance(i, int) and 0 <= i < len(names) else None

    def wanted_stage(name) -> bool:
        return name is not None and (not f.function or owner_of(name) == f.function)

    # cycle time per stage, per function, per period
    per_stage: dict[str, dict] = {}
    per_function: dict[str, dict] = {}
    stage_trend: dict[str, dict] = {}
    for row, agg in got["stage"]:
        name = stage_name(row["stage"])
        if not wanted_stage(name):
            continue
        _add(per_stage.setdefault(name, {}), row["bucket"], agg["n"])
        _add(per_function.setdefault(owner_of(name) or "", {}), row["bucket"], agg["n"])
        _add(stage_trend.setdefault(row["period"], {}), row["bucket"], agg["n"])
    stages = [{"stage": s, "title": stage_title(s), "function": function_title(owner_of(s)),
               **_summary(per_stage[s], edges)} for s in names if s in per_stage]
    by_function = [{"function": r, "title": function_title(r), **_summary(per_function[r], edges)}
                   for r in [*functions(), ""] if r in per_function]
    periods = f.periods()
    stage_by_period = [{"period": p, **_summary(stage_trend.get(p, {}), edges)} for p in periods]

    # end to end
    ends = review_rules()["end_states"]
    e2e: dict[str, dict] = {}
    e2e_trend: dict[tuple, dict] = {}
    by_tier: dict[str, dict] = {}
    by_wh: dict[str, dict] = {}
    for row, agg in got["e2e"]:
        _add(e2e.setdefault(row["end"], {}), row["bucket"], agg["n"])
        _add(e2e_trend.setdefault((row["end"], row["period"]), {}), row["bucket"], agg["n"])
        if row["end"] == ends[0]:
            _add(by_tier.setdefault(row["tier"], {}), row["bucket"], agg["n"])
            _add(by_wh.setdefault(row["warehouse"], {}), row["bucket"], agg["n"])
    end_to_end = [{"end": e, "title": f"Placed → {stage_title(e).lower()}", **_summary(e2e.get(e, {}), edges)}
                  for e in ends]
    end_to_end_by_period = [{"end": e, "period": p, **_summary(e2e_trend.get((e, p), {}), edges)}
                            for e in ends for p in periods]
    tiers = [{"tier": t or "", "title": (t or "unknown").capitalize(), **_summary(by_tier[t], edges)}
             for t in sorted(by_tier, key=lambda t: (TIERS.index(t) if t in TIERS else 9, t))]
    warehouses = [{"warehouse": w, "title": w or "Not allocated", **_summary(by_wh[w], edges)} for w in sorted(by_wh)]
    shipped_hist = e2e.get(ends[0], {})
    distribution = []
    if shipped_hist:
        for b in range(min(shipped_hist), max(shipped_hist) + 1):
            lo, hi = bucket_span(b, edges)
            distribution.append({"bucket": b, "from_hours": lo, "to_hours": hi, "count": shipped_hist.get(b, 0)})

    # shares per period
    def shares(kind, flag):
        per: dict[str, list[int]] = {}
        for row, agg in got[kind]:
            c = per.setdefault(row["period"], [0, 0])
            c[0] += agg["n"]
            if row[flag] == 1:
                c[1] += agg["n"]
        return per
    ot, fl = shares("ontime", "ok"), shares("fill", "full")
    on_time = [{"period": p, "shipped": ot.get(p, [0, 0])[0], "on_time": ot.get(p, [0, 0])[1],
                "share": _share(*ot.get(p, [0, 0]))} for p in periods]
    fill_rate = [{"period": p, "lines": fl.get(p, [0, 0])[0], "full": fl.get(p, [0, 0])[1],
                  "share": _share(*fl.get(p, [0, 0]))} for p in periods]
    ot_all = [sum(v[0] for v in ot.values()), sum(v[1] for v in ot.values())]
    fl_all = [sum(v[0] for v in fl.values()), sum(v[1] for v in fl.values())]

    # throughput per function per day
    first_day, last_day = f.days()
    moves: dict[tuple, int] = {}
    for row, agg in got["moves"]:
        name = stage_name(row["stage"])
        if not wanted_stage(name):
            continue
        key = (row["day"], owner_of(name) or "")
        moves[key] = moves.get(key, 0) + agg["n"]
    days = [(first_day + dt.timedelta(days=i)).isoformat() for i in range((last_day - first_day).days + 1)]
    fn_list = [r for r in [*functions(), ""] if any(k[1] == r for k in moves)]
    throughput = [{"day": d, "function": r, "title": function_title(r), "count": moves.get((d, r), 0)}
                  for d in days for r in fn_list]

    # open orders per stage and the hour their stay began; open backorder lines per day
    opened: dict[str, dict[str, int]] = {}
    for row, agg in got["wip"]:
        name = stage_name(row["stage"])
        if wanted_stage(name) and isinstance(row["hour"], str):
            hours = opened.setdefault(name, {})
            hours[row["hour"]] = hours.get(row["hour"], 0) + agg["n"]
    backorders: dict[str, list[int]] = {}
    for row, agg in got["bo"]:
        c = backorders.setdefault(row["day"], [0, 0])
        c[0] += agg["n"]
        c[1] += agg["q"]

    return {
        "periods": periods, "days": [days[0], days[-1]] if days else [],
        "stages": stages, "functions": by_function, "stage_by_period": stage_by_period,
        "end_to_end": end_to_end, "end_to_end_by_period": end_to_end_by_period,
        "by_tier": tiers, "by_warehouse": warehouses, "distribution": distribution,
        "on_time": on_time, "on_time_total": {"shipped": ot_all[0], "on_time": ot_all[1], "share": _share(*ot_all)},
        "fill_rate": fill_rate, "fill_rate_total": {"lines": fl_all[0], "full": fl_all[1], "share": _share(*fl_all)},
        "throughput": throughput,
        "wip": [{"stage": s, "title": stage_title(s), "count": sum(opened[s].values())} for s in names if s in opened],
        "_open": opened, "_backorders": backorders,
    }


def _began_before(hour: str, t: dt.datetime) -> bool:
    """Did the hour named "YYYY-MM-DDTHH" (UTC) begin before `t`? (String order is time order.)"""
    ts = t.strftime("%Y-%m-%dT%H")
    return hour < ts or (hour == ts and (t.minute, t.second, t.microsecond) != (0, 0, 0))


def _clocked(opened: dict[str, dict[str, int]], backorders: dict[str, list[int]], now: dt.datetime) -> dict:
    """The SLA classes of the open orders and the ages of the backorder lines, as of `now`."""
    states = rules.workflow()["states"]
    share = review_rules()["at_risk_share"]
    sla_rows = []
    for name in stage_names():
        limit = states[name].get("limit_hours") if name in opened else None
        if not limit:
            continue
        late_cut, risk_cut = now - dt.timedelta(hours=limit), now - dt.timedelta(hours=share * limit)
        c = {k: 0 for k, _ in SLA_CLASSES}
        for hour, n in opened[name].items():   # the same classes as sla_class(), without parsing
            c["late" if _began_before(hour, late_cut) else "at_risk" if _began_before(hour, risk_cut)
              else "on_track"] += n
        sla_rows.append({"stage": name, "title": stage_title(name), "limit_hours": limit, **c})
    ages = review_rules()["backorder_age_days"]
    bo = [{"label": label, "from_days": lo, "to_days": hi, "lines": 0, "units": 0} for lo, hi, label in ages]
    for day, (lines, units) in backorders.items():
        try:
            age = (now.date() - dt.date.fromisoformat(day)).days
        except (TypeError, ValueError):
            continue
        into = next((b for b in bo if age >= b["from_days"] and (b["to_days"] is None or age <= b["to_days"])),
                    bo[0])   # dated ahead of this clock: counted as new
        into["lines"] += lines
        into["units"] += units
    return {"sla": sla_rows, "sla_total": {k: sum(r[k] for r in sla_rows) for k, _ in SLA_CLASSES},
            "backorder_ageing": bo}


def _share(total: int, hits: int) -> float | None:
    return round(hits / total, 4) if total else None


def sla_class(hour: str, limit_hours, now: dt.datetime, share: float) -> str | None:
    """on_track / at_risk / late for a stay that began in `hour` ("YYYY-MM-DDTHH", UTC)."""
    if not limit_hours:
        return None
    try:
        began = dt.datetime.fromisoformat(hour + ":00:00+00:00")
    except (TypeError, ValueError):
        return None
    age = (now - began).total_seconds() / 3600
    if age > limit_hours:
        return "late"
    return "at_risk" if age > share * limit_hours else "on_track"


# --- the orders behind a figure ------------------------------------------------------------------

SELECTORS = {"stage", "end", "bucket", "period", "day", "ok", "full", "function", "sla", "age"}


def orders_behind(db, access: Access, f: Filters, kind: str, sel: dict, now: dt.datetime | None = None,
                  limit: int = 200) -> tuple[list[dict], bool]:
    """The orders counted in one mark of a chart: ([{number, detail}], more). Reads only the
    rows of that figure's key range (one kind, within the filters' periods), at most `limit`
    orders."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if kind not in LAYOUT:
        raise InvalidInput(f"what must be one of {', '.join(LAYOUT)}, not {kind!r}")
    names = stage_names()
    want_stage = sel.get("stage")
    if want_stage and want_stage not in names:
        raise InvalidInput(f"stage must be one of {', '.join(names)}, not {want_stage!r}")
    src = _narrowed(access, kind, f, sel, names)
    layout = LAYOUT[kind]
    states = rules.workflow()["states"]
    out, seen = [], set()
    for r in iter_rows(db, src):
        row = dict(zip(layout, r["key"][1:]))
        if not f.matches(row):
            continue
        name = names[row["stage"]] if isinstance(row.get("stage"), int) and 0 <= row["stage"] < len(names) else None
        if "stage" in row and f.function and owner_of(name or "") != f.function:
            continue
        if want_stage and "stage" in row and name != want_stage:
            continue
        if sel.get("function") is not None and "stage" in row and owner_of(name or "") != sel["function"]:
            continue
        if not _selected(row, sel):
            continue
        if kind == "wip" and sel.get("sla"):
            if sla_class(row["hour"], states.get(name, {}).get("limit_hours"), now,
                         review_rules()["at_risk_share"]) != sel["sla"]:
                continue
        if kind == "bo" and sel.get("age") is not None:
            lo, hi, _ = review_rules()["backorder_age_days"][int(sel["age"])]
            try:
                age = (now.date() - dt.date.fromisoformat(row["day"])).days
            except (TypeError, ValueError):
                continue
            if age < lo or (hi is not None and age > hi):
                continue
        if row["number"] in seen:
            continue
        seen.add(row["number"])
        if len(out) >= limit:
            return out, True
        out.append({"number": row["number"], "detail": _detail(kind, row, r.get("value"), name)})
    return out, False


def _narrowed(access: Access, kind: str, f: Filters, sel: dict, names: list[str]) -> Source:
    """The key ranges of one mark: the kind's segment, one per period (or day) when the mark
    names more of the key (a stage, an end, a bucket, on time or not), so that only its rows are
    read; tier, warehouse and function are matched on the rows."""
    base = _source(access, kind, f)
    stage = names.index(sel["stage"]) if sel.get("stage") else None
    if kind in ("stage", "e2e", "ontime", "fill"):
        periods = [_parse_period(sel["period"], f.grain, "period")] if sel.get("period") else f.periods()
        what = {"stage": stage, "e2e": sel.get("end"), "ontime": sel.get("ok"), "fill": sel.get("full")}[kind]
        if what is None or what == "":
            return Source(base.design, base.view, base.principals, base.segments, lower=(periods[0],),
                          upper=(next_period(periods[-1], f.grain),))
        tail = (what,) if kind in ("ontime", "fill") or sel.get("bucket") is None else (what, sel["bucket"])
        return Source(base.design, base.view, base.principals, tuple((kind, f.grain, p, *tail) for p in periods))
    if kind == "moves" and sel.get("day"):
        d = _parse_day(sel["day"])
        function = sel.get("function")
        if function is not None:
            owned = [i for i, n in enumerate(names) if (owner_of(n) or "") == function]
            return Source(base.design, base.view, base.principals, tuple((kind, d, i) for i in owned))
        return Source(base.design, base.view, base.principals, ((kind, d),))
    if kind == "wip" and stage is not None:
        return Source(base.design, base.view, base.principals, ((kind, stage),))
    return base


def _selected(row: dict, sel: dict) -> bool:
    for k in ("end", "ok", "full", "bucket"):
        if sel.get(k) is not None and sel[k] != "" and row.get(k) != sel[k]:
            return False
    return True


def _parse_day(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except (TypeError, ValueError):
        raise InvalidInput(f"day must be a date like 2026-03-02, not {text!r}") from None


def _detail(kind: str, row: dict, value, stage: str | None) -> str:
    """What one row counted, in words (its value: hours of a duration, units of a backorder line)."""
    q = value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
    if kind == "stage":
        return f"{stage_title(stage or '')}: {q:,.1f} hours (left in {row['period']})"
    if kind == "e2e":
        return f"Placed → {stage_title(row['end']).lower()}: {q:,.1f} hours"
    if kind == "ontime":
        return "Shipped on time" if row["ok"] == 1 else "Shipped after the promised date"
    if kind == "fill":
        return f"Line {row['line'] + 1}: {'fully available' if row['full'] == 1 else 'short'} when placed"
    if kind == "moves":
        return f"Left {stage_title(stage or '')} on {row['day']}"
    if kind == "wip":
        return f"{stage_title(stage or '')} since {row['hour'].replace('T', ' ')}:00 UTC"
    return f"Line {row['line']} backordered since {row['day']} ({q} units)"


def parse_selection(args) -> tuple[str, dict]:
    """(kind, selectors) of /review/orders from a query string; InvalidInput when malformed."""
    kind = (args.get("what") or "").strip()
    sel: dict = {}
    for k in ("stage", "end", "period", "day", "function", "sla"):
        if args.get(k) is not None:
            sel[k] = args[k].strip()
    if sel.get("sla") and sel["sla"] not in dict(SLA_CLASSES):
        raise InvalidInput(f"sla must be one of {', '.join(dict(SLA_CLASSES))}, not {sel['sla']!r}")
    if sel.get("end") and sel["end"] not in review_rules()["end_states"]:
        raise InvalidInput(f"end must be one of {', '.join(review_rules()['end_states'])}, not {sel['end']!r}")
    if sel.get("function") and sel["function"] not in functions():
        raise InvalidInput(f"function must be one of {', '.join(functions())}, not {sel['function']!r}")
    for k, top in (("ok", 1), ("full", 1), ("bucket", len(bounds())),
                   ("age", len(review_rules()["backorder_age_days"]) - 1)):
        if args.get(k) not in (None, ""):
            try:
                v = int(args[k])
            except ValueError:
                v = -1
            if not 0 <= v <= top:
                raise InvalidInput(f"{k} must be a whole number from 0 to {top}, not {args[k]!r}")
            sel[k] = v
    return kind, sel
