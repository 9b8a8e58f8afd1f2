"""Our XML exchange format (docs/xml/orderdesk.xsd, docs/import-export.md): reading it safely and
writing it as a stream.

Reading goes through defusedxml's SAX parser: no DTD at all for our format, no entity
declarations (no expansion bombs), no external entities or DTD fetching; a hostile file is refused
as a whole with a clear sentence, before anything is written. A small tree with line numbers is
built so each record can be reported by the line it starts on."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, ErrorHandler
from xml.sax.saxutils import escape, quoteattr

import defusedxml.sax
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from .records import ImportRefused, Record, record_ref

NAMESPACE = "urn:orderdesk:exchange:1"
ROOT = "orderdesk"


@dataclass
class Node:
    tag: str
    attrs: dict
    line: int
    children: list = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> "Node | None":
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list["Node"]:
        return [c for c in self.children if c.tag == tag]

    def child_text(self, tag: str) -> str | None:
        c = self.find(tag)
        return c.text.strip() if c is not None else None


class _Builder(ContentHandler):
    def __init__(self):
        super().__init__()
        self.root: Node | None = None
        self.stack: list[Node] = []
        self.locator = None

    def setDocumentLocator(self, locator):
        self.locator = locator

    def startElement(self, name, attrs):
        node = Node(_local(name), {_local(k): v for k, v in attrs.items() if not k.startswith("xmlns")},
                    self.locator.getLineNumber() if self.locator else 0)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElement(self, name):
        self.stack.pop()

    def characters(self, content):
        if self.stack:
            self.stack[-1].text += content


class _Strict(ErrorHandler):
    def warning(self, exc):
        pass

    def error(self, exc):
        raise exc

    def fatalError(self, exc):
        raise exc


def _local(name: str) -> str:
    return name.split(":", 1)[1] if ":" in name else name


def parse(data: bytes, *, allow_doctype: bool = False):
    """Parse XML bytes into a Node tree, or raise ImportRefused with the reason.
    `allow_doctype`: a bare <!DOCTYPE x> is tolerated (DXL exports carry one) but still no
    entities and nothing external."""
    builder = _Builder()
    try:
        defusedxml.sax.parse(io.BytesIO(data), builder, errorHandler=_Strict(),
                             forbid_dtd=not allow_doctype, forbid_entities=True, forbid_external=True)
    except DTDForbidden:
        raise ImportRefused("refused: the XML carries a document type declaration (<!DOCTYPE ...>); our format "
                            "has none, and DTDs are how entity bombs and external entities get in. "
                            "Nothing was imported.") from None
    except EntitiesForbidden as exc:
        raise ImportRefused(f"refused: the XML declares an entity ({exc.name!r}); entities are never expanded "
                            "(entity-expansion bombs, external entities). Nothing was imported.") from None
    except ExternalReferenceForbidden as exc:
        raise ImportRefused(f"refused: the XML refers to an external resource ({exc.sysid!r}); nothing outside "
                            "the file is ever fetched. Nothing was imported.") from None
    except DefusedXmlException as exc:
        raise ImportRefused(f"refused: unsafe XML ({exc}). Nothing was imported.") from None
    except SAXParseException as exc:
        raise ImportRefused(f"not well-formed XML at line {exc.getLineNumber()}, column {exc.getColumnNumber()}: "
                            f"{exc.getMessage()}. Nothing was imported.") from None
    if builder.root is None:
        raise ImportRefused("the XML file has no root element")
    return builder.root


# ---------------------------------------------------------------- reading our format
_KIND_OF = {"orders": ("order", "orders"), "customers": ("customer", "customers"), "stock": ("item", "stock"),
            "products": ("product", "products")}


def read_records(data: bytes, kind: str | None = None):
    root = parse(data)
    if root.tag != ROOT:
        raise ImportRefused(f"the root element must be <{ROOT} xmlns=\"{NAMESPACE}\">, not <{root.tag}>")
    records = []
    for section in root.children:
        if section.tag not in _KIND_OF:
            raise ImportRefused(f"line {section.line}: unknown section <{section.tag}>; expected orders, customers, products or stock")
        if kind and section.tag != kind:
            raise ImportRefused(f"the file holds {section.tag} but {kind} were asked for")
        element, k = _KIND_OF[section.tag]
        for node in section.children:
            if node.tag != element:
                records.append(Record(k, node.line, {"__error__": f"<{section.tag}> holds <{element}> elements, not <{node.tag}>"}))
                continue
            data_ = {"orders": _order, "customers": _customer, "stock": _stock, "products": _product}[k](node)
            records.append(Record(k, node.line, data_, record_ref(k, data_)))
    return records


def _attr_or_child(node: Node, name: str) -> str | None:
    v = node.attrs.get(name)
    return v.strip() if v is not None else node.child_text(name)


def _order(node: Node) -> dict:
    data = {"external_ref": _attr_or_child(node, "external-ref") or "", "customer": _attr_or_child(node, "customer") or ""}
    for attr, key in (("currency", "currency"), ("status", "status"), ("priority", "priority"),
                      ("promised-date", "promised_date"), ("notes", "notes")):
        v = _attr_or_child(node, attr)
        if v:
            data[key] = v
    for group in ("readers", "authors"):
        g = node.find(group)
        if g is not None:
            data[group] = [n.text.strip() for n in g.findall("name") if n.text.strip()]
    data["lines"] = []
    for ln in node.findall("line"):
        line = {"sku": ln.attrs.get("sku", ""), "qty": ln.attrs.get("qty", ""), "unit_price": ln.attrs.get("unit-price", "")}
        desc = ln.child_text("description") or (ln.text.strip() if not ln.children else "")
        if desc:
            line["description"] = desc
        data["lines"].append(line)
    return data


def _customer(node: Node) -> dict:
    data = {"id": node.attrs.get("id", ""), "name": _attr_or_child(node, "name") or ""}
    for attr, key in (("tier", "tier"), ("currency", "currency"), ("credit-limit", "credit_limit"),
                      ("open-balance", "open_balance"), ("days-late", "days_late"), ("partner", "partner"),
                      ("credit-hold", "credit_hold")):
        v = _attr_or_child(node, attr)
        if v not in (None, ""):
            data[key] = v
    contacts = [{k: v for k, v in c.attrs.items() if k in ("name", "email", "phone")} for c in node.findall("contact")]
    if contacts:
        data["contacts"] = contacts
    return data


def _product(node: Node) -> dict:
    """<product sku="WID-100" unit="each" tax-class="standard" status="active">
         <description>Widget</description><price currency="EUR">4.50</price></product>"""
    data = {"sku": node.attrs.get("sku", "")}
    for attr, key in (("description", "description"), ("unit", "unit"), ("tax-class", "tax_class"), ("status", "status")):
        v = _attr_or_child(node, attr)
        if v not in (None, ""):
            data[key] = v
    prices = {p.attrs.get("currency", ""): p.text.strip() for p in node.findall("price")}
    if prices:
        data["list_prices"] = prices
    return data


def _stock(node: Node) -> dict:
    row = {"sku": node.attrs.get("sku", ""), "warehouse": node.attrs.get("warehouse", ""),
           "on_hand": node.attrs.get("on-hand", "")}
    if node.attrs.get("bin"):
        row["bin"] = node.attrs["bin"]
    return row


# ---------------------------------------------------------------- writing (streaming)
def head() -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{ROOT} xmlns="{NAMESPACE}" version="1">\n'


def tail() -> str:
    return f"</{ROOT}>\n"


def _money(cents) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def order_element(doc: dict) -> str:
    attrs = {"external-ref": doc.get("external_ref") or doc["number"], "number": doc["number"],
             "customer": doc["customer"]["id"].removeprefix("customer:"), "currency": doc.get("currency", ""),
             "status": doc["status"], "priority": str(doc.get("priority", 3))}
    out = ["  <order" + "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items() if v) + ">\n"]
    if doc.get("promised_date"):
        out.append(f"    <promised-date>{escape(doc['promised_date'])}</promised-date>\n")
    if doc.get("notes"):
        out.append(f"    <notes>{escape(doc['notes'])}</notes>\n")
    for group in ("readers", "authors"):
        if doc.get(group):
            out.append(f"    <{group}>" + "".join(f"<name>{escape(n)}</name>" for n in doc[group]) + f"</{group}>\n")
    for line in doc["lines"]:
        out.append(f"    <line sku={quoteattr(line['sku'])} qty=\"{line['qty']}\" "
                   f"unit-price=\"{_money(line['unit_price_cents'])}\"")
        out.append(f"><description>{escape(line['description'])}</description></line>\n" if line.get("description") else "/>\n")
    out.append("  </order>\n")
    return "".join(out)


def row_element(row_id: str, value: dict, columns) -> str:
    cells = "".join(f"<cell name={quoteattr(c['field'])}>{escape(_cell(value.get(c['field'])))}</cell>" for c in columns)
    return f"    <row id={quoteattr(row_id)}>{cells}</row>\n"


def _cell(v) -> str:
    return "" if v is None else str(v)
