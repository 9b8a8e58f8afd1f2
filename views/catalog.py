"""The Notes-style view catalog (catalog.json): each view declared once: title, the design view
it reads and its key, columns, categorized levels, the sorts a person may pick (each backed by a
sorted design view), totals, and who may open it.

Keys. Every design view is keyed [principal, *key] (views/reader.py). A view may narrow it:
- "scope": a fixed key prefix after the principal ([{"stage": "credit_hold"}]) or "roles" (one
  prefix per role of the person: My queue);
- "upper": ["today"]: only keys before today's date (Overdue);
- "categories": N: the first N key parts after the principal form the category (Notes'
  categorized columns), counted and totalled per category.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from oms.identity.acl import Access

from .reader import Source


@functools.cache
def stages() -> tuple[str, ...]:
    """Workflow states in rulebook order: a view keys an order's stage by its index here."""
    from couch_design.viewsrc import view_rules
    return tuple(view_rules()["stages"])


def stage_index(state: str) -> int:
    return stages().index(state)


@dataclass(frozen=True)
class SortDef:
    name: str
    view: str
    key: tuple[str, ...]
    categorized: bool


@dataclass(frozen=True)
class ViewDef:
    name: str
    title: str
    group: str
    design: str
    view: str
    key: tuple[str, ...]
    columns: tuple[dict, ...]
    min_level: str
    page_size: int
    summary: str = ""
    categories: int = 0
    category: dict = field(default_factory=dict)
    sorts: tuple[SortDef, ...] = ()
    scope: object = ()
    upper: tuple = ()
    count_view: str | None = None
    totals: tuple[str, ...] = ("count",)
    # The view opens with every category open (a person's own queue: the work in sight at once),
    # not only when it has a single category or a few documents.
    categories_open: bool = False

    def may_open(self, access: Access) -> bool:
        return self.refusal(access) is None

    def refusal(self, access: Access) -> str | None:
        """Why this person may not open the view (the same sentence on the web and the API)."""
        if self.scope == "roles" and not access.roles:
            return f"{self.title} lists the orders waiting for your roles, and you have none."
        if not access.at_least(self.min_level):
            return f"As {access.level_title} you may not open {self.title}."
        return None

    @property
    def default_sort(self) -> SortDef:
        return self.sorts[0]

    def sort(self, name: str | None) -> SortDef | None:
        """The sort called `name` (None: the default); None when no design view backs it."""
        if not name:
            return self.default_sort
        return next((s for s in self.sorts if s.name == name), None)

    def segments(self, access: Access) -> tuple[tuple, ...]:
        if self.scope == "roles":
            return tuple((r,) for r in sorted(access.roles))
        prefix = []
        for part in self.scope:
            prefix.append(stage_index(part["stage"]) if isinstance(part, dict) and "stage" in part else part)
        return (tuple(prefix),)

    def upper_key(self, today: dt.date | None = None) -> tuple | None:
        if not self.upper:
            return None
        today = today or dt.date.today()
        return tuple(today.isoformat() if p == "today" else p for p in self.upper)

    def source(self, access: Access, sort: SortDef | None = None, descending: bool = False,
               category: tuple | None = None, today: dt.date | None = None) -> Source:
        """What to read for this person: their principals' ranges of the sort's design view,
        optionally narrowed to one category."""
        sort = sort or self.default_sort
        segments = self.segments(access)
        if category is not None:
            segments = tuple(_narrow(s, tuple(category)) for s in segments)
            segments = tuple(s for s in segments if s is not None)
        return Source(self.design, sort.view, tuple(access.principals), segments,
                      upper=self.upper_key(today), descending=descending)

    def count_source(self, access: Access, today: dt.date | None = None) -> Source:
        """Where the totals come from: the default design view, or `count_view` when the default
        has no reduce (All orders counts through orders_by_status, the same rows)."""
        return Source(self.design, self.count_view or self.view, tuple(access.principals),
                      self.segments(access), upper=self.upper_key(today))

    @property
    def category_parts(self) -> int:
        """How many key parts (after the principal) the totals group by."""
        return self.categories if not self.count_view else 0


def _narrow(segment: tuple, category: tuple) -> tuple | None:
    """The key prefix of `category` within `segment`, or None when they exclude each other."""
    n = min(len(segment), len(category))
    if segment[:n] != category[:n]:
        return None
    return segment if len(segment) >= len(category) else category


def _load(name: str, v: dict) -> ViewDef:
    default = SortDef(v.get("sort_name", "default"), v["view"], tuple(v["key"]), bool(v.get("categories")))
    alt = tuple(SortDef(n, s["view"], tuple(s["key"]), False) for n, s in v.get("sorts", {}).items())
    vd = ViewDef(name=name, title=v["title"], group=v.get("group", ""), design=v["design"],
                 view=v["view"], key=tuple(v["key"]), columns=tuple(v["columns"]),
                 min_level=v.get("min_level", "reader"), page_size=v.get("page_size", 50),
                 summary=v.get("summary", ""), categories=v.get("categories", 0),
                 category=v.get("category", {}), sorts=(default, *alt),
                 scope=v.get("scope", ()) if v.get("scope") == "roles" else tuple(v.get("scope", ())),
                 upper=tuple(v.get("upper", ())), count_view=v.get("count_view"),
                 totals=tuple(v.get("totals", ("count",))), categories_open=bool(v.get("categories_open")))
    names = {s.name for s in vd.sorts}
    for c in vd.columns:
        if c.get("sort") and c["sort"] not in names:
            raise ValueError(f"view {name}: column {c['title']} sorts by {c['sort']!r}, "
                             f"which no design view backs (sorts: {', '.join(sorted(names))})")
    return vd


@functools.cache
def catalog() -> dict[str, ViewDef]:
    raw = json.loads((Path(__file__).parent / "catalog.json").read_text())
    return {name: _load(name, v) for name, v in raw.items()}


def get(name: str) -> ViewDef | None:
    return catalog().get(name)


def visible_to(access: Access) -> list[ViewDef]:
    return [v for v in catalog().values() if v.may_open(access)]
