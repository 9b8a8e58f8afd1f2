"""The Review's rules have one owner (rules/review.json, rules/workflow.json) and the design views
and Python read them alike: the buckets a view counts a duration into are the buckets Python reads
percentiles from, and the periods a view files a moment under are the periods Python asks for."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from couch_design.viewsrc import view_rules
from tests.designjs import map_doc
from tests.viewdata import order_doc
from views import review as rv


def at(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def stays_doc(hours: list[float], start=dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.timezone.utc)) -> dict:
    """An order going submitted -> approved -> credit_hold -> approved ... staying hours[i] in each."""
    d = order_doc("SO-000777", status="submitted", at=at(start))
    states = ["approved", "credit_hold"]
    t, prev = start, "submitted"
    for i, h in enumerate(hours):
        t = t + dt.timedelta(hours=h)
        to = states[i % 2]
        d["history"].append({"at": at(t), "by": "carl", "action": "x", "from": prev, "to": to})
        prev = to
    d["status"] = prev
    return d


def test_the_views_inline_the_same_bucket_bounds_python_reads():
    assert view_rules()["review"]["bounds"] == rv.bounds()
    b = rv.bounds()
    assert b[0] == 0.25 and all(b2 > b1 for b1, b2 in zip(b, b[1:]))
    assert abs(b[4] / b[0] - 2) < 1e-3       # four buckets to a doubling


def test_the_js_bucket_of_a_duration_is_the_python_one():
    rnd = random.Random(7)
    b = rv.bounds()
    # on and around every bound, plus random durations from seconds to a year
    hours = [0, 0.0001] + [x for v in b[:40] for x in (v, v * 0.999, v * 1.001)] + \
            [round(rnd.uniform(0, 9000), 3) for _ in range(60)]
    # durations the history can express: whole seconds (the doubling bounds 0.25, 0.5, 1, 2 ... h among them)
    hours = sorted({round(h * 3600) / 3600 for h in hours if h > 0})
    doc = stays_doc(hours)
    rows = [k for k, _ in map_doc("durations", doc) if k[1] == "stage" and k[2] == "m"]
    assert len(rows) == len(hours)
    by_stay = {k[9]: k[5] for k in rows}
    for i, h in enumerate(hours):
        assert by_stay[i] == rv.bucket_of(h), (i, h)


@pytest.mark.parametrize("day", ["2026-03-01", "2026-03-02", "2026-03-08", "2026-12-31", "2027-01-01", "2024-02-29"])
def test_the_js_week_and_month_of_a_moment_are_the_python_ones(day):
    t = dt.datetime.fromisoformat(day + "T23:59:00+00:00")
    doc = stays_doc([1], start=t - dt.timedelta(hours=1))
    keys = [k for k, _ in map_doc("durations", doc) if k[1] == "stage"]
    got = {k[2]: k[3] for k in keys}
    assert got == {"w": rv.period_of(t.date(), "w"), "m": rv.period_of(t.date(), "m")}


def test_percentiles_are_nearest_rank_over_bucket_middles():
    b = rv.bounds()
    hist = {rv.bucket_of(h): 0 for h in (10, 20, 30, 40, 100)}
    for h in (10, 20, 30, 40, 100):
        hist[rv.bucket_of(h)] += 1
    assert rv.percentile(hist, 0.5) == round(rv.bucket_middle(rv.bucket_of(30)), 2)
    assert rv.percentile(hist, 0.9) == round(rv.bucket_middle(rv.bucket_of(100)), 2)
    assert rv.percentile({}, 0.5) is None
    lo, hi = rv.bucket_span(rv.bucket_of(30))
    assert lo <= 30 < hi and hi / lo == pytest.approx(2 ** 0.25, rel=1e-3)
    assert rv.bucket_span(len(b)) == (b[-1], None)


def test_every_stage_with_a_time_limit_has_a_function_and_the_at_risk_share_is_a_share():
    from oms.core import rules
    states = rules.workflow()["states"]
    assert 0 < rv.review_rules()["at_risk_share"] < 1
    for name, s in states.items():
        if s.get("limit_hours"):
            assert rv.owner_of(name), name
    assert rv.review_rules()["placed_state"] in states
    assert all(e in states for e in rv.review_rules()["end_states"])


def test_sla_classes_follow_the_limit_and_the_at_risk_share():
    now = dt.datetime(2026, 3, 2, 12, 30, tzinfo=dt.timezone.utc)
    assert rv.sla_class("2026-03-02T10", 24, now, 0.75) == "on_track"
    assert rv.sla_class("2026-03-01T17", 24, now, 0.75) == "at_risk"    # 19.5 h of 24
    assert rv.sla_class("2026-03-01T11", 24, now, 0.75) == "late"
    assert rv.sla_class("2026-03-01T11", None, now, 0.75) is None


@pytest.mark.parametrize("args, says", [({"grain": "d"}, "grain"), ({"from": "2026-3"}, "from must be"),
                                        ({"grain": "w", "to": "2026-02-30"}, "to must be"),
                                        ({"from": "2026-06", "to": "2026-01"}, "after"),
                                        ({"tier": "tin"}, "tier"), ({"warehouse": "a b"}, "warehouse"),
                                        ({"grain": "w", "to": "0001-01-01"}, "between"),
                                        ({"to": "9999-12"}, "between"), ({"function": "Sales"}, "function")])
def test_bad_filters_are_refused_with_the_reason(args, says):
    from oms.core.errors import InvalidInput
    with pytest.raises(InvalidInput, match=says):
        rv.Filters.parse(args, dt.date(2026, 3, 4))


def test_weeks_are_named_by_their_monday_and_ranges_default_to_recent_periods():
    f = rv.Filters.parse({"grain": "w", "from": "2026-03-04", "to": "2026-03-18"}, dt.date(2026, 3, 20))
    assert f.periods() == ["2026-03-02", "2026-03-09", "2026-03-16"]
    m = rv.Filters.parse({}, dt.date(2026, 2, 10))
    assert m.periods() == ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    assert m.days()[1] == dt.date(2026, 2, 28)


def test_the_page_classes_open_orders_as_sla_class_does_without_parsing_each_hour():
    rnd = random.Random(3)
    base = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.timezone.utc)
    for _ in range(500):
        now = base + dt.timedelta(minutes=rnd.choice([0, 60, 90, rnd.randrange(0, 5000)]))
        hour = (base - dt.timedelta(hours=rnd.randrange(0, 80)) + dt.timedelta(hours=40)).strftime("%Y-%m-%dT%H")
        got = rv._clocked({"picking": {hour: 1}}, {}, now)["sla"]   # picking: 24 hours
        cls = next(k for k, _ in rv.SLA_CLASSES if got[0][k])
        assert cls == rv.sla_class(hour, 24, now, rv.review_rules()["at_risk_share"]), (hour, now)


@pytest.mark.parametrize("view", ["durations", "flow", "open"])
def test_the_review_views_take_odd_orders_without_failing(view):
    odd = [
        {"type": "order", "number": "SO-000001", "status": "picking"},                     # no history at all
        {"type": "order", "number": "SO-000002", "status": "picking", "history": [None, {"at": 5}, {"to": "x"}],
         "allocations": [{}], "backorders": [{}], "fill": {"lines": "3"}, "customer": {"tier": 7}},
        {**stays_doc([1, 2]), "status": "nowhere", "fill": {"lines": 2, "full": 1}, "promised_date": "2026-03-01",
         "readers": ["[Billing]", 3, "[Billing]"]},
        {"type": "order", "number": "SO-000003", "status": "approved",
         "history": [{"at": "not a date", "to": "submitted"}, {"at": "2026-03-01T10:00:00Z", "from": "submitted", "to": "approved"}]},
    ]
    for doc in odd:
        map_doc(view, doc)   # raises on a map error
    rows = map_doc(view, odd[2])
    # Readers fields: indexed under its readers and authors (each once per row), never under "*"
    assert {k[0] for k, _ in rows} <= {"[Billing]", "sally", "[Sales]"}
