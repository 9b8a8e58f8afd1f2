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
# The catalog: (sku, description, list price EUR, GBP, tax class). Sprockets and bolts are spare
# parts at the reduced rate; everything else pays the standard rate of the ship-to country.
PRODUCTS = [("WID-100", "Widget, small", "4.50", "3.90", "standard"),
            ("WID-200", "Widget, large", "12.00", "10.40", "standard"),
            ("GAD-310", "Gadget", "39.90", "34.50", "standard"),
            ("GIZ-400", "Gizmo", "7.25", "6.30", "standard"),
            ("SPR-010", "Sprocket", "0.80", "0.70", "reduced"),
            ("BOLT-M8", "Bolt M8", "0.15", "0.13", "reduced"),
            ("TOOL-KIT", "Tool kit, withdrawn", "24.00", "21.00", "standard")]
WITHDRAWN = {"TOOL-KIT"}
# Two price lists: gold customers' prices with quantity breaks (net), and Soylent's own prices,
# agreed with tax included.
PRICE_LISTS = [
    ("GOLD", {"name": "Gold customers", "currency": "EUR", "tier": "gold", "valid_from": "2026-01-01",
              "items": {"WID-100": [{"min_qty": 1, "unit_cents": 420}, {"min_qty": 20, "unit_cents": 395}],
                        "WID-200": [{"min_qty": 1, "unit_cents": 1120}, {"min_qty": 10, "unit_cents": 1050}],
                        "GAD-310": [{"min_qty": 1, "unit_cents": 3690}]}}),
    ("SOYLENT", {"name": "Soylent GmbH (prices with tax)", "currency": "EUR", "customer": "customer:C0008",
                 "prices_include_tax": True, "valid_from": "2026-06-01", "valid_to": "2027-05-31",
                 "items": {"GIZ-400": [{"min_qty": 1, "unit_cents": 785}],
                           "SPR-010": [{"min_qty": 100, "unit_cents": 79}]}}),
]
# Where the demo customers are: (city, postcode, country, currency) of their head office, which
# is also their first ship-to address; Stark and Acme ship to a second site too.
PLACES = {
    "C0001": ("Hamburg", "20457", "DE", "EUR"), "C0002": ("Lyon", "69002", "FR", "EUR"),
    "C0003": ("Rotterdam", "3011", "NL", "EUR"), "C0004": ("Leeds", "LS1 4AP", "GB", "GBP"),
    "C0005": ("Munich", "80331", "DE", "EUR"), "C0006": ("Paris", "75008", "FR", "EUR"),
    "C0007": ("Utrecht", "3511", "NL", "EUR"), "C0008": ("Berlin", "10115", "DE", "EUR"),
}
SECOND_SITES = {"C0001": ("EAST", "Acme Ltd, East depot", "Leipzig", "04109", "DE"),
                "C0005": ("NL", "Stark Industries Benelux", "Eindhoven", "5611", "NL")}
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
        ("bill", "invoice", None), ("bill", "pay", None)]


def _service(server: CouchServer, settings: Settings, name: str, entries, numbers, agent=None) -> OrderService:
    from .ldap_demo import DEMO_PEOPLE
    groups = next(p["groups"] for p in DEMO_PEOPLE if p["uid"] == name)
    access = acl.resolve(entries, name, groups)
    people.mirror(server, settings.secret_key, access, namespace=settings.namespace)
    db = people.open_as(server, settings.secret_key, settings.db_name, name, settings.namespace)
    if agent is not None:  # orders with their CRM/WMS hand-offs, as the web app places them
        from oms.fulfilment.service import FulfilmentService
        return FulfilmentService(db, access, numbers, lambda: agent)
    return OrderService(db, access, numbers)


def _links(server: CouchServer, settings: Settings, entries, numbers, progress):
    """Customer profiles (as the CRM feed brings them) and stock (as the WMS feed brings it),
    written by the system identity; returns it for the orders' hand-offs."""
    from oms.catalog.products import PriceListService, ProductService
    from oms.crm.customers import CustomerService
    from oms.fulfilment.handoffs import SystemIdentity
    from oms.wms.stock import StockService
    access, db = people.as_system(server, settings.secret_key, settings.db_name, entries, settings.namespace)
    progress("seeding demo customer profiles and stock ...")
    CustomerService(db, access).import_rows(
        [{"id": cid, "name": name, "tier": tier, **PROFILES.get(cid, {}), **_addresses(cid, name)}
         for cid, name, tier in CUSTOMERS])
    progress("seeding the demo catalog: products and price lists ...")
    catalog = ProductService(db, access)
    for sku, desc, eur, gbp, tax_class in PRODUCTS:
        catalog.upsert(sku, {"description": desc, "list_prices": {"EUR": eur, "GBP": gbp}, "tax_class": tax_class,
                             "status": "withdrawn" if sku in WITHDRAWN else "active"})
    for ref, price_list in PRICE_LISTS:
        PriceListService(db, access).put(ref, price_list)
    descriptions = {sku: desc for sku, desc, *_ in PRODUCTS}
    for sku, warehouse, on_hand in STOCK:
        StockService(db, access).set_count(sku, warehouse, on_hand, descriptions.get(sku))
    return SystemIdentity(access, db, numbers)


def _addresses(cid: str, name: str) -> dict:
    city, postcode, country, currency = PLACES[cid]
    office = {"name": name, "street": "1 Market Square", "city": city, "postcode": postcode, "country": country}
    ship_tos = [{"id": "MAIN", **office, "name": f"{name}, Goods in"}]
    if cid in SECOND_SITES:
        site, site_name, site_city, site_postcode, site_country = SECOND_SITES[cid]
        ship_tos.append({"id": site, "name": site_name, "street": "7 Depot Road", "city": site_city,
                         "postcode": site_postcode, "country": site_country})
    return {"currency": currency, "bill_to": office, "ship_tos": ship_tos}


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
        on_sale = [p for p in PRODUCTS if p[0] not in WITHDRAWN]
        lines = [{"sku": sku, "qty": rnd.randint(1, 40)} for sku, *_ in rnd.sample(on_sale, rnd.randint(1, 4))]
        doc = services["sally"].create({"customer": rnd.choice(CUSTOMERS)[0], "lines": lines,
                                        "promised_date": f"2026-12-{rnd.randint(1, 28):02d}"})
        for who, action, reason in PATH[: rnd.randint(0, len(PATH))]:
            if action == "pay":   # the customer pays the order's invoices: it closes
                if doc["status"] == "invoiced":
                    billing = services[who].billing()
                    for inv in billing.of_order(doc):
                        billing.record_payment({"customer": doc["customer"]["id"], "amount_cents": inv["unpaid_cents"],
                                                "allocations": [{"invoice": inv["number"],
                                                                 "amount_cents": inv["unpaid_cents"]}]})
                continue
            if doc["status"] not in workflow.transition(action)["from"]:
                continue  # a hand-off did it already (approve, allocate), or credit holds it
            try:
                doc = services[who].act(doc["number"], action, reason)
            except InvalidInput:
                break  # e.g. "ship" while a line waits for stock: the order waits too
        if (i + 1) % 20 == 0:
            progress(f"  {i + 1}/{orders} orders")
    return orders
