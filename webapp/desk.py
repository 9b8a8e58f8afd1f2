"""The desk (Notes client style): the navigator of views with counts beside the view pane, an
action bar above it, and the pane itself: categorized views with twisties, totals per category and
for the view, sorting where a sorted design view backs it, paging by key, search, CSV export,
the dashboard, and live updates.

One route serves the full page or, for htmx, just the pane (Hypermedia Systems: branch on
HX-Request, Vary on it). The pane's state (sort, direction, open categories, cursor) lives in its
URL, so a link, the back button and the live refresh all show the same thing.

Live updates: the pane polls its own URL every 2 s with the database's update_seq as `since`
(htmx `every 2s`). An unchanged database answers 204 (htmx swaps nothing) from one GET /db that
the process shares for 0.2 s; any change at all (a person, the API, a partner's replication)
re-renders the pane within ~2 s. We chose polling over server-sent events from _changes because
an open SSE stream holds a gunicorn worker thread per open tab, needs a _changes reader per
process and care with proxies; a 204 poll is stateless, cheap and works everywhere."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from oms.core.errors import InvalidInput
from oms.interchange.csvtext import CsvLines
from oms.store.couch import CouchError
from views import catalog
from views import dashboard as dash
from views import search as searching
from views.catalog import SortDef, ViewDef
from views.collate import couch_key
from views.reader import Page, decode_cursor, encode_cursor, iter_rows, read
from views.totals import Totals, TotalsCache, totals

from . import charts, services
from .auth import login_required
from .filters import amounts, cell, status_title

bp = Blueprint("desk", __name__)

CATEGORY_PAGE = 100     # categories per page in a collapsed view
MAX_OPEN = 20           # open categories at once
NONE_OPEN = "[]"        # ?open= when the person closed every category (no categories open of themselves)
NAV_BUDGET = 0.5        # seconds the navigator may wait for first counts, all views together


@bp.record_once
def _setup(state) -> None:
    state.app.extensions.setdefault("view_totals", TotalsCache())
    state.app.config.setdefault("OMS_TOTALS_WAIT", 0.3)   # seconds a page waits for a first count
    state.app.config.setdefault("OMS_VIEW_TOTALS", True)  # False: no counts at all (views still page)


def cache() -> TotalsCache:
    return current_app.extensions["view_totals"]


def _wait() -> float:
    return current_app.config["OMS_TOTALS_WAIT"]


def _totals(db, src, parts: int, wait: float) -> Totals | None:
    if not current_app.config["OMS_VIEW_TOTALS"]:
        return None
    return _noted(totals(cache(), db, src, parts, wait))


def _noted(t: Totals | None) -> Totals | None:
    """Remember that some totals on this page are still being counted (the poll then refreshes
    the page again until they are current)."""
    if t is None or not t.fresh:
        g.totals_pending = True
    return t


# --- the state of a view pane, from and to its URL ---------------------------------------------

@dataclass
class State:
    vd: ViewDef
    sort: SortDef
    desc: bool = False
    open: list[tuple] = field(default_factory=list)
    expand: bool = False
    after: list | None = None
    before: list | None = None
    cats: list | None = None          # categories page: start after this category
    chosen: bool = False              # the URL says which categories are open (else the view decides)

    @classmethod
    def parse(cls, vd: ViewDef, args) -> "State":
        sort = vd.sort(args.get("sort"))
        if sort is None:
            names = ", ".join(s.name for s in vd.sorts)
            raise InvalidInput(f"{vd.title} cannot be sorted by {args.get('sort')!r}; it can by: {names}")
        opened = []
        for text in args.getlist("open")[:MAX_OPEN]:
            c = decode_cursor(text)
            if c is not None and len(c) == vd.categories and tuple(c) not in opened:
                opened.append(tuple(c))
        return cls(vd, sort, desc=args.get("desc") == "1", open=opened, expand=args.get("expand") == "1",
                   after=decode_cursor(args.get("after")), before=decode_cursor(args.get("before")),
                   cats=decode_cursor(args.get("cats")), chosen="open" in args)

    @property
    def categorized(self) -> bool:
        return bool(self.vd.categories) and self.sort.categorized

    def args(self, **changes) -> dict:
        """Query arguments of this state with `changes` (defaults left out of the URL)."""
        a = {"sort": self.sort.name if self.sort is not self.vd.default_sort else None,
             "desc": "1" if self.desc else None,
             "open": [encode_cursor(list(c)) for c in self.open] or (NONE_OPEN if self.chosen else None),
             "expand": "1" if self.expand else None,
             "after": encode_cursor(self.after), "before": encode_cursor(self.before),
             "cats": encode_cursor(self.cats)}
        a.update(changes)
        return {k: v for k, v in a.items() if v not in (None, [], "")}

    def url(self, endpoint: str = "desk.view", **changes) -> str:
        return url_for(endpoint, name=self.vd.name, **self.args(**changes))

    # links the pane offers
    def toggle(self, cat: tuple) -> str:
        opened = [c for c in self.open if c != cat] if cat in self.open else [*self.open, cat]
        return self.url(open=[encode_cursor(list(c)) for c in opened] or NONE_OPEN, after=None, before=None)

    def collapse_all(self) -> str:
        return self.url(expand=None, open=NONE_OPEN, after=None, before=None)

    def sort_url(self, name: str) -> str:
        same = name == self.sort.name
        return self.url(sort=None if name == self.vd.default_sort.name else name,
                        desc="1" if same and not self.desc else None,
                        after=None, before=None, cats=None, open=None, expand=None)


@dataclass
class Category:
    key: tuple
    label: str
    agg: dict | None
    open: bool = False
    page: Page | None = None

    @property
    def dom_id(self) -> str:
        return "cat-" + hashlib.sha1(json.dumps(list(self.key)).encode()).hexdigest()[:12]


def category_label(vd: ViewDef, label, key: tuple) -> str:
    fmt = vd.category.get("format")
    if fmt == "status":
        if label is None and key and isinstance(key[0], int) and 0 <= key[0] < len(catalog.stages()):
            label = catalog.stages()[key[0]]
        return status_title(label)
    if fmt == "priority":
        return f"Priority {label if label is not None else key[0]}"
    if fmt == "warehouse":
        return label or "Not allocated"
    if fmt == "role":   # the desk says "Warehouse"; the ACL writes the role as "[Warehouse]"
        role = label if label not in (None, "") else (key[0] if key else "")
        return str(role).strip("[]") or "(none)"
    if label not in (None, ""):
        return str(label)
    return " / ".join(str(k) for k in key) or "(none)"


# --- the navigator (every signed-in page, through a context processor) ------------------------

@dataclass
class NavItem:
    vd: ViewDef
    count: int | None
    exact: bool = True


def navigator_groups(access, budget: float = NAV_BUDGET):
    groups: "OrderedDict[str, list[NavItem]]" = OrderedDict()
    db = services.person_db(access)
    try:
        cache().seq(db)  # one probe: when the database is away, show the outline without counts
    except CouchError:
        db = None
    deadline = time.monotonic() + budget
    for vd in catalog.visible_to(access):
        t = None
        if db is not None:
            try:
                t = _totals(db, vd.count_source(access), vd.category_parts,
                            max(0.0, deadline - time.monotonic()))
            except CouchError:
                db = None
        groups.setdefault(vd.group or "Views", []).append(
            NavItem(vd, t.total["n"] if t else None, t.exact if t else True))
    return groups


def may_create(access) -> bool:
    return access.at_least("author") or access.level == "depositor"


@bp.app_context_processor
def _navigator():
    access = services.current_access()
    if access is None:
        return {}
    memo = {}

    def navigator():  # lazy: only pages that show it pay for it, once
        if "groups" not in memo:
            memo["groups"] = navigator_groups(access)
        return memo["groups"]
    return {"navigator": navigator, "may_create": may_create(access)}


# --- responses --------------------------------------------------------------------------------

def _is_pane_request() -> bool:
    # htmx asks for the whole page when restoring history it had not cached.
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _respond(full: str, pane: str, **ctx):
    template = pane if _is_pane_request() else full
    # A live redraw also refreshes the navigator's counts (htmx out-of-band swap).
    oob = _is_pane_request() and request.args.get("since") is not None
    resp = make_response(render_template(template, oob_nav=oob, **ctx))
    resp.headers["Vary"] = "HX-Request"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _unchanged(seq: str, db) -> bool:
    """A live poll (`since`) that finds the database as it was: nothing to redraw."""
    return _is_pane_request() and db.still_at(request.args.get("since"), seq)


def _no_change():
    resp = make_response("", 204)
    resp.headers["Vary"] = "HX-Request"
    return resp


@bp.get("/")
@login_required
def home():
    if not services.current_access().at_least("reader"):
        return redirect(url_for("orders.new"))  # Depositors place orders but read none
    return redirect(url_for("desk.view", name="all_orders"))


@bp.get("/views/<name>")
@login_required
def view(name):
    access, vd = services.open_view(name)
    state = State.parse(vd, request.args)
    db = services.person_db(access)
    seq = cache().seq(db)
    if _unchanged(seq, db):
        return _no_change()
    return _respond("view.html", "_view_pane.html", **pane(vd, access, state, db, seq))


def pane(vd: ViewDef, access, state: State, db, seq: str) -> dict:
    t = _totals(db, vd.count_source(access), vd.category_parts, _wait())
    ctx = dict(vd=vd, state=state, totals=t, seq=seq, mode="flat", notice=None)
    if state.categorized and not state.expand:
        if t is None:
            ctx["notice"] = ("The categories of this view are still being counted; meanwhile it "
                             "shows every document, with its category above it."
                             if current_app.config["OMS_VIEW_TOTALS"] else
                             "Counting is switched off on this server: the view shows every "
                             "document, with its category above it.")
        else:
            if not state.chosen and state.cats is None:
                state.open = _open_of_themselves(vd, t)
            ctx.update(mode="collapsed", **_collapsed(vd, access, state, db, t))
            return ctx
    page = read(db, vd.source(access, state.sort, state.desc), after=state.after, before=state.before,
                limit=vd.page_size)
    ctx.update(page=page, items=_with_headers(vd, state, page, t),
               next_url=state.url(after=encode_cursor(page.next_after), before=None) if page.next_after else None,
               prev_url=state.url(before=encode_cursor(page.prev_before), after=None) if page.prev_before else None)
    return ctx


def _open_of_themselves(vd, t: Totals) -> list[tuple]:
    """The categories a view opens with when the person has not chosen: the first MAX_OPEN of a
    view that always shows its work (My queue); all of them when there is a single one or when
    the documents fit on one page; else none, and the person opens what they need."""
    cats = [key for key, _ in t.ordered()]
    if vd.categories_open:
        return cats[:MAX_OPEN]
    if len(cats) == 1 or (len(cats) <= MAX_OPEN and sum(agg["n"] for agg in t.cats.values()) <= vd.page_size):
        return cats
    return []


def _collapsed(vd, access, state: State, db, t: Totals) -> dict:
    cats = t.ordered(state.desc)
    start = 0
    if state.cats is not None:
        at = couch_key(state.cats)
        start = next((i for i, (c, _) in enumerate(cats)
                      if (couch_key(list(c)) < at if state.desc else couch_key(list(c)) > at)), len(cats))
    shown = cats[start: start + CATEGORY_PAGE]
    items = []
    for key, agg in shown:
        c = Category(key, category_label(vd, agg.get("l"), key), agg, open=key in state.open)
        if c.open:
            c.page = read(db, vd.source(access, state.sort, state.desc, category=key), limit=vd.page_size)
        items.append(c)
    nxt = state.url(cats=encode_cursor(list(shown[-1][0]))) if start + CATEGORY_PAGE < len(cats) else None
    prev = None
    if start > 0:
        back = max(0, start - CATEGORY_PAGE)
        prev = state.url(cats=encode_cursor(list(cats[back - 1][0])) if back > 0 else None)
    return dict(categories=items, next_url=nxt, prev_url=prev)


def _with_headers(vd, state: State, page: Page, t: Totals | None) -> list[tuple[str, object]]:
    """Rows, with a category header above each new category when the view is categorized."""
    items, last = [], None
    k = vd.categories if state.categorized else 0
    for r in page.rows:
        if k:
            key = tuple(r["key"][1: 1 + k])
            if key != last:
                agg = t.cats.get(key) if t else None
                items.append(("cat", Category(key, category_label(vd, r["value"].get("cat"), key), agg)))
                last = key
        items.append(("row", r))
    return items


def _category_arg(vd, required: bool) -> tuple | None:
    """?cat=: one category of the view, as a JSON list of its category values."""
    cat = decode_cursor(request.args.get("cat"))
    if (cat is None and required) or (cat is not None and len(cat) != vd.categories):
        raise InvalidInput(f"cat must name a category of {vd.title} as a JSON list of {vd.categories} value(s)")
    return tuple(cat) if cat is not None else None


@bp.get("/views/<name>/more")
@login_required
def more(name):
    """The next rows of one open category (the "More" row swaps itself for them)."""
    access, vd = services.open_view(name)
    state = State.parse(vd, request.args)
    cat = _category_arg(vd, required=True)
    db = services.person_db(access)
    page = read(db, vd.source(access, state.sort, state.desc, category=cat), after=state.after,
                limit=vd.page_size)
    c = Category(cat, "", None, True, page)
    return render_template("_category_rows.html", vd=vd, state=state, c=c)


# --- CSV export (streamed: memory stays flat however long the view) ---------------------------

def csv_header(columns) -> list[str]:
    out = [c["title"] for c in columns]
    if any(c.get("format") == "money" for c in columns):
        out.append("Currency")
    return out


def csv_row(value: dict, columns) -> list[str]:
    out = []
    for c in columns:
        if c.get("format") == "money":
            v = value.get(c["field"])
            out.append("" if v is None else f"{v / 100:.2f}")
        else:
            out.append(cell(value, c))
    if any(c.get("format") == "money" for c in columns):
        out.append(value.get("currency") or "")
    return out


def stream_csv(columns, rows, filename: str) -> Response:
    rows = iter(rows)
    first = next(rows, None)  # read the first batch now: a failure is still an error page

    def generate():
        line = CsvLines()
        chunk = [line(csv_header(columns))]
        if first is not None:
            chunk.append(line(csv_row(first["value"], columns)))
            for n, r in enumerate(rows):
                chunk.append(line(csv_row(r["value"], columns)))
                if n % 200 == 0:
                    yield "".join(chunk)
                    chunk = []
        yield "".join(chunk)

    resp = Response(stream_with_context(generate()), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/views/<name>/export.csv")
@login_required
def export(name):
    """The view as CSV, with the pane's filters: sort, direction, and one category (`cat`)."""
    access, vd = services.open_view(name)
    state = State.parse(vd, request.args)
    cat = _category_arg(vd, required=False)
    db = services.person_db(access)
    src = vd.source(access, state.sort, state.desc, category=cat)
    return stream_csv(vd.columns, iter_rows(db, src), f"{vd.name}-{dt.date.today().isoformat()}.csv")


