"""What this process remembers between requests, in one place. Each memory says here how stale
it may be and why that is safe; what decides money or stock is never read from one alone.
`forget_all()` empties them (tests that must start from what the database holds)."""
from __future__ import annotations

from .ttl_cache import TTLCache

# Customer profiles as order entry reads them (name, currency, tier for the priority): every order
# reads one, so each process keeps them a few seconds. Credit decisions read the profile afresh
# (customer(fresh=True); placement passes read their customers' profiles in their one read, and
# refresh these entries with them); this process's own profile writes drop their entry
# (forget_customer). Shorter, orders placed after a pause each wait for a profile read of their
# own in the middle of a wave (bench/README.md); what a few seconds more can show is a new name
# or tier, never a credit hold (that is decided on the fresh read).
# Stale by at most: PROFILE_SECONDS for other processes' writes; none for this process's own.
PROFILE_SECONDS = 10.0
profiles = TTLCache(PROFILE_SECONDS)


def forget_customer(db_name: str, customer_doc_id: str) -> None:
    profiles.discard((db_name, customer_doc_id))


def remember_customer(db_name: str, doc: dict) -> None:
    """A profile read fresh elsewhere (the credit decision's) serves order entry for a while."""
    profiles.put((db_name, doc["_id"]), doc)


def forget_all() -> None:
    """Every memory of this process emptied: the next read of each thing goes to the database."""
    profiles.clear()
