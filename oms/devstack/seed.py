"""Demo data: customers (as a CRM feed would bring them, admin-written) and orders placed and
moved along by the demo people themselves, so every order passed validate_doc_update."""
from __future__ import annotations

import random

from oms.core.config import Settings
from oms.core.errors import InvalidInput
from oms.identity import acl, people
from oms.ordering import workflow
from oms.ordering.orders import OrderService
from oms.store.couch import CouchServer
from oms.store.numbers import NumberAllocator

CUSTOMERS = [
    ("C0001", "Acme Ltd", "gold"), ("C0002", "Globex Corporation", "silver"),
    ("C0003", "Initech", "bronze"), ("C0004", "Umbrella Trading", "silver"),
    ("C0005", "Stark Industries", "gold"), ("C0006", "Wayne Enterprises", "gold"),
    ("C0007", "Hooli", "bronze"), ("C0008", "Soylent GmbH", "silver"),
]
PRODUCTS = [("WID-100", "Widget, small", "4.50"), ("WID-200", "Widget, large", "12.00"),
            ("GAD-310", "Gadget", "39.90"), ("GIZ-400", "Gizmo", "7.25"),
            ("SPR-010", "Sprocket", "0.80"), ("BOLT-M8", "Bolt M8", "0.15")]
# The CRM side of the demo customers: credit limits and payment behaviour (in EUR cents). Initech
# is near its limit and Hooli pays late, so some of their orders land on credit hold.
PROFILES = {
    "C0001": {"credit_limit_cents": 5_000_000, "open_balance_cents": 250_000, "days_late": 4},
    "C0002": {"credit_limit_cents": 2_000_000, "open_balance_cents": 400_000, "days_late": 12},
    "C0003": {"credit_limit_cents": 60_000, "open_balance_cents": 45_000, "days_late": 35},
    "C0004": {"credit_limit_cents": 1_500_000, "open_balance_cents": 0, "days_late": 0},
    "C0005": {"credit_limit_cents": 10_000_000, "open_balance_cents": 1_200_000, "days_late": 2},
    "C0006": {"credit_limit_cents": 8_000_000, "open_balance_cents": 0, "days_late": 0},
    "C0007": {"credit_limit_cents": 500_000, "open_balance_cents": 90_000, "days_late": 120},
    "C0008": {"credit_limit_cents": 1_000_000, "open_balance_cents": 150_000, "days_late": 20},
}
# The WMS side: (sku, warehouse, on hand). Gadgets are scarce, so orders for them backorder.
STOCK = [("WID-100", "MAIN", 400), ("WID-100", "EAST", 150), ("WID-200", "MAIN", 250),
         ("GAD-310", "MAIN", 25), ("GIZ-400", "MAIN", 300), ("GIZ-400", "EAST", 80),
         ("SPR-010", "MAIN", 2000), ("BOLT-M8", "MAIN", 5000)]
# Steps the demo takes on some orders: (who, action, reason)
PATH = [("sally", "submit", None), ("carl", "approve", None), ("wanda", "allocate", None),
        ("wanda", "pick", None), ("sam", "ship", None), ("sam", "deliver", None),
        ("bill", "invoice", None), ("bill", "close", None)]


def _service(server: CouchServer, settings: Settings, name: str, entries, numbers, agent=None) -> OrderService:
    from .ldap_demo import DEMO_PEOPLE
    groups = next(p["groups"] for p in DEMO_PEOPLE if p["uid"] == name)
    access = acl.resolve(entries, name, groups)
    people.mirror(server, settings.secret_key, access)
    db = server.as_person(settings.db_name, name, people.couch_password(settings.secret_key, name))
    if agent is not None:  # orders with their CRM/WMS hand-offs, as the web app places them
        from oms.fulfilment.service import FulfilmentService
        return FulfilmentService(db, access, numbers, lambda: agent)
    return OrderService(db, access, numbers)


def _links(server: CouchServer, settings: Settings, entries, numbers, progress):
    """Customer profiles (as the CRM feed brings them) and stock (as the WMS feed brings it),
    written by the system identity; returns it for the orders' hand-offs."""
    from oms.crm.customers import CustomerService
    from oms.fulfilment.handoffs import SystemIdentity
    from oms.wms.stock import StockService
    access, db = people.as_system(server, settings.secret_key, settings.db_name, entries)
    progress("seeding demo customer profiles and stock ...")
    CustomerService(db, access).import_rows(
        [{"id": cid, "name": name, "tier": tier, "currency": "EUR", **PROFILES.get(cid, {})}
         for cid, name, tier in CUSTOMERS])
    descriptions = {sku: desc for sku, desc, _ in PRODUCTS}
    for sku, warehouse, on_hand in STOCK:
        StockService(db, access).set_count(sku, warehouse, on_hand, descriptions.get(sku))
    return SystemIdentity(access, db, numbers)


def seed(server: CouchServer, settings: Settings, orders: int = 60, progress=print) -> int:
    """Seed once: returns how many orders were written (0 when the demo data is already there)."""
    admin = server.admin(settings.db_name)
    if admin.get_or_none("customer:C0001") is not None:
        progress("demo data already present")
        return 0
    entries = admin.get("acl")["entries"]
    numbers = NumberAllocator()
    agent = _links(server, settings, entries, numbers, progress)
    services = {name: _service(server, settings, name, entries, numbers, agent)
                for name in {"sally", *(who for who, _, _ in PATH)}}
    rnd = random.Random(7)
    for i in range(orders):
        lines = [{"sku": sku, "description": desc, "qty": rnd.randint(1, 40), "unit_price": price}
                 for sku, desc, price in rnd.sample(PRODUCTS, rnd.randint(1, 4))]
        doc = services["sally"].create({"customer": rnd.choice(CUSTOMERS)[0], "lines": lines,
                                        "promised_date": f"2026-12-{rnd.randint(1, 28):02d}"})
        for who, action, reason in PATH[: rnd.randint(0, len(PATH))]:
            if doc["status"] not in workflow.transition(action)["from"]:
                continue  # a hand-off did it already (approve, allocate), or credit holds it
            try:
                doc = services[who].act(doc["number"], action, reason)
            except InvalidInput:
                break  # e.g. "ship" while a line waits for stock: the order waits too
        if (i + 1) % 20 == 0:
            progress(f"  {i + 1}/{orders} orders")
    return orders
