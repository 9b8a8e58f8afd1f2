"""Category counts and totals, kept off the request path.

A grouped reduce is cheap on CouchDB 3 (stored in the b-tree) but PouchDB Server recomputes it over
every row at query time: seconds for a large view (docs/architecture.md). So no page ever waits for one:
results are cached per process, keyed by what was asked and checked against the database's
update_seq (a cheap GET /db). A stale entry is returned as it is while a background thread
recomputes it; a missing one is waited for only briefly (a small database answers in
milliseconds, so tests and small sites see exact, fresh numbers). A key that took d seconds is
not recomputed before 2*d seconds have passed, so a busy large PouchDB database spends at most a
third of a core on counting. The same code is exact on CouchDB 3.

Readers fields. "*" rows are the same for everyone: one grouped reduce, shared. Rows indexed under
a person's name or roles (restricted orders) may name them twice, so a sum of reduces could count
an order twice: those ranges are read row by row and deduplicated, up to SCAN_LIMIT rows per
range; beyond that the reduces are summed and the result is marked approximate."""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass

from .collate import couch_key
from .reader import HIGH, Source, _pool, row_id

log = logging.getLogger(__name__)

SCAN_LIMIT = 5000


# --- aggregates: the Python side of couch_design/oms/reduces/totals.js --------------------------

def agg_empty() -> dict:
    return {"n": 0, "v": {}, "q": 0, "l": None}


def agg_add(a: dict, b: dict) -> dict:
    """a += b (the re-reduce of totals.js)."""
    a["n"] += b.get("n", 0)
    a["q"] += b.get("q", 0)
    for cur, cents in (b.get("v") or {}).items():
        a["v"][cur] = a["v"].get(cur, 0) + cents
    if a["l"] is None:
        a["l"] = b.get("l")
    return a


def agg_reduced(value) -> dict:
    """A reduce's value as an aggregate: totals.js's own, or the built-in `_stats` (count, sum),
    which views counting plain numbers use so that CouchDB reduces them natively."""
    if isinstance(value, dict) and "count" in value and "sum" in value:
        return {"n": value["count"], "v": {}, "q": value["sum"], "l": None}
    return value


def agg_row(value) -> dict:
    """One row's contribution (the reduce of totals.js on one value; a plain number counts once
    with the number as its quantity, as `_stats` does)."""
    a = agg_empty()
    a["n"] = 1
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        a["q"] = value
        return a
    if isinstance(value.get("net_cents"), (int, float)) and not isinstance(value.get("net_cents"), bool):
        a["v"][value.get("currency") or ""] = value["net_cents"]
    if isinstance(value.get("qty"), (int, float)):
        a["q"] = value["qty"]
    a["l"] = value.get("cat")
    return a


@dataclass
class Totals:
    """Per category (a tuple of key parts, in view order) and for the whole view. `fresh`: as of
    the database's current update_seq (else the last known, being recounted); `exact`: False
    when a person's restricted ranges were too large to deduplicate."""
    cats: dict[tuple, dict]
    total: dict
    exact: bool = True
    fresh: bool = True

    def ordered(self, descending: bool = False) -> list[tuple[tuple, dict]]:
        return sorted(self.cats.items(), key=lambda kv: couch_key(list(kv[0])), reverse=descending)


# --- the cache --------------------------------------------------------------------------------

@dataclass
class _Entry:
    seq: str | None = None
    value: object = None
    at: float = 0.0
    duration: float = 0.0
    wanted: float = 0.0
    failed: bool = False


@dataclass
class _Job:
    fn: object
    seq: str
    not_before: float
    waiters: int = 0


