"""What this process remembers between requests, in one place: each memory says here how stale
it may be and why that is safe. What decides money or stock is never taken from a memory alone:
a claim is a compare-and-swap on the revision remembered, a credit decision near the limit reads
afresh. `forget_all()` empties them all (tests that must start from what the database holds).

Not memories of data, so not here: the group commit of a server's writes (oms/store/couch.py,
CouchServer.group) and the placement batchers (oms/fulfilment/placement.py, one per server,
database and identity) hold a write only until it is sent. The web app keeps its own per app
(Flask's app.extensions), each with its bound where it is made:
- the system identity, resolved and mirrored once a minute (webapp/services.py);
- verified API credentials, for a minute (webapp/services.py);
- the API tokens whose CouchDB account this process wrote (webapp/tokens.py): it decides only
  whether to write the account again, never whether a token is good (its document, read on every
  request, says that);
- the views' category totals (views/totals.py): checked against the database's update sequence
  on every ask, a stale figure shown only while it is recounted."""
from __future__ import annotations

import threading
import time

from . import rules
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



# -- the catalog as order entry prices from it (oms/catalog/products.py book()) --------------------
# Products and price lists change seldom and every order line reads them, so each process keeps
# what it read for CATALOG_SECONDS. A price another process changed reaches this one's order entry
# within that time; an order priced in between carries the price it was offered (the line keeps
# its list price and source), which is what a quote at that moment said. This process's own
# catalog writes forget everything at once (forget_catalog).
# Stale by at most: CATALOG_SECONDS for other processes' writes; none for this process's own.
CATALOG_SECONDS = 30.0
catalog = TTLCache(CATALOG_SECONDS, max_items=100_000)   # (db, sku) -> product doc, {} for none; (db, None) -> price lists


def forget_catalog(db_name: str | None = None) -> None:
    catalog.clear()


# -- stock documents as last read or written (placement claims on them) ---------------------------
# Stale by at most StockMemory.SECONDS; a stale one costs a retry (409), never a wrong claim.
class StockMemory:
    """Stock documents as this process last read or wrote them, with their revisions, kept
    SECONDS: a placement pass claims on them without reading them again. A stale one costs a
    retry, never a wrong claim: the claim is a write on the remembered revision (compare-and-swap),
    so a document someone else changed answers 409, is forgotten, and those orders claim alone on
    a fresh read. A SKU that looks short is read afresh anyway (placement)."""

    SECONDS = 2.0

    def __init__(self, clock=time.monotonic):
        self._docs = TTLCache(self.SECONDS, max_items=50_000, clock=clock)   # (db, id) -> doc

    def recall(self, db_name: str, ids: list[str]) -> dict[str, dict]:
        """The documents kept within SECONDS, by id: shared, so read-only (a pass claims on
        copies). A hot stock document holds thousands of holds: copying it on every keep and
        recall cost the claims on it, which take turns, a sixth of their speed."""
        hits = {i: self._docs.get((db_name, i)) for i in ids}
        return {i: doc for i, doc in hits.items() if doc is not None}

    def keep(self, db_name: str, docs) -> None:
        """Documents just read or written, which nobody changes any more (kept as they are)."""
        for doc in docs:
            if doc and doc.get("type") == "stock" and doc.get("_rev"):
                self._docs.put((db_name, doc["_id"]), doc)

    def forget(self, db_name: str, ids) -> None:
        for i in ids:
            self._docs.discard((db_name, i))

    def clear(self) -> None:
        self._docs.clear()


stock = StockMemory()


# -- warehouse codes seen in stock documents (placement asks for those ids in one request) --------
# Never stale in a way that matters: a closed warehouse's ids just come back not found.
class KnownWarehouses:
    """Warehouse codes this process has seen in stock documents: placement asks those in one
    request. Only ever grows (a closed warehouse's ids just come back not found)."""

    def __init__(self, most: int = 100):
        self._codes: set[str] = set()
        self._lock = threading.Lock()
        self.most = most

    def saw(self, codes) -> None:
        codes = set(codes) - self._codes
        if codes:
            with self._lock:
                if len(self._codes) < self.most:
                    self._codes |= codes

    def known(self) -> list[str]:
        return sorted(self._codes)

    def clear(self) -> None:
        with self._lock:
            self._codes = set()


warehouses = KnownWarehouses()


