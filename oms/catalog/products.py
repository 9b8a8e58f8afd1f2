"""The catalog: products `product:<SKU>` (what the desk sells, its list prices per currency and
tax class) and price lists `pricelist:<id>` (per customer tier or customer, with validity dates
and quantity breaks), kept by the [Catalog] role through the Products page, the API and feeds.
Shapes are rules/schema.json's; who may write them is lib/validate_catalog.js's; what a price
is, oms/catalog/pricing.py's. Order entry reads them through `book()` (a memory, see
oms/core/memories.py)."""
from __future__ import annotations

from dataclasses import dataclass

from oms.core import memories, schema
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.inputs import FeedReport, optional_text, upsert_rows
from oms.core.money import to_cents
from oms.identity.acl import Access
from oms.store.couch import Conflict, Database, NotFound

from . import pricing

SKU = schema.pattern("product", "sku")
PRODUCT_FIELDS = ("description", "unit", "list_prices", "tax_class", "status")
_ACCEPTED = {*PRODUCT_FIELDS, "sku", "id", "_id", "type"}


def product_id(sku: str) -> str:
    return f"product:{check_sku(sku)}"


def check_sku(sku) -> str:
    text = sku.strip().upper() if isinstance(sku, str) else sku
    if not isinstance(text, str) or not SKU.search(text):
        raise InvalidInput(f"a SKU is 1 to 40 capital letters, digits or . _ - like \"WID-100\", not {sku!r}")
    return text


def _prices(raw, where: str) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise InvalidInput(f'{where} must be prices by currency, like {{"EUR": "12.50", "GBP": "10.90"}}')
    out = {}
    for currency, amount in raw.items():
        cur = str(currency).strip().upper()
        if cur not in pricing.pricing_rules()["currencies"]:
            raise InvalidInput(f"{where}: {currency!r} is not a currency the desk sells in "
                               f"({', '.join(pricing.pricing_rules()['currencies'])})")
        out[cur] = amount if isinstance(amount, int) and not isinstance(amount, bool) else to_cents(amount, f"{where}.{cur}")
    return out


def product_from_input(data: dict) -> dict:
    """The product fields a feed row, an API body or the Products form sends, normalised (money
    in cents). Prices come as {"EUR": "12.50"} or a feed's flat columns price_eur, price_gbp."""
    if not isinstance(data, dict):
        raise InvalidInput("a product must be a JSON object")
    flat = {k for k in data if isinstance(k, str) and k.lower().startswith("price_")}
    unknown = sorted(k for k in data if k not in _ACCEPTED and k not in flat)
    if unknown:
        raise InvalidInput(f"unknown product field(s) {', '.join(unknown)}; allowed: "
                           + ", ".join(sorted({*PRODUCT_FIELDS, "sku"})) + ", price_<currency>")
    sent = {k: v for k, v in data.items() if v is not None and not (isinstance(v, str) and not v.strip())}
    out: dict = {}
    for k in ("description", "unit", "tax_class", "status"):
        if k in sent:
            out[k] = optional_text(sent[k], k)
    if "unit" in out:
        out["unit"] = out["unit"].lower()
    if "status" in out:
        out["status"] = out["status"].lower()
    prices = dict(_prices(sent["list_prices"], "list_prices")) if "list_prices" in sent else {}
    prices.update(_prices({k[len("price_"):]: v for k, v in sent.items() if k in flat}, "price"))
    if prices or "list_prices" in sent:
        out["list_prices"] = prices
    return out


def row_sku(data: dict) -> str:
    for key in ("sku", "id", "_id"):
        if isinstance(data, dict) and data.get(key):
            return check_sku(str(data[key]).removeprefix("product:"))
    raise InvalidInput('each product needs its SKU in "sku", e.g. "WID-100"')


