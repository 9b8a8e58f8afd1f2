"""Reading import files into records: CSV, JSON (and JSON Lines) here, XML in oms/interchange/xmlformat.py,
DXL in oms/interchange/dxl.py. Each record keeps the line it starts on, so problems can be reported by line.
A file that cannot be read as a whole raises ImportRefused: nothing is written then."""
from __future__ import annotations

import csv
import io
import json
from typing import Iterable

from oms.core.errors import InvalidInput

from . import xmlformat
from .csvtext import read_cell
from .records import ImportRefused, Record, record_ref

KINDS = ("customers", "products", "stock", "orders")   # the order they are applied in: orders need customers and products


def format_from_name(name: str) -> str:
    lower = name.lower()
    for ext, fmt in ((".csv", "csv"), (".json", "json"), (".jsonl", "json"), (".ndjson", "json"),
                     (".xml", "xml"), (".dxl", "dxl")):
        if lower.endswith(ext):
            return fmt
    raise ImportRefused(f"cannot tell the format of {name!r}: name it .csv, .json, .xml or .dxl")


def format_from_mimetype(mimetype: str) -> str:
    m = (mimetype or "").lower()
    if m in ("text/csv", "application/csv"):
        return "csv"
    if m in ("application/json", "application/x-ndjson"):
        return "json"
    if m in ("application/xml", "text/xml"):
        return "xml"
    if m in ("application/vnd.lotus-dxl", "application/dxl"):
        return "dxl"
    raise InvalidInput("send the file as text/csv, application/json or application/xml")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def read_records(data: bytes, fmt: str, kind: str | None = None) -> list[Record]:
    if kind is not None and kind not in KINDS:
        raise ImportRefused(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if fmt == "csv":
        return read_csv(_text(data), kind)
    if fmt == "json":
        return read_json(_text(data), kind)
    if fmt == "xml":
        return xmlformat.read_records(data, kind)
    raise ImportRefused(f"unknown format {fmt!r}: csv, json or xml (DXL has its own import: oms import FILE.dxl)")


ORDER_COLUMNS = ("external_ref", "customer", "currency", "promised_date", "priority", "status", "notes",
                 "sku", "description", "qty", "unit_price")
CUSTOMER_COLUMNS = ("id", "name", "tier", "currency", "credit_limit", "open_balance", "days_late", "partner",
                    "credit_hold", "contact_name", "contact_email", "contact_phone")
STOCK_COLUMNS = ("sku", "warehouse", "on_hand", "bin")
PRODUCT_COLUMNS = ("sku", "description", "unit", "tax_class", "status", "price_eur", "price_gbp", "price_usd")


def infer_kind(fields: Iterable[str]) -> str | None:
    f = set(fields)
    if {"sku", "warehouse", "on_hand"} <= f:
        return "stock"
    if {"external_ref", "sku", "qty"} <= f:
        return "orders"
    if "sku" in f and ("description" in f or any(k.startswith("price_") for k in f) or "list_prices" in f):
        return "products"
    if "name" in f and ("id" in f or "customer_id" in f):
        return "customers"
    return None


def read_csv(text: str, kind: str | None = None) -> list[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("the file is empty: the first line must name the columns") from None
    except csv.Error as exc:
        raise ImportRefused(f"line 1: {exc}") from None
    header = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    kind = kind or infer_kind(header)
    if kind is None:
        raise ImportRefused("cannot tell what the file holds from its columns; orders need external_ref, "
                            "sku, qty, unit_price; customers id, name; stock sku, warehouse, on_hand")
    # "number" is written by exports (oms/interchange/exporting.py) and ignored here: we number orders ourselves
    known = {"orders": ORDER_COLUMNS + ("number",), "customers": CUSTOMER_COLUMNS + ("customer_id",),
             "stock": STOCK_COLUMNS, "products": PRODUCT_COLUMNS}[kind]
    unknown = [h for h in header if h and h not in known]
    if unknown:
        raise ImportRefused(f"unknown column(s) {', '.join(unknown)} for {kind}; known: {', '.join(known)}")
    rows: list[tuple[int, dict]] = []
    last = 1
    try:
        for values in reader:
            line = last + 1
            last = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                rows.append((line, {"__error__": f"{len(values)} values but {len(header)} columns"}))
                continue
            rows.append((line, {h: read_cell(v.strip()) for h, v in zip(header, values) if h}))
    except csv.Error as exc:
        raise ImportRefused(f"line {reader.line_num}: {exc}") from None
    if kind == "orders":
        return _group_order_rows(rows)
    return [Record(kind, line, row, record_ref(kind, row)) for line, row in rows]


def _group_order_rows(rows: list[tuple[int, dict]]) -> list[Record]:
    """One CSV row per order line; rows sharing an external_ref form one order (header fields
    from its first row). A bad row makes its whole order bad: nothing is half-written."""
    by_ref: dict[str, Record] = {}
    out: list[Record] = []
    for line, row in rows:
        if "__error__" in row:
            out.append(Record("orders", line, {"__error__": row["__error__"]}))
            continue
        ref = row.get("external_ref", "")
        if not ref:
            out.append(Record("orders", line, {"__error__": "external_ref is required, so that importing the "
                                                           "file again creates no duplicate"}))
            continue
        rec = by_ref.get(ref)
        if rec is None:
            data = {"external_ref": ref, "customer": row.get("customer", ""), "lines": []}
            for k in ("currency", "promised_date", "notes", "status"):
                if row.get(k):
                    data[k] = row[k]
            if row.get("priority"):
                data["priority"] = row["priority"]
            rec = by_ref[ref] = Record("orders", line, data, ref)
            out.append(rec)
        line_input = {"sku": row.get("sku", ""), "qty": row.get("qty", ""), "unit_price": row.get("unit_price", "")}
        if row.get("description"):
            line_input["description"] = row["description"]
        rec.data["lines"].append(line_input)
        rec.data.setdefault("__lines__", []).append(line)
    return out


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


class _Lines:
    """Line numbers of offsets met in increasing order: counts only the stretch since the last
    one (a big file's records are numbered in linear time, not quadratic)."""

    def __init__(self, text: str):
        self.text, self.offset, self.line = text, 0, 1

    def of(self, offset: int) -> int:
        if offset < self.offset:
            return self.text.count("\n", 0, offset) + 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _no_constant(name: str):
    # Python's json takes NaN and Infinity, which are not JSON (RFC 8259): refuse the file.
    raise ValueError(f"{name} is not a JSON value")


def _loads(text: str):
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise json.JSONDecodeError(str(exc), text, 0) from None


def read_json(text: str, kind: str | None = None) -> list[Record]:
    """{"orders": [...], "customers": [...], "stock": [...]}, or an array of one kind, or JSON Lines."""
    records = _read_json_at_once(text, kind)
    return records if records is not None else _read_json_checked(text, kind)


def _read_json_at_once(text: str, kind: str | None) -> list[Record] | None:
    """A well-formed file's records in one pass, each decoded once and nothing else decoded, or
    None wherever anything is out of the ordinary (bad JSON, NaN, an unknown key, a kind that
    does not match, JSON Lines...): _read_json_checked then says what, in its own words."""
    dec = json.JSONDecoder(parse_constant=_no_constant)
    records: list[Record] = []
    lines = _Lines(text)
    try:
        i = _skip_ws(text, 0)
        if text[i] == "[":
            i = _strict_array(text, i, dec, lambda obj, at: records.append(_json_record(obj, kind, lines.of(at))))
        elif text[i] == "{":
            i = _skip_ws(text, i + 1)
            more = text[i] != "}"
            i = i if more else i + 1
            while more:
                if text[i] != '"':
                    return None
                key, i = dec.raw_decode(text, i)
                i = _skip_ws(text, i)
                if text[i] != ":":
                    return None
                i = _skip_ws(text, i + 1)
                if key not in KINDS or text[i] != "[" or (kind and key != kind):
                    return None
                i = _strict_array(text, i, dec,
                                  lambda obj, at, key=key: records.append(_json_record(obj, key, lines.of(at))))
                i = _skip_ws(text, i)
                if text[i] not in ",}":
                    return None
                more = text[i] == ","
                i = _skip_ws(text, i + 1) if more else i + 1
        else:
            return None
    except (ValueError, IndexError):   # JSONDecodeError is a ValueError; so is NaN (_no_constant)
        return None
    return records if _skip_ws(text, i) == len(text) else None


def _strict_array(text: str, i: int, dec, emit) -> int:
    """emit(value, offset) for each value of the array at i; the offset just past its ']'."""
    i = _skip_ws(text, i + 1)
    if text[i] == "]":
        return i + 1
    while True:
        obj, end = dec.raw_decode(text, i)
        emit(obj, i)
        i = _skip_ws(text, end)
        if text[i] == "]":
            return i + 1
        if text[i] != ",":
            raise ValueError("expected , or ]")
        i = _skip_ws(text, i + 1)


def _read_json_checked(text: str, kind: str | None = None) -> list[Record]:
    """read_json for any file: the whole text parsed first, so a bad file is refused with the
    place of its first error, then walked record by record for their lines."""
    dec = json.JSONDecoder(parse_constant=_no_constant)
    stripped = text.strip()
    if not stripped:
        raise ImportRefused("the file is empty")
    try:
        _loads(text)
    except json.JSONDecodeError as exc:
        if stripped.startswith("{") and "\n{" in stripped:
            return _read_json_lines(text, kind)
        raise ImportRefused(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    records: list[Record] = []
    lines = _Lines(text)
    i = _skip_ws(text, 0)
    if text[i] == "[":
        for obj, at in _array(text, i, dec):
            records.append(_json_record(obj, kind, lines.of(at)))
        return records
    if text[i] != "{":
        raise ImportRefused('the JSON must be an object like {"orders": [...]} or an array')
    i = _skip_ws(text, i + 1)
    while text[i] != "}":
        key, i = dec.raw_decode(text, i)
        i = _skip_ws(text, _skip_ws(text, i) + 1)   # past the colon
        if key in KINDS and text[i] == "[":
            if kind and key != kind:
                raise ImportRefused(f"the file holds {key} but {kind} were asked for")
            for obj, at in _array(text, i, dec):
                records.append(_json_record(obj, key, lines.of(at)))
            _, i = dec.raw_decode(text, i)
        elif key in KINDS:
            raise ImportRefused(f"{key} must be an array")
        else:
            raise ImportRefused(f'unknown key {key!r} at line {lines.of(i)}; expected {", ".join(KINDS)}')
        i = _skip_ws(text, i)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
    return records


def _array(text: str, i: int, dec):
    i = _skip_ws(text, i + 1)
    if text[i] == "]":
        return
    while True:
        obj, end = dec.raw_decode(text, i)
        yield obj, i
        i = _skip_ws(text, end)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
            continue
        return


def _read_json_lines(text: str, kind: str | None) -> list[Record]:
    records = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = _loads(raw)
        except json.JSONDecodeError as exc:
            raise ImportRefused(f"line {n} is not valid JSON: {exc.msg}") from None
        records.append(_json_record(obj, kind, n))
    return records


def _json_record(obj, kind: str | None, line: int) -> Record:
    if not isinstance(obj, dict):
        return Record(kind or "orders", line, {"__error__": "each record must be a JSON object"})
    k = kind or obj.get("kind") or infer_kind(obj.keys()) or ("orders" if "lines" in obj else None)
    if k not in KINDS:
        return Record("orders", line, {"__error__": "cannot tell whether this is an order, customer, product or stock record"})
    data = {key: v for key, v in obj.items() if key != "kind"}
    ref = record_ref(k, data)
    return Record(k, line, data, ref if isinstance(ref, str) else None)
