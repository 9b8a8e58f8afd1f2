"""The centre's replication watcher (runs inside `oms serve`, or `oms replicate watch`): each round it
records and sets back the changes the centre refused from partners (partners.Partners.audit),
places the partner orders that arrived (intake.place_arrivals) and merges replication conflicts
that need no person (conflicts.auto_merge), as the system identity
`oms-agent`, never as an admin. A round is safe to repeat or to run twice at once: every write it
makes is conditional on a revision and conflicts (409) when another round won."""
from __future__ import annotations

import logging
import threading

from oms.core.clock import utcnow
from oms.core.config import Settings
from oms.fulfilment.handoffs import SystemIdentity
from oms.identity import people
from oms.store.couch import CouchError, CouchServer
from oms.store.numbers import NumberAllocator

from . import conflicts, intake
from .partners import Partners

log = logging.getLogger(__name__)


class Watcher:
    def __init__(self, server: CouchServer, settings: Settings, interval: float = 2.0):
        self.server, self.settings, self.interval = server, settings, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiting: dict[str, tuple] = {}    # doc id -> (revs, why) for conflicts a person decides
        self.numbers = NumberAllocator()

    def run_once(self) -> dict:
        out = {"rejections": [], "placed": [], "merged": [], "dropped": [], "person": {}}
        if self._is_site():
            return out  # a branch's replica: the centre's agent decides, once, for everyone
        partners = Partners(self.server, self.settings, progress=lambda *_: None)
        for record in partners.list():
            try:
                out["rejections"] += partners.audit(record["id"])
            except CouchError as exc:
                log.warning("partner %s: audit failed: %s", record["id"], exc.reason)
        entries = self.server.admin(self.settings.db_name).get("acl")["entries"]
        access, db = people.as_system(self.server, self.settings.secret_key, self.settings.db_name, entries,
                                      self.settings.namespace)
        out["placed"] = intake.place_arrivals(SystemIdentity(access, db, self.numbers))
        for doc_id in conflicts.conflicted_orders(db):
            revs: tuple = ()
            try:
                seen = self._waiting.get(doc_id)
                head = db.get(doc_id, conflicts=True)
                revs = tuple(sorted([head["_rev"], *head.get("_conflicts", [])]))
                if seen and seen[0] == revs:
                    out["person"][doc_id] = seen[1]
                    continue
                outcome = conflicts.auto_merge(db, access, doc_id, utcnow())
            except CouchError as exc:
                outcome = f"person: {exc.reason}"
            if outcome.startswith("person:"):
                self._waiting[doc_id] = (revs, outcome[8:])
                out["person"][doc_id] = outcome[8:]
            elif outcome in ("merged", "dropped"):
                self._waiting.pop(doc_id, None)
                out[outcome].append(doc_id)
                log.info("conflict in %s: %s", doc_id, outcome)
        return out

    def _is_site(self) -> bool:
        if not hasattr(self, "_site"):
            self._site = self.server.admin(self.settings.db_name).get_or_none("_design/site") is not None
            if self._site:
                log.info("this database is a branch's replica (_design/site): the replication watcher stays idle")
        return self._site

    def start(self) -> "Watcher":
        def loop():
            while not self._stop.wait(self.interval):
                try:
                    self.run_once()
                except CouchError as exc:
                    log.warning("replication watcher: %s", exc.reason)
                except Exception:  # keep the agent alive; the next round tries again
                    log.exception("replication watcher round failed")
        self._thread = threading.Thread(target=loop, name="replication-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)
