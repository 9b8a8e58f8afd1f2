"""The performance Review page (/review), its CSV (/review.csv) and the orders behind a chart mark
(/review/orders). The figures are views/review.py's, from cached totals; these handlers read the
filters, draw the charts and answer. One route serves the page or, for htmx, its pane."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, g, make_response, render_template, request, url_for

from oms.core.errors import InvalidInput
from oms.interchange.csvtext import CsvLines
from views import review as rv
from views.dashboard import Bar

from . import charts, services
from .auth import login_required
from .desk import cache

bp = Blueprint("review", __name__)


def _figures(access, db, f: rv.Filters) -> rv.Review:
    if not current_app.config["OMS_VIEW_TOTALS"]:
        abort(503, "Counting is switched off on this server (OMS_VIEW_TOTALS), so there is no review.")
    result = rv.review(cache(), db, access, f, current_app.config["OMS_TOTALS_WAIT"])
    if result.counting or not result.fresh:
        g.totals_pending = True
    return result


def figures_for_request(access=None) -> rv.Review:
    """The Review for the signed-in person and the query string's filters (InvalidInput if bad)."""
    access = access or services.current_access()
    f = rv.Filters.parse(request.args, dt.date.today())
    return _figures(access, services.person_db(access), f)


def _hours(v) -> str:
    if v is None:
        return "–"
    return f"{v:,.1f} hours" if v < 48 else f"{v / 24:,.1f} days"


def _charts(r: rv.Review) -> dict:
    f, fig = r.filters, r.figures
    link = lambda **sel: url_for("review.orders", **f.args(**sel))  # noqa: E731
    periods = fig["periods"]
    e2e = {(x["end"], x["period"]): x for x in fig["end_to_end_by_period"]}
    ends = [x["end"] for x in fig["end_to_end"]]
    first_end = ends[0]
    cycle = charts.trend(
        periods,
        [("Median, placed → shipped", [e2e[(first_end, p)]["median_hours"] for p in periods]),
         ("p90, placed → shipped", [e2e[(first_end, p)]["p90_hours"] for p in periods]),
         ("Median in a stage", [x["median_hours"] for x in fig["stage_by_period"]])],
        "Cycle time per period, in hours", unit="hours",
        hrefs=[[link(what="e2e", end=first_end, period=p) for p in periods]] * 2
        + [[link(what="stage", period=p) for p in periods]])
    dist = fig["distribution"]
    histogram = charts.columns(
        [_span_label(d) for d in dist], [("Orders", [d["count"] for d in dist])],
        "Placed → shipped: orders per duration (each column up to the time below it)", unit="orders",
        hrefs=[[link(what="e2e", end=first_end, bucket=d["bucket"]) for d in dist]])
    funnel = charts.hbars([Bar(x["title"], x["count"], href=link(what="wip", stage=x["stage"])) for x in fig["wip"]],
                          "Open orders per stage", "orders")
    shares = charts.trend(
        periods,
        [("On time to promise", [x["share"] for x in fig["on_time"]]),
         ("Lines available when placed", [x["share"] for x in fig["fill_rate"]])],
        "On-time and fill rate per period", percent=True,
        hrefs=[[link(what="ontime", period=p, ok=0) for p in periods],
               [link(what="fill", period=p, full=0) for p in periods]])
    days = sorted({x["day"] for x in fig["throughput"]})
    fns = []
    for x in fig["throughput"]:
        if (x["function"], x["title"]) not in fns:
            fns.append((x["function"], x["title"]))
    per = {(x["day"], x["function"]): x["count"] for x in fig["throughput"]}
    flow = charts.columns([d[5:] for d in days], [(t, [per.get((d, fn), 0) for d in days]) for fn, t in fns],
                          "Steps taken per function per day", unit="steps",
                          hrefs=[[link(what="moves", day=d, function=fn) for d in days] for fn, _ in fns])
    tot = fig["sla_total"]
    sla = charts.hbars([Bar(label, tot[k], href=link(what="wip", sla=k)) for k, label in rv.SLA_CLASSES],
                       "Open orders against their stage's time limit", "orders",
                       css=[f"sla-{k}" for k, _ in rv.SLA_CLASSES])
    bo = charts.hbars([Bar(b["label"], b["lines"], note=f'{b["units"]} units', href=link(what="bo", age=i))
                       for i, b in enumerate(fig["backorder_ageing"])], "Open backorder lines by age", "lines")
    return dict(cycle_svg=cycle, histogram_svg=histogram, funnel_svg=funnel, shares_svg=shares, flow_svg=flow,
                sla_svg=sla, bo_svg=bo)


def _span_label(d: dict) -> str:
    hi = d["to_hours"]
    if hi is None:
        return f'{_short(d["from_hours"])}+'
    return _short(hi)


def _short(h: float) -> str:
    if h < 1:
        return f"{h * 60:.0f}min"
    if h < 48:
        return f"{h:.0f}h"
    return f"{h / 24:.1f}d" if h < 240 else f"{h / 24:.0f}d"


def _form_context(f: rv.Filters | None) -> dict:
    return {"grains": rv.GRAINS, "functions": [(r, rv.function_title(r)) for r in rv.functions()],
            "tiers": rv.TIERS, "f": f}