# --- search -----------------------------------------------------------------------------------

SEARCH_COLUMNS = (
    {"title": "Number", "field": "number", "link": True},
    {"title": "Customer", "field": "customer"},
    {"title": "Status", "field": "status", "format": "status"},
    {"title": "Priority", "field": "priority", "align": "right", "narrow": False},
    {"title": "Value", "field": "net_cents", "format": "money", "align": "right"},
    {"title": "Created", "field": "created_at", "format": "datetime", "narrow": False},
)


@bp.get("/search")
@login_required
def search():
    access = services.current_access()
    q = request.args.get("q", "").strip()[:100]
    db = services.person_db(access)
    seq = cache().seq(db)
    if _unchanged(seq, db):
        return _no_change()
    rows, more_rows = searching.search(db, access, q) if q else ([], False)
    return _respond("search.html", "_search_pane.html", q=q, rows=rows, more=more_rows,
                    columns=SEARCH_COLUMNS, seq=seq)


@bp.get("/search/export.csv")
@login_required
def search_export():
    access = services.current_access()
    q = request.args.get("q", "").strip()[:100]
    if not searching.term(q):
        raise InvalidInput("q is required: an order number, a customer or a SKU, e.g. q=SO-000123")
    db = services.person_db(access)
    return stream_csv(SEARCH_COLUMNS, searching.iter_matches(db, access, q),
                      f"search-{searching.term(q)}-{dt.date.today().isoformat()}.csv")


