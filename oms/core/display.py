"""How figures read on a page or on paper: amounts with thousands separators and two decimals,
times to the minute. Shared by the web pages and the printed documents."""
from __future__ import annotations

from .money import format_cents


def money(cents) -> str:
    # Documents from imports, replication or older versions may lack a figure: show nothing.
    return format_cents(cents) if isinstance(cents, (int, float)) and not isinstance(cents, bool) else ""


def when(iso) -> str:
    return (iso or "").replace("T", " ").rstrip("Z")[:16]
