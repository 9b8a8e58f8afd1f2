"""Export a catalog view, or a selection of orders, as CSV, JSON, XML or DXL: streaming.

Everything is a generator over pages read by key (views/reader.read_page, 500 rows a page), so
memory stays flat however many orders there are (bench/bench_export.py measures it). Readers
fields are respected the same way as in the views: the rows come from the person's principals'
key ranges, and every whole order is checked with Access.may_read again before it is written.

Shapes:
- rows:   the view's columns (CSV header = column titles; JSON objects keyed by field; XML <row>).
- orders: whole orders. CSV and XML in the import format (docs/import-export.md: one CSV row per
          order line), so a file exported here imports elsewhere; JSON as the API returns them;
          DXL as a Notes order database (oms/interchange/dxl_export.py), with the customers and
          invoices of the orders."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from oms.core.errors import InvalidInput
from oms.identity.acl import Access
from oms.store.couch import Database
from views.catalog import ViewDef
from views.reader import read_page

from . import dxl_export, xmlformat
from .csvtext import CsvLines
from .formats import ORDER_COLUMNS

FORMATS = {"csv": "text/csv", "json": "application/json", "xml": "application/xml", "dxl": "application/xml"}
SHAPES = ("rows", "orders")
PAGE = 500


@dataclass
class Stream:
    chunks: Iterator[str]
    mimetype: str
    filename: str


def export(db: Database, access: Access, vd: ViewDef, fmt: str = "csv", shape: str = "rows",
           numbers: list[str] | None = None, page_size: int = PAGE) -> Stream:
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if shape not in SHAPES:
        raise InvalidInput(f"shape must be rows or orders, not {shape!r}")
    if numbers is not None and len(numbers) > 10000:
        raise InvalidInput("a selection may name at most 10000 orders; export the view instead")
    if fmt == "dxl":   # Notes documents are whole orders
        shape = "orders"
    if numbers is not None or shape == "orders":
        items = iter_orders(db, access, vd, numbers, page_size)
        rows = ((doc["_id"], doc_row(doc)) for doc in items) if shape == "rows" else None
        docs = items if shape == "orders" else None
    else:
        rows = ((r["id"], r.get("value") or {}) for r in iter_rows(db, access, vd, page_size))
        docs = None
    if fmt == "dxl":
        chunks = dxl_export.export(docs, lambda ids: _docs(db, access, ids), lambda o: _invoices(db, access, o))
    else:
        chunks = {"csv": _csv, "json": _json, "xml": _xml}[fmt](vd, rows, docs)
    return Stream(chunks, FORMATS[fmt] + ("; charset=utf-8" if fmt != "json" else ""),
                  f"{vd.name}{'-orders' if shape == 'orders' else ''}.{fmt}")


def _docs(db: Database, access: Access, ids: list[str]) -> dict[str, dict]:
    res = db.all_docs(keys=ids, include_docs=True)
    return {r["id"]: r["doc"] for r in res["rows"] if r.get("doc") and access.may_read(r["doc"])}


def _invoices(db: Database, access: Access, order: dict) -> list[dict]:
    ids = [f"invoice:{rec['number']}" for rec in order.get("invoices") or ()]
    return list(_docs(db, access, ids).values()) if ids else []


def iter_rows(db: Database, access: Access, vd: ViewDef, page_size: int = PAGE) -> Iterator[dict]:
    after = None
    while True:
        page = read_page(db, vd, access, after=after, limit=page_size)
        yield from page.rows
        if page.next_after is None:
            return
        after = page.next_after


def iter_orders(db: Database, access: Access, vd: ViewDef, numbers: list[str] | None,
                page_size: int = PAGE) -> Iterator[dict]:
    """Whole orders: a selection by number (in the order given), or every row of the view."""
    if numbers is not None:
        ids = [n if n.startswith("order:") else f"order:{n}" for n in numbers]
        batches: Iterable[list[str]] = (ids[i:i + page_size] for i in range(0, len(ids), page_size))
    else:
        batches = _id_pages(db, access, vd, page_size)
    for ids in batches:
        res = db.all_docs(keys=ids, include_docs=True)
        for row in res["rows"]:
            doc = row.get("doc")
            if doc and doc.get("type") == "order" and access.may_read(doc):
                yield doc


def _id_pages(db, access, vd, page_size):
    batch = []
    for row in iter_rows(db, access, vd, page_size):
        batch.append(row["id"])
        if len(batch) >= page_size:
            yield batch
            batch = []
    if batch:
        yield batch


def doc_row(doc: dict) -> dict:
    """An order as the catalog views' values show it (for a selection exported as rows)."""
    return {"number": doc["number"], "customer": doc["customer"]["name"], "status": doc["status"],
            "priority": doc.get("priority"), "net_cents": doc["totals"]["net_cents"], "currency": doc.get("currency"),
            "created_at": doc.get("created_at"), "updated_at": doc.get("updated_at"),
            "promised_date": doc.get("promised_date"), "external_ref": doc.get("external_ref")}


def _fmt(value, column: dict):
    if value is None:
        return ""
    if column.get("format") == "money" and isinstance(value, int):
        return f"{value / 100:.2f}"
    return value


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _csv(vd: ViewDef, rows, docs) -> Iterator[str]:
    line = CsvLines()
    if docs is None:
        yield line([c["title"] for c in vd.columns])
        for _, value in rows:
            yield line([_fmt(value.get(c["field"]), c) for c in vd.columns])
        return
    cols = ("number",) + ORDER_COLUMNS
    yield line(cols)
    for doc in docs:
        head = {"number": doc["number"], "external_ref": doc.get("external_ref") or doc["number"],
                "customer": doc["customer"]["id"].removeprefix("customer:"), "currency": doc.get("currency"),
                "promised_date": doc.get("promised_date"), "priority": doc.get("priority"),
                "status": doc["status"], "notes": doc.get("notes")}
        for ln in doc["lines"]:
            row = dict(head, sku=ln["sku"], description=ln.get("description"), qty=ln["qty"],
                       unit_price=_money(ln["unit_price_cents"]))
            yield line(["" if row.get(c) is None else row[c] for c in cols])


def _json(vd: ViewDef, rows, docs) -> Iterator[str]:
    if docs is None:
        yield '{"view": %s, "rows": [' % json.dumps(vd.name)
        first = True
        for row_id, value in rows:
            yield ("" if first else ",") + "\n" + json.dumps({"id": row_id, **value}, ensure_ascii=False)
            first = False
        yield "\n]}\n"
        return
    yield '{"orders": ['
    first = True
    for doc in docs:
        yield ("" if first else ",") + "\n" + json.dumps(doc, ensure_ascii=False)
        first = False
    yield "\n]}\n"


def _xml(vd: ViewDef, rows, docs) -> Iterator[str]:
    yield xmlformat.head()
    if docs is None:
        yield f'  <rows view="{vd.name}">\n'
        for row_id, value in rows:
            yield xmlformat.row_element(row_id, value, vd.columns)
        yield "  </rows>\n"
    else:
        yield "  <orders>\n"
        for doc in docs:
            yield xmlformat.order_element(doc)
        yield "  </orders>\n"
    yield xmlformat.tail()


def write_to(stream: Stream, out) -> int:
    """Write a stream to a binary file; returns bytes written (the CLI)."""
    n = 0
    for chunk in stream.chunks:
        data = chunk.encode("utf-8")
        out.write(data)
        n += len(data)
    return n
