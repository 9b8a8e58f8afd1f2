"""Order documents for view tests, valid for validate_doc_update (schema + history), written in
bulk as admin where a test needs volume, with numbers claimed from the real counter."""
from __future__ import annotations

import datetime as dt
import random

from oms.store.numbers import NumberAllocator

CUSTOMERS = [("C0001", "Acme Ltd"), ("C0002", "Globex Corporation"), ("C0003", "Initech"),
             ("C0004", "Umbrella Trading"), ("C0005", "Stark Industries")]
SKUS = [("WID-100", 450), ("WID-200", 1200), ("GAD-310", 3990), ("GIZ-400", 725)]


def order_doc(number: str, *, status: str = "submitted", customer=("C0001", "Acme Ltd"), by: str = "sally",
              at: str = "2026-11-20T09:00:00Z", lines=None, **fields) -> dict:
    lines = lines or [{"sku": "WID-100", "qty": 2, "unit_price_cents": 450}]
    full = [{"line": i + 1, "sku": l["sku"], "qty": l["qty"], "unit_price_cents": l["unit_price_cents"],
             "amount_cents": l["qty"] * l["unit_price_cents"], **({"shipped_qty": l["shipped_qty"]} if "shipped_qty" in l else {})}
            for i, l in enumerate(lines)]
    doc = {"_id": f"order:{number}", "type": "order", "number": number,
           "customer": {"id": f"customer:{customer[0]}", "name": customer[1]},
           "lines": full, "totals": {"net_cents": sum(l["amount_cents"] for l in full), "qty": sum(l["qty"] for l in full)},
           "currency": "EUR", "status": status, "priority": 3, "version": 1,
           "created_by": by, "created_at": at, "updated_by": by, "updated_at": at,
           "authors": [by, "[Sales]"],
           "history": [{"at": at, "by": by, "action": "create", "from": None, "to": status}]}
    doc.update(fields)
    return doc


def bulk_orders(admin_db, n: int, numbers: NumberAllocator | None = None, seed: int = 1, batch: int = 2000,
                **fields) -> list[str]:
    """n varied orders written through _bulk_docs as admin; returns their numbers."""
    numbers = numbers or NumberAllocator(block=max(20, min(n, 5000)))
    rnd = random.Random(seed)
    out, docs = [], []
    base = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.timezone.utc)
    states = ["draft", "submitted", "approved", "allocated", "picking", "shipped", "closed"]
    for i in range(n):
        num = numbers.next(admin_db)
        sku, price = rnd.choice(SKUS)
        at = (base + dt.timedelta(minutes=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = order_doc(num, status=fields.get("status") or rnd.choice(states), customer=rnd.choice(CUSTOMERS),
                        at=at, lines=[{"sku": sku, "qty": rnd.randint(1, 9), "unit_price_cents": price}],
                        **{k: v for k, v in fields.items() if k != "status"})
        doc["priority"] = fields.get("priority", rnd.randint(1, 5))
        docs.append(doc)
        out.append(num)
        if len(docs) >= batch:
            _write(admin_db, docs)
            docs = []
    if docs:
        _write(admin_db, docs)
    return out


def _write(db, docs):
    res = db.bulk(docs)
    bad = [r for r in res if r.get("error")]
    if bad:
        raise AssertionError(f"bulk write refused {len(bad)} orders, e.g. {bad[0]}")


def product_doc(sku: str, prices=None, tax_class: str = "standard", status: str = "active", **fields) -> dict:
    """A catalog product as the Products page writes it (list prices net, in cents by currency)."""
    return {"_id": f"product:{sku}", "type": "product", "sku": sku, "description": fields.pop("description", f"Product {sku}"),
            "unit": "each", "list_prices": prices or {"EUR": 100, "GBP": 90, "USD": 110}, "tax_class": tax_class,
            "status": status, **fields}


def repriced(doc: dict, line_index: int, unit_cents: int) -> dict:
    """`doc` with one line's unit price changed and everything that follows from it (amount, tax,
    totals) made consistent, as a client that knows the rulebook would write it: so that what a
    test sees refused is the rule it is about, not a sum that does not add up."""
    from oms.catalog import pricing
    from oms.ordering.orders import totals
    line = doc["lines"][line_index]
    line["unit_price_cents"], line["amount_cents"] = unit_cents, line["qty"] * unit_cents
    country = (doc.get("ship_to") or {}).get("country")
    if "tax_rate_bp" in line:
        line["tax_cents"] = pricing.tax_cents(line["amount_cents"], line["tax_rate_bp"])
    doc["totals"] = totals(doc["lines"], country, doc["totals"].get("shipping_cents", 0))
    return doc