# --- dashboard --------------------------------------------------------------------------------

@bp.get("/dashboard")
@login_required
def dashboard():
    access = services.current_access()
    db = services.person_db(access)
    seq = cache().seq(db)
    if _unchanged(seq, db):
        return _no_change()
    if not current_app.config["OMS_VIEW_TOTALS"]:
        abort(503, "Counting is switched off on this server (OMS_VIEW_TOTALS), so there is no dashboard.")
    w, c = _wait(), cache()
    stage_bars = dash.stages(c, db, access, w)
    if stage_bars is not None and catalog.get("by_status").may_open(access):
        for b in stage_bars:
            key = encode_cursor([catalog.stage_index(b.key)]) if b.key in catalog.stages() else None
            b.href = url_for("desk.view", name="by_status", open=key) if key else None
    age = dash.ageing(c, db, access, w)
    backlog = dash.backlog(c, db, access, w)
    if backlog is not None:
        for b in backlog:
            b.href = url_for("desk.view", name="backlog", open=encode_cursor([_sortable(b.key), b.key]))
    flow = dash.throughput(c, db, access, w)
    for part in (stage_bars, age, backlog, flow):
        if part is None:
            g.totals_pending = True
    days = flow or []
    figures = dict(
        stages=stage_bars, ageing=age, backlog=backlog, throughput=flow,
        placed_money=amounts(dash.period_money(days, "placed")),
        shipped_money=amounts(dash.period_money(days, "shipped")),
        stages_svg=charts.hbars(stage_bars or [], "Orders by stage", "orders"),
        ageing_svg=charts.hbars(age or [], "Open orders by age", "orders"),
        backlog_svg=charts.hbars(backlog or [], "Backlog by warehouse (units)", "units"),
        throughput_svg=charts.columns([d.day[5:] for d in days],
                                      [("Placed", [d.placed for d in days]),
                                       ("Shipped", [d.shipped for d in days])],
                                      "Orders placed and shipped per day", "orders", "Day (month-day)",
                                      tips=[[amounts(d.placed_money) for d in days],
                                            [amounts(d.shipped_money) for d in days]]))
    return _respond("dashboard.html", "_dashboard_pane.html", seq=seq, **figures)


def _sortable(text):
    from views.collate import sortable
    return sortable(text)
