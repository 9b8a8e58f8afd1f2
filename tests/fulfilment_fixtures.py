"""Fixtures for the tests of customers, stock and fulfilment (imported by those test modules): the system identity,
throw-away customers and SKUs (unique per test, so tests sharing the session database never
meet), and services as the demo people with the hand-offs."""
from __future__ import annotations

import uuid

import pytest

from oms.catalog.products import ProductService
from oms.crm.customers import CustomerService
from oms.fulfilment.handoffs import SystemIdentity
from oms.fulfilment.service import FulfilmentService
from oms.identity import people
from oms.store.numbers import NumberAllocator
from oms.wms.stock import StockService

NUMBERS = NumberAllocator()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


@pytest.fixture(scope="session")
def agent(server, settings, acl_entries) -> SystemIdentity:
    access, db = people.as_system(server, settings.secret_key, settings.db_name, acl_entries, settings.namespace)
    return SystemIdentity(access, db, NUMBERS)


@pytest.fixture(scope="session")
def new_customer(agent):
    """new_customer(tier="silver", **profile) -> external id of a fresh customer."""
    def make(tier: str = "silver", name: str | None = None, **profile) -> str:
        ext = unique("T")
        # Shipped to the US (no tax in the rulebook) unless a test says otherwise: what such a
        # customer owes is what its lines add up to, as the credit tests count it.
        CustomerService(agent.db, agent.access).upsert(ext, {
            "name": name or f"Test {ext}", "tier": tier, "currency": "EUR",
            "ship_tos": [{"id": "MAIN", "name": f"Test {ext}", "city": "Boston", "country": "US"}], **profile})
        return ext
    return make


@pytest.fixture(scope="session")
def new_sku(agent):
    """new_sku(on_hand, warehouse="MAIN", **more warehouses) -> a fresh SKU with that stock, a
    product at a list price of 0.01 in every currency (so any price a test gives is no discount)."""
    def make(on_hand: int = 0, warehouse: str = "MAIN", **others) -> str:
        sku = unique("T")
        ProductService(agent.db, agent.access).upsert(sku, {"description": f"Test product {sku}",
                                                            "list_prices": {"EUR": 1, "GBP": 1, "USD": 1}})
        svc = StockService(agent.db, agent.access)
        svc.set_count(sku, warehouse, on_hand)
        for wh, n in others.items():
            svc.set_count(sku, wh, n)
        return sku
    return make


@pytest.fixture(scope="session")
def fulfil(person, agent):
    """fulfil(name) -> FulfilmentService as that demo person, hand-offs by the system identity."""
    def make(name: str, **kw) -> FulfilmentService:
        access, db = person(name, **kw)
        return FulfilmentService(db, access, NUMBERS, lambda: agent)
    return make


def stock_doc(agent, sku: str, warehouse: str = "MAIN") -> dict:
    return agent.db.get(f"stock:{sku}:{warehouse}")


def line(sku: str, qty: int, price: str = "10.00") -> dict:
    return {"sku": sku, "qty": qty, "unit_price": price}