# -- customers' credit exposure as last read from the view, plus this process's approvals ---------
# Stale by at most ExposureMemory.seconds() (rules/priority.json), and trusted only with the
# headroom that rule names (oms/crm/exposure.py, trusted()).
class ExposureMemory:
    """(database, customer id) -> exposure in cents and when it was read from the view.

    A figure read while this process changed that customer's exposure (a pass of another batch
    adding its approvals, a single order approved and forgotten) may or may not include the
    change, so it is not kept: each entry knows when it was last touched."""

    REFRESH_MOST = 64   # customers asked in one query (those due within half a period ride along)

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._data: dict[tuple[str, str], list] = {}   # -> [read at, cents or None, touched at]
        self._lock = threading.Lock()

    @staticmethod
    def seconds() -> float:
        """How old a figure may be: credit.exposure_memory.seconds in rules/priority.json."""
        return float(rules.credit()["exposure_memory"]["seconds"])

    def recall(self, db_name: str, cids: list[str]) -> dict[str, int]:
        """The customers' figures read within `seconds()`."""
        oldest = self.clock() - self.seconds()
        with self._lock:
            hits = {cid: self._data.get((db_name, cid)) for cid in cids}
        return {cid: hit[1] for cid, hit in hits.items() if hit and hit[1] is not None and hit[0] >= oldest}

    def to_ask(self, db_name: str, missing: list[str]) -> list[str]:
        """The customers a query for `missing` should ask for: those, and the remembered ones
        past half their period, so that figures come due together (one query per period)."""
        if not missing:
            return []
        half = self.clock() - self.seconds() / 2
        with self._lock:
            due = [cid for (db, cid), (at, cents, _) in self._data.items()
                   if db == db_name and cents is not None and at < half]
        ask = list(dict.fromkeys([*missing, *due]))
        return ask[:max(len(missing), self.REFRESH_MOST)]

    def store(self, db_name: str, figures: dict[str, int], read_at: float) -> None:
        """Figures as a query sent at `read_at` (this clock) answered them."""
        with self._lock:
            if len(self._data) > 20_000:
                self._data.clear()
            for cid, cents in figures.items():
                hit = self._data.get((db_name, cid))
                if hit and hit[2] >= read_at:
                    continue   # touched while the query ran: the answer may have missed it
                self._data[(db_name, cid)] = [read_at, cents, read_at]

    def add(self, db_name: str, cid: str, cents: int) -> None:
        """An approval this process wrote: it counts from now on."""
        now = self.clock()
        with self._lock:
            hit = self._data.get((db_name, cid))
            if hit and hit[1] is not None:
                hit[1] += cents
                hit[2] = now
            else:   # nothing to add to; a query in flight must not store a figure without it
                self._data[(db_name, cid)] = [now, None, now]

    def forget(self, db_name: str, cids) -> None:
        now = self.clock()
        with self._lock:
            for cid in cids:
                self._data[(db_name, cid)] = [now, None, now]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


exposure = ExposureMemory()


# -- turns: threads of one process take turns on a named thing ------------------------------------
# Threads of one process take turns on a named thing (a stock document, a customer's credit):
# they would only collide with 409s or decide on the same stale figure. Processes and servers still
# race; what keeps the books right across them is said where a turn is taken.
# Holds locks, no data: nothing in it can be stale.
_turns: dict[str, threading.Lock] = {}
_turns_lock = threading.Lock()


def turn(key: str) -> threading.Lock:
    with _turns_lock:
        if len(_turns) > 10_000:
            _turns.clear()
        return _turns.setdefault(key, threading.Lock())


# -- facts about a CouchDB server, by its URL ------------------------------------------------------
# How many copies of each _replicator document it keeps, whether it has /_scheduler: they change
# only with the server's version or configuration, which a restart of this process follows.
replicator_copies: dict[str, int] = {}
schedulers: dict[str, bool] = {}


# -- the ACL document of each database, as the web app last read it -------------------------------
# Stale by at most the max_age its reader asks (5 s: webapp/services.py, acl_doc); a Manager's
# change on this process's ACL page forgets it at once.
acl_documents: dict[str, tuple[float, dict]] = {}   # database name -> (read at, ACL document)
acl_lock = threading.Lock()


def acl_document(db_name: str, max_age: float, read) -> dict:
    """The ACL document of `db_name`, read with `read()` when the one kept is older than `max_age`."""
    with acl_lock:
        hit = acl_documents.get(db_name)
        if hit is None or time.monotonic() - hit[0] > max_age:
            hit = acl_documents[db_name] = (time.monotonic(), read())
        return hit[1]


def forget_acl_documents() -> None:
    with acl_lock:
        acl_documents.clear()


# The sessions each person signed out (people.signed_out: ids recorded on the person's _users
# document), as webapp/sessions.py last read them. Stale by at most SIGNED_OUT_SECONDS for a
# sign-out made in another process; none for this process's own (it forgets the person at once).
SIGNED_OUT_SECONDS = 60
signed_out = TTLCache(SIGNED_OUT_SECONDS, max_items=50_000)   # CouchDB name (desk prefix included) -> session ids


def forget_all() -> None:
    """Every memory of this process emptied: the next read of each thing goes to the database."""
    profiles.clear()
    catalog.clear()
    stock.clear()
    warehouses.clear()
    exposure.clear()
    replicator_copies.clear()
    schedulers.clear()
    forget_acl_documents()
    signed_out.clear()
