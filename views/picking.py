"""The pick list of a warehouse: what it must take off its shelves for orders waiting to ship,
from the backlog view (the orders a person may read), one row per order line and warehouse,
in bin then SKU order so a picker walks the aisles once."""
from __future__ import annotations

from oms.identity.acl import Access

from .collate import sortable
from .reader import Source, iter_rows

PICKING_STATES = ("allocated", "picking", "partially_shipped")


def pick_rows(orders: list[dict], warehouse: str, bins: dict[str, str]) -> list[dict]:
    """Rows {bin, sku, description, qty, order, line} of what `warehouse` holds for `orders` and
    has not shipped yet, sorted by bin, SKU, order."""
    rows = []
    for order in orders:
        if order.get("status") not in PICKING_STATES:
            continue
        by_line = {l["line"]: l for l in order["lines"]}
        shipped_here: dict[int, int] = {}
        for s in order.get("shipped") or ():
            if s.get("warehouse") == warehouse and not s.get("replacement"):
                for sl in s["lines"]:
                    shipped_here[sl["line"]] = shipped_here.get(sl["line"], 0) + sl["qty"]
        for a in order.get("allocations") or ():
            if a.get("warehouse") != warehouse:
                continue
            take = min(shipped_here.get(a["line"], 0), a["qty"])
            shipped_here[a["line"]] = shipped_here.get(a["line"], 0) - take
            left = a["qty"] - take
            if left > 0:
                line = by_line.get(a["line"], {})
                rows.append({"bin": bins.get(a["sku"], ""), "sku": a["sku"], "description": line.get("description") or "",
                             "qty": left, "order": order["number"], "line": a["line"],
                             "customer": order["customer"]["name"]})
    return sorted(rows, key=lambda r: (r["bin"] == "", r["bin"], r["sku"], r["order"], r["line"]))


def pick_list(db, access: Access, warehouse: str) -> list[dict]:
    src = Source("oms", "backlog_by_warehouse", tuple(access.principals), ((sortable(warehouse), warehouse),))
    numbers = sorted({r["key"][-1] for r in iter_rows(db, src)})
    if not numbers:
        return []
    res = db.all_docs(keys=[f"order:{n}" for n in numbers], include_docs=True)
    orders = [r["doc"] for r in res["rows"] if r.get("doc") and access.may_read(r["doc"])]
    skus = sorted({a["sku"] for o in orders for a in o.get("allocations") or () if a.get("warehouse") == warehouse})
    stock = db.all_docs(keys=[f"stock:{s}:{warehouse}" for s in skus], include_docs=True)["rows"] if skus else []
    bins = {r["doc"]["sku"]: r["doc"].get("bin") or "" for r in stock if r.get("doc")}
    return pick_rows(orders, warehouse, bins)
