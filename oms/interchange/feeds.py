"""Feeds from the CRM and the WMS: JSON or CSV in, rows applied one by one (good rows go in, each
bad row is reported with its number and reason), idempotent by key (customer id; SKU and
warehouse), so a feed can be re-sent safely.

CRM rows: id, name, tier, credit_limit ("5000.00") or credit_limit_cents, open_balance(_cents),
days_late, currency, partner, credit_hold, contact_name/contact_email/contact_phone (CSV) or
contacts [...] (JSON).
WMS rows: sku, warehouse, and either on_hand (a count: sets it) or received (a receipt: adds);
optional description and bin (where the SKU lies: the pick list walks the bins in order). A receipt, or a count that frees stock, serves backorders in priority
order (as the system identity)."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from oms.core.errors import InvalidInput
from oms.core.inputs import no_constants, optional_text, whole_number
from oms.store.couch import Conflict, Forbidden
from oms.wms.stock import StockService, clean_sku, clean_warehouse


def parse(body: bytes | str, content_type: str = "", key: str = "rows") -> list[dict]:
    """Rows from a JSON array ({"<key>": [...]} too) or a CSV text with a header line."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body.lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the feed is not UTF-8 text (byte {exc.start}); send it as UTF-8") from None
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("application/json", "json") or (not kind and text.lstrip()[:1] in ("[", "{")):
        try:
            data = json.loads(text, parse_constant=no_constants)
        except ValueError as exc:
            raise InvalidInput(f"the feed is not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get(key, data.get("rows"))
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InvalidInput(f'a JSON feed is an array of objects (or {{"{key}": [...]}})')
        return data
    if kind in ("text/csv", "csv", "application/csv", "") or kind.startswith("text/"):
        # newline="": the csv module reads line ends itself (a lone \r in a field was a 500), as
        # oms/interchange/formats.py does
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            if not reader.fieldnames:
                raise InvalidInput("the CSV feed needs a header line")
            return [{(k or "").strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
        except csv.Error as exc:
            raise InvalidInput(f"the CSV feed cannot be read at line {reader.line_num + 1}: {exc}") from None
    raise InvalidInput(f"send the feed as application/json or text/csv, not {content_type!r}")


@dataclass
class StockReport:
    counted: int = 0
    received: int = 0
    unchanged: int = 0
    served: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"counted": self.counted, "received": self.received, "unchanged": self.unchanged,
                "served": self.served, "errors": self.errors}


def import_stock(rows: list[dict], stock: StockService, agent, progress=None) -> StockReport:
    """Apply WMS rows as `stock`'s identity; then serve backorders of every SKU that gained stock
    (once per SKU, after the whole feed, as the system identity `agent`)."""
    from oms.fulfilment.handoffs import allocate_backorders
    report, gained = StockReport(), []
    for n, row in enumerate(rows, start=1):
        try:
            sku = clean_sku(row.get("sku"))
            wh = clean_warehouse(row.get("warehouse") or "MAIN")
            desc = optional_text(row.get("description"), "description", 500)
            has_count = str(row.get("on_hand", "")).strip() != ""
            has_receipt = str(row.get("received", "")).strip() != ""
            if has_count == has_receipt:
                raise InvalidInput("a stock row has either on_hand (a count) or received (a receipt)")
            if has_receipt:
                stock.receive(sku, wh, whole_number(row["received"], "received", 1), desc)
                report.received += 1
                gained.append(sku)
            else:
                before = next((d for d in stock.levels(sku) if d["warehouse"] == wh), None)
                doc = stock.set_count(sku, wh, whole_number(row["on_hand"], "on_hand", 0), desc, row.get("bin"))
                if before is not None and before["_rev"] == doc["_rev"]:
                    report.unchanged += 1
                else:
                    report.counted += 1
                    if before is None or doc["on_hand"] > before["on_hand"]:
                        gained.append(sku)
        except (InvalidInput, Conflict, Forbidden) as exc:
            report.errors.append({"row": n, "sku": str(row.get("sku", "")), "reason": exc.reason})
        if progress and n % 100 == 0:
            progress(n)
    for sku in dict.fromkeys(gained):
        report.served += allocate_backorders(sku, agent)
    return report
