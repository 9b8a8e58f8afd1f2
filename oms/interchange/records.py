"""What every import format reads a file into: records, each with the line it starts on (so a
problem is reported by line), and the refusal of a file as a whole (nothing is written then)."""
from __future__ import annotations

from dataclasses import dataclass


class ImportRefused(Exception):
    """The file as a whole cannot be read (malformed, hostile, wrong kind): nothing was written."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Record:
    kind: str
    line: int
    data: dict
    ref: str | None = None


def record_ref(kind: str, row: dict):
    """What a record of `kind` is known by in the report: a customer's id, a product's SKU, a
    stock level's SKU and warehouse, an order's external reference."""
    if kind == "customers":
        return row.get("id") or row.get("customer_id")
    if kind == "products":
        return row.get("sku")
    if kind == "orders":
        return row.get("external_ref")
    return f"{row.get('sku', '')}:{row.get('warehouse', '')}"