class ProductService:
    """Products as one identity (a [Catalog] person, a Manager, or the system identity that
    syncs a feed). Every write goes to CouchDB as that identity."""

    def __init__(self, db: Database, access: Access, clock=utcnow):
        self.db, self.access, self.clock = db, access, clock

    def get(self, sku: str) -> dict:
        doc = self.db.get_or_none(product_id(sku))
        if doc is None or doc.get("type") != "product":
            raise NotFound(f"no product {sku}")
        return doc

    def upsert(self, sku: str, data: dict) -> tuple[str, dict]:
        """Create or update the product `sku` with the fields `data` sends; the same input twice
        writes once ('created'/'updated', then 'unchanged')."""
        sku = check_sku(sku)
        fields = product_from_input(data)
        for _ in range(5):
            current = self.db.get_or_none(f"product:{sku}")
            if current is not None and current.get("type") != "product":
                raise InvalidInput(f"product:{sku} is not a product document")
            base = dict(current) if current else {
                "_id": f"product:{sku}", "type": "product", "sku": sku, "unit": "each", "status": "active",
                "tax_class": pricing.pricing_rules()["default_tax_class"], "list_prices": {}}
            new = {**base, **fields}
            if "list_prices" in fields:   # a price in one currency leaves the others as they are
                new["list_prices"] = {**base.get("list_prices", {}), **fields["list_prices"]}
            if current is None and "description" not in new:
                raise InvalidInput(f"a new product needs a description (product {sku})")
            if current is not None and all(current.get(k) == new.get(k) for k in PRODUCT_FIELDS):
                return "unchanged", current
            problems = pricing.check_product(new)
            if problems:
                raise InvalidInput(f"product {sku}: {problems[0]}")
            new["updated_at"], new["updated_by"] = self.clock(), self.access.name
            try:
                saved = self.db.save(new)
            except Conflict:
                continue
            memories.forget_catalog(self.db.name)   # order entry here prices with it at once
            return ("created" if current is None else "updated"), saved
        raise Conflict(f"product {sku} keeps changing; try again")

    def import_rows(self, rows, progress=None) -> FeedReport:
        """A product feed (rows as dicts, CSV or JSON): good rows go in, each bad row is reported
        with its number and reason; the same feed again changes nothing."""
        return upsert_rows(rows, lambda sku, row: self.upsert(sku, {k: v for k, v in row.items() if k not in ("id", "_id")}),
                           row_sku, "sku", progress)

    def page(self, after: str | None = None, limit: int = 50) -> tuple[list[dict], str | None]:
        """Products by SKU, a page at a time by key. Returns (docs, the SKU to continue after)."""
        start = f"product:{after}\u0000" if after else "product:"
        res = self.db.all_docs(start_key=start, end_key="product:\ufff0", include_docs=True, limit=limit + 1)
        docs = [r["doc"] for r in res["rows"] if r.get("doc")]
        more = len(docs) > limit
        docs = docs[:limit]
        return docs, (docs[-1]["sku"] if more and docs else None)

    def search(self, text: str, limit: int = 12, active_only: bool = True) -> list[dict]:
        """Products whose SKU or a word of whose description starts with `text` (the picker)."""
        word = (text or "").strip().lower().split()
        if not word:
            return []
        first = word[0][:40]
        res = self.db.view("catalog", "products_by_word", start_key=first, end_key=first + "\ufff0",
                           limit=limit * 4)
        found: dict[str, dict] = {}
        for r in res["rows"]:
            v = r["value"]
            if active_only and v.get("status") != "active":
                continue
            haystack = f"{v['sku']} {v.get('description', '')}".lower()
            if all(w in haystack for w in word[1:]):
                found.setdefault(v["sku"], v)
        return sorted(found.values(), key=lambda v: v["sku"])[:limit]


def pricelist_id(ref: str) -> str:
    ref = ref.removeprefix("pricelist:") if isinstance(ref, str) else ref
    doc_id = f"pricelist:{ref}"
    if not isinstance(ref, str) or not schema.pattern("pricelist", "_id").search(doc_id):
        raise InvalidInput(f"a price list id is 1 to 40 letters, digits or . _ - like \"GOLD-2026\", not {ref!r}")
    return doc_id


class PriceListService:
    """Price lists as one identity; a list is written whole (its items are its prices)."""

    def __init__(self, db: Database, access: Access, clock=utcnow):
        self.db, self.access, self.clock = db, access, clock

    def all(self) -> list[dict]:
        res = self.db.all_docs(start_key="pricelist:", end_key="pricelist:\ufff0", include_docs=True)
        return [r["doc"] for r in res["rows"] if r.get("doc") and r["doc"].get("type") == "pricelist"]

    def put(self, ref: str, data: dict) -> tuple[str, dict]:
        doc_id = pricelist_id(ref)
        if not isinstance(data, dict):
            raise InvalidInput("a price list must be a JSON object")
        fields = {k: v for k, v in data.items() if k not in ("_id", "_rev", "type", "updated_at", "updated_by")}
        for _ in range(5):
            current = self.db.get_or_none(doc_id)
            if current is not None and current.get("type") != "pricelist":
                raise InvalidInput(f"{doc_id} is not a price list")
            new = {"_id": doc_id, "type": "pricelist", **fields}
            if current is not None:
                new["_rev"] = current["_rev"]
                if all(current.get(k) == new.get(k) for k in set(new) | set(current)
                       if k not in ("_rev", "updated_at", "updated_by")):
                    return "unchanged", current
            problems = pricing.check_pricelist(new)
            if problems:
                raise InvalidInput(f"price list {doc_id[len('pricelist:'):]}: {problems[0]}")
            new["updated_at"], new["updated_by"] = self.clock(), self.access.name
            try:
                saved = self.db.save(new)
            except Conflict:
                continue
            memories.forget_catalog(self.db.name)
            return ("created" if current is None else "updated"), saved
        raise Conflict(f"price list {ref} keeps changing; try again")


@dataclass(frozen=True)
class Book:
    """What order entry prices from: the products an order names and every price list."""
    products: dict[str, dict]
    price_lists: tuple[dict, ...]

    def product(self, sku: str) -> dict | None:
        return self.products.get(sku)


def book(db: Database, skus) -> Book:
    """The products `skus` name and the price lists, from this process's memory when fresh
    enough (memories.CATALOG_SECONDS), else read in one request each."""
    skus = sorted(set(skus))
    known = {s: memories.catalog.get((db.name, s)) for s in skus}
    missing = [s for s, doc in known.items() if doc is None]
    if missing:
        res = db.all_docs(keys=[f"product:{s}" for s in missing], include_docs=True)
        for r in res["rows"]:
            sku = r["key"][len("product:"):]
            known[sku] = r.get("doc") or {}
            memories.catalog.put((db.name, sku), known[sku])
    lists = memories.catalog.get((db.name, None))
    if lists is None:
        lists = tuple(PriceListService(db, None).all())
        memories.catalog.put((db.name, None), lists)
    return Book({s: d for s, d in known.items() if d.get("type") == "product"}, lists)
