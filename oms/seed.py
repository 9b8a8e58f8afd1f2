"""Demo data: customers (as a CRM feed would bring them, admin-written) and orders placed and
moved along by the demo people themselves, so every order passed validate_doc_update."""
from __future__ import annotations

import random

from . import acl, people
from .config import Settings
from .couch import CouchServer
from .numbers import NumberAllocator
from .orders import OrderService

CUSTOMERS = [
    ("C0001", "Acme Ltd", "gold"), ("C0002", "Globex Corporation", "silver"),
    ("C0003", "Initech", "bronze"), ("C0004", "Umbrella Trading", "silver"),
    ("C0005", "Stark Industries", "gold"), ("C0006", "Wayne Enterprises", "gold"),
    ("C0007", "Hooli", "bronze"), ("C0008", "Soylent GmbH", "silver"),
]
PRODUCTS = [("WID-100", "Widget, small", "4.50"), ("WID-200", "Widget, large", "12.00"),
            ("GAD-310", "Gadget", "39.90"), ("GIZ-400", "Gizmo", "7.25"),
            ("SPR-010", "Sprocket", "0.80"), ("BOLT-M8", "Bolt M8", "0.15")]
# Steps the demo takes on some orders: (who, action, reason)
PATH = [("sally", "submit", None), ("carl", "approve", None), ("wanda", "allocate", None),
        ("wanda", "pick", None), ("sam", "ship", None), ("sam", "deliver", None),
        ("bill", "invoice", None), ("bill", "close", None)]


def _service(server: CouchServer, settings: Settings, name: str, entries, numbers) -> OrderService:
    from .ldap_demo import DEMO_PEOPLE
    groups = next(p["groups"] for p in DEMO_PEOPLE if p["uid"] == name)
    access = acl.resolve(entries, name, groups)
    people.mirror(server, settings.secret_key, access)
    db = server.as_person(settings.db_name, name, people.couch_password(settings.secret_key, name))
    return OrderService(db, access, numbers)


def seed(server: CouchServer, settings: Settings, orders: int = 60, progress=print) -> int:
    """Seed once: returns how many orders were written (0 when the demo data is already there)."""
    admin = server.admin(settings.db_name)
    if admin.get_or_none("customer:C0001") is not None:
        progress("demo data already present")
        return 0
    progress("seeding demo customers ...")
    admin.bulk([{"_id": f"customer:{cid}", "type": "customer", "name": name, "tier": tier,
                 "currency": "EUR"} for cid, name, tier in CUSTOMERS])
    entries = admin.get("acl")["entries"]
    numbers = NumberAllocator()
    services = {name: _service(server, settings, name, entries, numbers)
                for name in {"sally", *(who for who, _, _ in PATH)}}
    rnd = random.Random(7)
    for i in range(orders):
        lines = [{"sku": sku, "description": desc, "qty": rnd.randint(1, 40), "unit_price": price}
                 for sku, desc, price in rnd.sample(PRODUCTS, rnd.randint(1, 4))]
        doc = services["sally"].create({"customer": rnd.choice(CUSTOMERS)[0], "lines": lines,
                                        "promised_date": f"2026-12-{rnd.randint(1, 28):02d}"})
        for who, action, reason in PATH[: rnd.randint(0, len(PATH))]:
            doc = services[who].act(doc["number"], action, reason)
        if (i + 1) % 20 == 0:
            progress(f"  {i + 1}/{orders} orders")
    return orders