@bp.get("/review")
@login_required
def page():
    access = services.current_access()
    pane = request.headers.get("HX-Request") == "true"
    template = "_review_pane.html" if pane else "review.html"
    try:
        f = rv.Filters.parse(request.args, dt.date.today())
        r = _figures(access, services.person_db(access), f)
    except InvalidInput as exc:
        resp = make_response(render_template(template, error=exc.reason, r=None,
                                             **_form_context(None), args=request.args), 400)
        resp.headers["Vary"] = "HX-Request"
        return resp
    resp = make_response(render_template(template, error=None, r=r, fig=r.figures, hours=_hours,
                                         csv_url=url_for("review.csv", **f.args()),
                                         orders_url=lambda **sel: url_for("review.orders", **f.args(**sel)),
                                         **_charts(r), **_form_context(f), args=request.args))
    resp.headers["Vary"] = "HX-Request"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/review.csv")
@login_required
def csv():
    r = figures_for_request()
    line = CsvLines()
    body = "".join(line(row) for row in [CSV_HEADER, *csv_rows(r)])
    name = f"review-{r.filters.first}-{r.filters.last}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


CSV_HEADER = ("figure", "period", "group", "measure", "value")


def csv_rows(r: rv.Review):
    """The Review as long rows (figure, period, group, measure, value): the same figures as the
    JSON (tests compare the two)."""
    fig = r.figures
    for x in fig["stages"]:
        for m in ("count", "median_hours", "p90_hours"):
            yield ("stage", "", x["stage"], m, _cell(x[m]))
    for x in fig["functions"]:
        for m in ("count", "median_hours", "p90_hours"):
            yield ("function", "", x["function"], m, _cell(x[m]))
    for x in fig["stage_by_period"]:
        for m in ("count", "median_hours", "p90_hours"):
            yield ("stage_by_period", x["period"], "", m, _cell(x[m]))
    for x in fig["end_to_end"]:
        for m in ("count", "median_hours", "p90_hours"):
            yield ("end_to_end", "", x["end"], m, _cell(x[m]))
    for x in fig["end_to_end_by_period"]:
        for m in ("count", "median_hours", "p90_hours"):
            yield ("end_to_end_by_period", x["period"], x["end"], m, _cell(x[m]))
    for name, key in (("by_tier", "tier"), ("by_warehouse", "warehouse")):
        for x in fig[name]:
            for m in ("count", "median_hours", "p90_hours"):
                yield (name, "", x[key], m, _cell(x[m]))
    for x in fig["distribution"]:
        yield ("distribution", "", str(x["bucket"]), "count", _cell(x["count"]))
    for x in fig["on_time"]:
        for m in ("shipped", "on_time", "share"):
            yield ("on_time", x["period"], "", m, _cell(x[m]))
    for x in fig["fill_rate"]:
        for m in ("lines", "full", "share"):
            yield ("fill_rate", x["period"], "", m, _cell(x[m]))
    for x in fig["throughput"]:
        yield ("throughput", x["day"], x["function"], "count", _cell(x["count"]))
    for x in fig["wip"]:
        yield ("wip", "", x["stage"], "count", _cell(x["count"]))
    for x in fig["sla"]:
        for m, _ in rv.SLA_CLASSES:
            yield ("sla", "", x["stage"], m, _cell(x[m]))
    for x in fig["backorder_ageing"]:
        for m in ("lines", "units"):
            yield ("backorder_ageing", "", x["label"], m, _cell(x[m]))


def _cell(v) -> str:
    return "" if v is None else str(v)


@bp.get("/review/orders")
@login_required
def orders():
    access = services.current_access()
    f = rv.Filters.parse(request.args, dt.date.today())
    kind, sel = rv.parse_selection(request.args)
    rows, more = rv.orders_behind(services.person_db(access), access, f, kind, sel)
    return render_template("review_orders.html", rows=rows, more=more, what=_what(kind, sel, f),
                           back=url_for("review.page", **f.args()))


def _what(kind: str, sel: dict, f: rv.Filters) -> str:
    period = f"in {sel['period']}" if sel.get("period") else f"from {f.first} to {f.last}"
    stage = rv.stage_title(sel["stage"]) if sel.get("stage") else ""
    return {
        "stage": f"Stays that ended {period}" + (f" in {stage}" if stage else ""),
        "e2e": f"Orders placed → {rv.stage_title(sel.get('end') or 'shipped').lower()} {period}",
        "ontime": f"Orders shipped {period}" + ("" if sel.get("ok") is None else
                                                (" on time" if sel["ok"] == 1 else " after the promised date")),
        "fill": f"Order lines placed {period}" + ("" if sel.get("full") is None else
                                                  (" fully available" if sel["full"] == 1 else " short")),
        "moves": f"Steps taken on {sel.get('day') or 'these days'}"
                 + (f" by {rv.function_title(sel['function'])}" if sel.get("function") else ""),
        "wip": "Open orders" + (f" in {stage}" if stage else "")
               + (f", {dict(rv.SLA_CLASSES)[sel['sla']].lower()}" if sel.get("sla") else ""),
        "bo": "Open backorder lines" + (f", {rv.review_rules()['backorder_age_days'][sel['age']][2]} old"
                                        if sel.get("age") is not None else ""),
    }[kind]