class TotalsCache:
    """Results keyed by (what, update_seq), refreshed by one background thread per process."""

    def __init__(self, ratio: float = 2.0, keep_seconds: float = 900, seq_ttl: float = 0.2):
        self.ratio, self.keep, self.seq_ttl = ratio, keep_seconds, seq_ttl
        self._entries: dict[object, _Entry] = {}
        self._pending: dict[object, _Job] = {}
        self._running: set = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._seqs: dict[str, tuple[float, str]] = {}

    # update_seq, remembered for a moment so a burst of requests costs one GET /db
    def seq(self, db) -> str:
        now = time.monotonic()
        hit = self._seqs.get(db.name)
        if hit and now - hit[0] < self.seq_ttl:
            return hit[1]
        seq = db.change_token()
        self._seqs[db.name] = (now, seq)
        return seq

    def get(self, key, seq: str, fn, wait: float = 0.0):
        """(value, fresh): the value for `key` as of `seq`; else the last value (refreshing in the
        background); else, when expected to be quick, waits up to `wait` seconds; else None."""
        now = time.monotonic()
        with self._cond:
            e = self._entries.setdefault(key, _Entry())
            e.wanted = now
            if e.seq == seq and not e.failed:
                return e.value, True
            job = self._pending.get(key)
            if job is None:
                pause = max(1.0, self.ratio * e.duration) if e.failed else self.ratio * e.duration
                job = self._pending[key] = _Job(fn, seq, e.at + pause if e.at else 0.0)
                self._ensure_thread()
            else:
                job.fn, job.seq = fn, seq  # the newest request wins
            self._cond.notify_all()
            quick = e.seq is None or e.duration <= wait
            if wait > 0 and quick and job.not_before <= now + wait:
                job.waiters += 1
                self._cond.notify_all()
                deadline = now + wait
                try:
                    while e.seq != seq and not (e.failed and e.at > now):
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        self._cond.wait(left)
                finally:
                    job.waiters -= 1
            return e.value, e.seq == seq

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="view-totals", daemon=True)
            self._thread.start()

    def _next_job(self):
        """(key, job) to run now (waited-for first), or (None, seconds to sleep)."""
        now = time.monotonic()
        ready = [(k, j) for k, j in self._pending.items() if j.not_before <= now and k not in self._running]
        if ready:
            return max(ready, key=lambda kj: kj[1].waiters), None
        later = [j.not_before - now for k, j in self._pending.items() if k not in self._running]
        return None, (max(0.01, min(later)) if later else None)

    def _run(self) -> None:
        while True:
            with self._cond:
                picked, sleep = self._next_job()
                while picked is None:
                    self._cond.wait(sleep if sleep is not None else 30)
                    self._forget_unwanted()
                    picked, sleep = self._next_job()
                key, job = picked
                del self._pending[key]
                self._running.add(key)
            t0 = time.monotonic()
            try:
                value, failed = job.fn(), False
            except Exception as exc:  # the page keeps the last totals; the log says why
                log.warning("view totals for %s failed: %s", key, exc)
                value, failed = None, True
            with self._cond:
                self._running.discard(key)
                e = self._entries.setdefault(key, _Entry())
                e.at, e.duration = time.monotonic(), time.monotonic() - t0
                e.failed = failed
                if not failed:
                    e.seq, e.value = job.seq, value
                self._cond.notify_all()

    def _forget_unwanted(self) -> None:
        cutoff = time.monotonic() - self.keep
        for k in [k for k, e in self._entries.items()
                  if e.wanted < cutoff and k not in self._pending and k not in self._running]:
            del self._entries[k]


# --- what is computed -------------------------------------------------------------------------

def _bounds(src: Source, principal: str, segment: tuple):
    low = [principal, *segment, *src.lower]
    high = [principal, *segment, *src.upper] if src.upper is not None else [principal, *segment, HIGH]
    return low, high


def _group_of(key: list, parts: int) -> tuple:
    return tuple(key[1: 1 + parts])


def reduced(db, src: Source, principal: str, parts: int) -> dict[tuple, dict]:
    """Grouped reduce of one principal's ranges: {key parts after the principal: aggregate}."""
    level = 1 + max(parts, max((len(s) for s in src.segments), default=0))
    out: dict[tuple, dict] = {}
    for seg in src.segments:
        low, high = _bounds(src, principal, seg)
        res = db.view(src.design, src.view, start_key=low, end_key=high, reduce=True, group_level=level)
        for r in res["rows"]:
            agg_add(out.setdefault(_group_of(r["key"], parts), agg_empty()), agg_reduced(r["value"]))
    return out


def scanned(db, src: Source, principals: list[str], parts: int) -> tuple[dict[tuple, dict], bool]:
    """The restricted rows of several principals, read and deduplicated. (totals, complete)."""
    def one(args):
        p, seg = args
        low, high = _bounds(src, p, seg)
        res = db.view(src.design, src.view, start_key=low, end_key=high, reduce=False, limit=SCAN_LIMIT + 1)
        return res["rows"]

    work = [(p, s) for p in principals for s in src.segments]
    out: dict[tuple, dict] = {}
    seen = set()
    for rows in _pool.map(one, work):
        if len(rows) > SCAN_LIMIT:
            return {}, False
        for r in rows:
            rid = row_id(r)
            if rid in seen:
                continue
            seen.add(rid)
            agg_add(out.setdefault(_group_of(r["key"], parts), agg_empty()), agg_row(r["value"]))
    return out, True


def _merge(*parts: dict[tuple, dict]) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for part in parts:
        for k, a in part.items():
            agg_add(out.setdefault(k, agg_empty()), a)
    return out


def totals(cache: TotalsCache, db, src: Source, parts: int, wait: float = 0.0) -> Totals | None:
    """Totals of `src` for the person whose principals it names, grouped by the first `parts` key
    parts after the principal (0: one total). None while they are first being counted."""
    seq = cache.seq(db)
    shape = (src.design, src.view, src.segments, src.lower, src.upper, parts)
    public, fresh1 = cache.get(("*", *shape), seq, lambda: reduced(db, src, "*", parts), wait)
    others = sorted(p for p in src.principals if p != "*")

    def restricted():
        counted, complete = scanned(db, src, others, parts)
        if complete:
            return counted, True
        return _merge(*(reduced(db, src, p, parts) for p in others)), False

    mine, fresh2 = (cache.get((json.dumps(others), *shape), seq, restricted, wait) if others
                    else (({}, True), True))
    if public is None or mine is None:
        return None
    cats = _merge(public, mine[0])
    total = agg_empty()
    for a in cats.values():
        agg_add(total, a)
    return Totals(cats, total, exact=mine[1], fresh=fresh1 and fresh2)
