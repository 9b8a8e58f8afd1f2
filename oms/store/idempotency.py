"""Safe retries of creates (the Idempotency-Key header). Imports claim their external references
in claim documents of their own (oms/interchange/refclaims.py).

A key stands for one request. Its record `idem:<sha256(scope, owner, key)>` is written BEFORE the
create, carrying what makes the create deterministic (e.g. the order number reserved for it), so:
- two concurrent requests with the same key race on that one write: the loser (409) adopts the
  winner's reservation, and both creates then write the same document id, which only one wins;
- a crash after the record but before the create is healed by the retry, which creates with the
  reserved id; a crash after the create but before the outcome is written is healed the same way
  (the create finds its document already there and returns it);
- the same key with a different request body is refused (422), never silently mapped.
Only successful outcomes are stored: a refused request may be retried with the same key.

Records are ordinary documents written as the acting person (validate_doc_update: lib/records.js),
never as the CouchDB admin. The housekeeping agent deletes them after `idempotency_days`."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from oms.core.clock import utcnow

from .couch import Conflict, Database, Forbidden, NotFound

KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
KEY_RULE = "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID"


class KeyMismatch(Exception):
    """The key was used before for a different request (HTTP 422)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Outcome:
    status: int
    body: Any
    location: str | None = None
    replayed: bool = False
    extra: dict = field(default_factory=dict)

    def stored(self) -> dict:
        out = {"status": self.status, "body": self.body}
        if self.location:
            out["location"] = self.location
        return out


def check_key(key: str) -> str:
    from oms.core.errors import InvalidInput
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidInput(KEY_RULE)
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """What the request asks for, independent of JSON spacing and key order."""
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()} {path}\n{canon}".encode()).hexdigest()


def record_id(scope: str, owner: str, key: str) -> str:
    return "idem:" + hashlib.sha256(f"{scope}\0{owner}\0{key}".encode()).hexdigest()


class Idempotency:
    def __init__(self, db: Database, person: str, clock: Callable[[], str] = utcnow, fields: dict | None = None):
        """fields: more fields every record carries (a partner's copy wants its partner on each)."""
        self.db, self.person, self.clock, self.fields = db, person, clock, fields or {}

    def run(self, key: str, fp: str, *, reserve: Callable[[], dict],
            perform: Callable[[dict], Outcome], scope: str = "person", owner: str | None = None) -> Outcome:
        """`reserve()` is called once per key (its result is stored); `perform(reserved)` may run
        more than once with the same reservation and must then return the same resource."""
        doc_id = record_id(scope, owner if owner is not None else self.person, key)
        record = self._claim(doc_id, fp, reserve, scope)
        if record.get("response"):
            r = record["response"]
            return Outcome(r["status"], r.get("body"), r.get("location"), replayed=True)
        outcome = perform(record.get("reserved") or {})
        self._complete(record, outcome)
        return outcome

    def lookup(self, key: str, scope: str = "person", owner: str | None = None) -> dict | None:
        return self.db.get_or_none(record_id(scope, owner if owner is not None else self.person, key))

    # -- internals
    def _claim(self, doc_id: str, fp: str, reserve, scope: str) -> dict:
        for _ in range(5):
            record = self.db.get_or_none(doc_id)
            if record is not None:
                if record.get("fingerprint") != fp:
                    raise KeyMismatch("this Idempotency-Key was already used for a different request; "
                                      "send a new key for a new request")
                return record
            record = {"_id": doc_id, "type": "idem", "scope": scope, "by": self.person,
                      "fingerprint": fp, "reserved": reserve(), "at": self.clock(), **self.fields}
            try:
                return self.db.save(record)
            except Conflict:
                continue  # a concurrent request with the same key won: adopt its reservation
            except Forbidden:
                # PouchDB Server validates against the winner's record before it reports the
                # conflict (CouchDB 3 answers 409 first): if the record exists now, we lost the race
                if self.db.get_or_none(doc_id) is None:
                    raise
                continue
        raise Conflict("this Idempotency-Key is busy; retry in a moment")

    def _complete(self, record: dict, outcome: Outcome) -> None:
        record = dict(record, response=outcome.stored(), completed_at=self.clock())
        try:
            self.db.save(record)
        except (Conflict, Forbidden, NotFound):
            pass  # a concurrent retry completed it with the same outcome


def is_same_create(existing: dict, person: str) -> bool:
    """A document found at a reserved id was written by this request's earlier attempt."""
    return existing.get("created_by") == person
