"""Demo partners for `oms serve --demo`: acme (alice@acme) and globex (gus@globex), password
demo, each with a customer of its own and one order placed in its own database. Idempotent."""
from __future__ import annotations

from oms.catalog import products
from oms.core import memories
from oms.core.config import Settings
from oms.store.couch import CouchServer
from replication.partners import PartnerPerson, Partners, PartnerService, database_name, partner_numbers

DEMO_PASSWORD = "demo"
PARTNERS = [
    # (id, title, people [(name, level)], customers [(id, name)])
    ("acme", "Acme Trading", [("alice@acme", "author")], [("ACME-01", "Road Runner Supplies")]),
    ("globex", "Globex Resellers", [("gus@globex", "author")], [("GLOBEX-01", "Cypress Creek Hammocks")]),
]


def seed_partners(server: CouchServer, settings: Settings, progress=print) -> list[str]:
    partners = Partners(server, settings, progress=progress)
    central = server.admin(settings.db_name)
    for pid, title, people, customers in PARTNERS:
        for cid, name in customers:
            if central.get_or_none(f"customer:{cid}") is None:
                # As a CRM feed brings customers (admin-written, like oms.devstack.seed).
                central.save({"_id": f"customer:{cid}", "type": "customer", "name": name, "tier": "silver",
                              "currency": "EUR", "partner": pid})
        if pid == "acme" and central.get_or_none("pricelist:ACME-PARTNER") is None:
            # The prices Acme's customers get: a partner's price list, as the catalog keeps it.
            central.save({"_id": "pricelist:ACME-PARTNER", "type": "pricelist", "name": "Acme Trading's customers",
                          "currency": "EUR", "partner": "acme",
                          "items": {"WID-100": [{"min_qty": 1, "unit_cents": 410}, {"min_qty": 50, "unit_cents": 385}]}})
            memories.forget_catalog(settings.db_name)   # written past the catalog's service
        partners.add(pid, title)
        for name, level in people:
            partners.add_person(pid, name, DEMO_PASSWORD, level)
        name, level = people[0]
        db = server.as_person(database_name(pid, settings.namespace), settings.namespace.user(name), DEMO_PASSWORD)
        if not db.view("partner", "orders", limit=1)["rows"]:
            _wait_for(db, f"customer:{customers[0][0]}")
            service = PartnerService(db, PartnerPerson(name, pid, level), partner_numbers(pid),
                                     lambda skus: products.book(central, skus))
            service.place({"customer": customers[0][0], "notes": "Demo order placed by the partner",
                           "lines": [{"sku": "WID-100", "qty": 12}]})
    return [pid for pid, *_ in PARTNERS]


def _wait_for(db, doc_id: str, timeout: float = 60) -> None:
    """The customer reaches the partner's copy by the push replication, within a moment (CouchDB 3's
    scheduler starts a new replication after a random delay of up to 5 s, more on a fresh server)."""
    import time
    deadline = time.monotonic() + timeout
    while db.get_or_none(doc_id) is None and time.monotonic() < deadline:
        time.sleep(0.1)
