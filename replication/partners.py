"""Partners: each gets its own database on the central server, `partner_<id>`, whose _security
names only that partner's people and its replicator identity. Two continuous `_replicator`
documents fill and drain it:

- push (centre -> partner): the documents whose `partner` field names it (orders, their comments
  and shipments, its customers): filter `oms/by_partner` or selector {"partner": id};
- pull (partner -> centre): what the partner may send (orders, comments, receipts), written into
  the central database as the partner's replicator identity, so the central validate_doc_update
  (lib/validate_partner) decides what the partner may change.

A partner's people never touch the central database: their CouchDB accounts carry the roles
"partner:<id>" and "partner-level:<level>", never a "level:" role, so they are not members of it.
A change the centre refuses is found by `Partners.audit` (the centre's agent), recorded as a
`rejection` note in the partner's database, and the partner's copy is set back to the revision
the centre holds, so nothing is lost silently and both sides agree again."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from oms.core import rules
from oms.core.clock import utcnow
from oms.core.config import Settings
from oms.core.errors import InvalidInput
from oms.core.namespace import Namespace
from oms.identity import people
from oms.identity.acl import Access
from oms.ordering.orders import order_id as _order_doc_id  # shipments name orders by number
from oms.store import cas
from oms.store.couch import Conflict, CouchServer, Database, Forbidden, NotFound
from oms.store.numbers import NumberAllocator

from . import design, replicator

log = logging.getLogger(__name__)


def R() -> dict:
    return rules.rules()["replication"]["partners"]


def check_id(partner_id: str) -> str:
    if not isinstance(partner_id, str) or not re.match(R()["id_pattern"], partner_id):
        raise InvalidInput(f"a partner id is 2 to 16 lower-case letters or digits, starting with a letter, e.g. acme; not {partner_id!r}")
    return partner_id


def database_name(partner_id: str, namespace: Namespace = Namespace()) -> str:
    """The partner's database on the server (the desk's, oms/core/namespace.py)."""
    return namespace.database(R()["database_prefix"] + check_id(partner_id))


def replicator_name(partner_id: str) -> str:
    """The partner's replicator identity as the desk names it (in _users: namespace.user of it)."""
    return R()["replicator_name_prefix"] + check_id(partner_id)


def number_prefix(partner_id: str) -> str:
    return R()["number_prefix"].replace("{PARTNER}", partner_id.upper())


def partner_numbers(partner_id: str) -> NumberAllocator:
    """The numbers of a partner's orders, one at a time: a partner's series has no gaps, however
    many processes number from it (a block kept in a process would be lost at its restart)."""
    return NumberAllocator(block=1, grow=False, prefix=number_prefix(partner_id))


def is_person_of(name: str, partner_id: str) -> bool:
    return bool(re.match(R()["person_pattern"].replace("{PARTNER}", partner_id), name or ""))


@dataclass(frozen=True)
class PartnerPerson:
    """One of a partner's people, as their CouchDB account says (name, roles)."""
    name: str
    partner: str
    level: str

    @classmethod
    def from_roles(cls, name: str, roles, namespace: Namespace = Namespace()) -> "PartnerPerson | None":
        """None unless the CouchDB account (`name`, `roles` as _users holds them) is a partner
        person's of this desk (and not a replicator's or staff's)."""
        r = R()
        name, roles = namespace.local_name(name), namespace.local_roles(roles)
        if name is None:
            return None
        if r["replicator_role"] in roles or any(x.startswith(rules.acl()["level_role_prefix"]) for x in roles):
            return None
        partner = next((x[len(r["partner_role_prefix"]):] for x in roles if x.startswith(r["partner_role_prefix"])), None)
        level = next((x[len(r["level_role_prefix"]):] for x in roles if x.startswith(r["level_role_prefix"])), None)
        if not partner or level not in r["levels"] or not is_person_of(name, partner):
            return None
        return cls(name, partner, level)

    def may(self, what: str) -> bool:
        return self.level in R()["may"][what]

    @property
    def level_title(self) -> str:
        return R()["level_titles"][self.level]

    def access(self) -> Access:
        """The person as oms.ordering.orders sees an author (for new_order and history entries)."""
        return Access(self.name, "author", ("[Partner]",))


class Partners:
    """The centre's side: set partners up, add their people, watch what they send."""

    def __init__(self, server: CouchServer, settings: Settings, progress=print):
        self.server, self.settings, self.progress = server, settings, progress

    # -- identities ------------------------------------------------------------------------------
    def replicator_password(self, partner_id: str) -> str:
        return people.couch_password(self.settings.secret_key, replicator_name(partner_id))

    @property
    def ns(self) -> Namespace:
        return self.settings.namespace

    def as_replicator(self, partner_id: str, db_name: str) -> Database:
        return self.server.as_person(db_name, self.ns.user(replicator_name(partner_id)),
                                     self.replicator_password(partner_id))

    def central(self, partner_id: str) -> Database:
        """The central database as the partner's replicator identity (what the pull writes as)."""
        return self.as_replicator(partner_id, self.settings.db_name)

    def copy(self, partner_id: str) -> Database:
        """The partner's database as its replicator identity (the centre's hand in it)."""
        return self.as_replicator(partner_id, database_name(partner_id, self.ns))

    def _ensure_user(self, name: str, password: str | None, roles: list[str], kind: str,
                     key: str | None = None) -> str:
        """Create or update the _users account of the desk's `name` with the desk's `roles`. A
        derived password (`key` names the secret it came from) is rewritten only when the secret
        changed; an explicit one always."""
        users = self.server.admin("_users")
        doc_id, roles = self.ns.user_id(name), self.ns.roles(roles)
        current = users.get_or_none(doc_id)
        doc = current or {"_id": doc_id, "name": self.ns.user(name), "type": "user"}
        # An explicit password is written only when it is not the account's already: every rewrite
        # takes a new salt, which a cluster's sign-in caches learn a moment later.
        fresh_password = password is not None and (doc.get("oms_key") != key if key
                                                    else not people.password_matches(current, password))
        if current and doc.get("roles") == roles and doc.get("oms_kind") == kind and not fresh_password:
            return "unchanged"
        doc.update(roles=roles, oms_kind=kind)
        if fresh_password:
            doc["password"] = password
            if key:
                doc["oms_key"] = key
        cas.save(users, doc)   # settled on every copy: CouchDB signs nobody in on a conflicted _users document
        return "created" if current is None else "updated"

    # -- set up ----------------------------------------------------------------------------------
    def add(self, partner_id: str, title: str | None = None) -> dict:
        """Create or repair everything a partner needs (idempotent). Returns {what: outcome}."""
        r, pid = R(), check_id(partner_id)
        central = self.server.admin(self.settings.db_name)
        oms_design = central.get_or_none("_design/oms") or {}
        if "by_partner" not in oms_design.get("filters", {}):
            # A replication naming a filter the source lacks makes PouchDB Server exit: never.
            raise InvalidInput("the central design has no filters/by_partner: run `oms deploy` first")
        out = {}
        self.progress(f"partner {pid}: replicator identity, database, security, design ...")
        rep = replicator_name(pid)
        out["replicator"] = self._ensure_user(
            rep, self.replicator_password(pid),
            [*r["replicator_central_roles"], r["replicator_role"], r["partner_role_prefix"] + pid],
            "partner-replicator", key=people._key_id(self.settings.secret_key))
        db = self.server.admin(database_name(pid, self.ns))
        out["database"] = "created" if db.create() else "exists"
        out["_security"] = self._ensure_security(pid, extra_names=[rep])
        out["_design/partner"] = design.push_design(db, design.partner_design(pid, self.ns))
        record = central.get_or_none(f"partner:{pid}") or {"_id": f"partner:{pid}", "type": "partner", "id": pid,
                                                            "created_at": utcnow()}
        if title or "title" not in record:
            record["title"] = title or record.get("title") or pid.title()
            central.save(record)
        self.progress(f"partner {pid}: continuous replications (push and pull) ...")
        out.update(self.ensure_replications(pid))
        return out

    def _ensure_security(self, partner_id: str, extra_names=()) -> str:
        db = self.server.admin(database_name(partner_id, self.ns))
        current = db.get_security()
        names = sorted(set((current.get("members") or {}).get("names") or []) | {self.ns.user(n) for n in extra_names})
        wanted = {"admins": {"names": [], "roles": []},
                  "members": {"names": names, "roles": [self.ns.role(R()["partner_role_prefix"] + partner_id)]}}
        if {k: current.get(k) for k in ("admins", "members")} == wanted:
            return "unchanged"
        db.put_security(wanted)
        return "updated"

    def replication_ids(self, partner_id: str) -> tuple[str, str]:
        return (self.ns.scoped(f"oms-partner-{partner_id}-push"),
                self.ns.scoped(f"oms-partner-{partner_id}-pull"))

    def ensure_replications(self, partner_id: str) -> dict:
        pid, r = partner_id, R()
        url = self.server.url
        rep, pw = self.ns.user(replicator_name(pid)), self.replicator_password(pid)
        central = replicator.Endpoint(url, self.settings.db_name, rep, pw)
        copy = replicator.Endpoint(url, database_name(pid, self.ns), rep, pw)
        push_id, pull_id = self.replication_ids(pid)
        push = replicator.Route("oms/by_partner", {"partner": pid}, {"partner": pid})
        pull = replicator.Route("partner/to_centre", {"partner": pid},
                                {"partner": pid, "type": {"$in": list(r["sends"])}})
        return {
            push_id: replicator.ensure(self.server, replicator.document(push_id, url, central, copy, push)),
            pull_id: replicator.ensure(self.server, replicator.document(pull_id, url, copy, central, pull)),
        }

    def add_person(self, partner_id: str, name: str, password: str | None, level: str = "author") -> str:
        """A person of the partner, in CouchDB _users (not LDAP). `password` None keeps theirs."""
        r, pid = R(), check_id(partner_id)
        if not is_person_of(name, pid):
            raise InvalidInput(f"a person of {pid} is named like alice@{pid}, not {name!r}")
        if level not in r["levels"]:
            raise InvalidInput(f"a partner person's level is one of {', '.join(r['levels'])}, not {level!r}")
        if password is not None and len(password) < 4:
            raise InvalidInput("a password has at least 4 characters")
        outcome = self._ensure_user(name, password, [r["partner_role_prefix"] + pid, r["level_role_prefix"] + level],
                                    "partner")
        self._ensure_security(pid, extra_names=[name])
        return outcome

    def list(self) -> list[dict]:
        central = self.server.admin(self.settings.db_name)
        rows = central.all_docs(include_docs=True, start_key="partner:", end_key="partner:\ufff0")["rows"]
        return [row["doc"] for row in rows if row.get("doc", {}).get("type") == "partner"]

    # -- watching what arrives ---------------------------------------------------------------------
    def audit(self, partner_id: str) -> list[dict]:
        """Find the partner's revisions the centre refused, record each as a `rejection` note in the
        partner's database and set the partner's copy back to what the centre holds. Also hands
        any revision the pull has not copied yet to the centre, as the pull would (same identity,
        same validation). Returns the new rejection notes."""
        pid = partner_id
        copy, central = self.copy(pid), self.central(pid)
        try:  # a _local document: kept per database, never replicated (the client library refuses it)
            mark = _raw(copy, "GET", "/_local/oms-audit")
        except NotFound:
            mark = {"last_seq": 0}
        changes = _raw(copy, "GET", "/_changes", params={"style": "all_docs", "since": mark["last_seq"]})
        wanted = {c["id"]: [x["rev"] for x in c["changes"]] for c in changes["results"]
                  if not c["id"].startswith("_design/")}
        new = []
        if wanted:
            missing = _raw(central, "POST", "/_revs_diff", json=wanted)
            for doc_id, info in missing.items():
                for rev in info.get("missing", []):
                    note = self._hand_over(pid, copy, central, doc_id, rev)
                    if note:
                        new.append(note)
        if changes["last_seq"] != mark["last_seq"]:
            mark["last_seq"] = changes["last_seq"]
            _raw(copy, "PUT", "/_local/oms-audit", json=mark)
        return new

    def _hand_over(self, pid, copy: Database, central: Database, doc_id: str, rev: str) -> dict | None:
        try:
            doc = copy.get(doc_id, rev=rev, revs=True)
        except NotFound:
            return None
        if doc.get("_deleted") or doc.get("type") not in R()["sends"] or doc.get("partner") != pid:
            return None  # not something the pull sends (the centre's own notes, counters ...)
        result = central.bulk([doc], new_edits=False)
        refusal = next((x for x in result if x.get("error")), None)
        if refusal is None:
            return None
        if refusal.get("error") != "forbidden":
            log.warning("partner %s: %s %s not handed over: %s", pid, doc_id, rev, refusal)
            return None
        return self._record_refusal(pid, copy, central, doc, refusal.get("reason", ""))

    def _record_refusal(self, pid, copy: Database, central: Database, doc: dict, reason: str) -> dict | None:
        doc_id, rev = doc["_id"], doc["_rev"]
        base = _first_held(central, doc)
        note = {
            "_id": f"rejection:{doc_id}:{rev}", "type": "rejection", "partner": pid,
            "doc_id": doc_id, "doc_type": doc.get("type"), "number": doc.get("number"), "rev": rev,
            "base_rev": base["_rev"] if base else None, "reason": reason,
            "by": doc.get("updated_by") or doc.get("by") or doc.get("created_by"), "refused_at": utcnow(),
            "changes": _field_changes(base or {}, doc), "restored": base is not None,
        }
        try:
            copy.save(note)  # first the note (the refused values are in it), then the restore
        except Conflict:
            return None  # recorded before
        log.info("partner %s: the centre refused %s %s: %s", pid, doc_id, rev, reason)
        if base is not None:
            restored = {k: v for k, v in base.items() if k not in ("_rev", "_revisions")}
            restored["_rev"] = rev
            try:
                copy.save(restored)
            except Conflict:
                pass  # the partner changed it again: that revision is audited in its turn
        return note


BOOKKEEPING = {"_id", "_rev", "_revisions", "_conflicts", "history", "updated_at", "updated_by"}


def _field_changes(before: dict, after: dict) -> dict:
    keys = (set(before) | set(after)) - BOOKKEEPING
    return {k: {"centre": before.get(k), "yours": after.get(k)} for k in sorted(keys) if before.get(k) != after.get(k)}


def _first_held(central: Database, doc: dict) -> dict | None:
    """The newest ancestor of `doc`'s revision that the centre holds (what it was based on)."""
    revs = doc.get("_revisions") or {}
    start, ids = revs.get("start", 0), revs.get("ids", [])
    for i, rid in enumerate(ids[1:], start=1):
        try:
            return central.get(doc["_id"], rev=f"{start - i}-{rid}")
        except NotFound:
            continue
    return None


def _raw(db: Database, method: str, path: str, **kw):
    """A call the client library does not model (changes, revs_diff), as the database's identity."""
    r = db._raw(method, path, **kw)
    return r.json() if r.content else None


# -- a partner person's work, in their own database --------------------------------------------------

class PartnerService:
    """What a partner's person does, in the partner's database and as that person (CouchDB checks
    who; the centre decides later what). Python checks the same rules first for a quick 400."""

    def __init__(self, db: Database, person: PartnerPerson, numbers, catalog, clock=utcnow):
        """`catalog(skus) -> Book`: the centre's products and price lists, read by the app (a
        partner's database holds no catalog): a partner's order is priced as the centre prices
        it, from the price lists of the customer it orders for."""
        self.db, self.person, self.numbers, self.catalog, self.clock = db, person, numbers, catalog, clock

    def _need(self, what: str, sentence: str) -> None:
        if not self.person.may(what):
            raise Forbidden(f"As {self.person.level_title} you may not {sentence}.")

    # reading
    def orders(self, after: str | None = None, limit: int = 50) -> tuple[list[dict], str | None]:
        opts = {"limit": limit + 1}
        if after:
            opts["start_key"] = after
        rows = [r for r in self.db.view("partner", "orders", **opts)["rows"] if r["key"] != after][:limit + 1]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (rows[-1]["key"] if more and rows else None)

    def order(self, number: str) -> dict:
        try:
            doc = self.db.get(f"order:{number}", conflicts=True)
        except NotFound:
            raise NotFound(f"no order {number}") from None
        if doc.get("type") != "order" or doc.get("partner") != self.person.partner:
            raise NotFound(f"no order {number}")
        return doc

    def responses(self, order_id: str) -> dict[str, list[dict]]:
        rows = self.db.view("partner", "by_order", start_key=[order_id], end_key=[order_id, {}],
                            include_docs=True)["rows"]
        out: dict[str, list[dict]] = {"comment": [], "shipment": [], "receipt": [], "rejection": []}
        for row in rows:
            out.setdefault(row["key"][1], []).append(row["doc"])
        return out

    def rejections(self, limit: int = 20) -> list[dict]:
        rows = self.db.view("partner", "rejections", descending=True, limit=limit, include_docs=True)["rows"]
        return [r["doc"] for r in rows]

    def customers(self) -> list[dict]:
        rows = self.db.all_docs(include_docs=True, start_key="customer:", end_key="customer:\ufff0")["rows"]
        return [r["doc"] for r in rows if r.get("doc", {}).get("type") == "customer"]

    # writing
    def place(self, data: dict) -> dict:
        from oms.ordering.orders import new_order
        self._need("place_order", "place orders")
        if not isinstance(data, dict):
            raise InvalidInput("the order must be a JSON object")
        data = dict(data, status=R()["new_order_status"])
        ref = str(data.get("customer") or "")
        cid = ref if ref.startswith("customer:") else f"customer:{ref}"
        customer = self.db.get_or_none(cid) if ref else None
        if not customer or customer.get("type") != "customer" or customer.get("partner") != self.person.partner:
            raise InvalidInput(f"unknown customer {ref!r}; choose one of your customers")
        now = self.clock()
        # The centre's price, always: a partner does not set prices (its customers' price lists do).
        data["lines"] = [{k: v for k, v in l.items() if k != "unit_price"} if isinstance(l, dict) else l
                         for l in data.get("lines") or []] if isinstance(data.get("lines"), list) else data.get("lines")
        from oms.ordering.orders import skus_of
        book = self.catalog(skus_of(data.get("lines")))
        new_order(data, number_prefix(self.person.partner) + "000000", self.person.access(), customer, now, book)
        doc = new_order(data, self.numbers.next(self.db), self.person.access(), customer, now, book)
        if doc["status"] != R()["new_order_status"]:   # above the value ceiling: the centre decides
            doc["status"] = doc["history"][0]["to"] = R()["new_order_status"]
            doc["history"][0].pop("reason", None)
        doc["partner"] = self.person.partner
        doc["authors"] = [self.person.name, "[Sales]"]
        return self.db.save(doc)

    def _change(self, number: str, action: str, changes: dict, reason: str | None, rev: str | None) -> dict:
        from oms.ordering import workflow
        self._need("edit_order", "change orders")
        doc = self.order(number)
        if rev and rev != doc["_rev"]:
            raise Conflict("the order changed since you opened it; reload and try again")
        status = doc["status"]
        if action == "edit":
            allowed = set(R()["editable"].get(status, ()))
        else:
            t = R()["transitions"].get(action)
            if t is None or status not in t["from"]:
                raise InvalidInput(f"you may not {action} an order that is {workflow.state(status)['title']}")
            if t.get("needs_reason") and not (reason or "").strip():
                raise InvalidInput(f'"{action}" needs a reason')
            allowed = set()
        bad = sorted(set(changes) - allowed)
        if bad:
            may = ", ".join(sorted(allowed)) or "nothing"
            raise InvalidInput(f"you may not change {', '.join(bad)} of an order that is "
                               f"{workflow.state(status)['title']} (only {may}); ask us to amend it")
        doc.pop("_conflicts", None)
        new = workflow.apply(self.person.access(), doc, action, self.clock(), reason,
                             {k: (v or None) for k, v in changes.items()})
        return self.db.save(new)

    def edit(self, number: str, changes: dict, rev: str | None = None) -> dict:
        return self._change(number, "edit", changes, None, rev)

    def cancel(self, number: str, reason: str, rev: str | None = None) -> dict:
        return self._change(number, "cancel", {}, reason, rev)

    def comment(self, number: str, text: str) -> dict:
        import uuid
        self._need("comment", "comment")
        doc = self.order(number)
        text = (text or "").strip()
        if not text or len(text) > 4000:
            raise InvalidInput("a comment needs text (1 to 4000 characters)")
        return self.db.save({"_id": f"comment:{uuid.uuid4().hex}", "type": "comment", "parent": doc["_id"],
                             "text": text, "by": self.person.name, "at": self.clock(),
                             "partner": self.person.partner})

    def accept(self, shipment_id: str, note: str = "") -> dict:
        self._need("accept_shipment", "accept shipments")
        if not shipment_id.startswith("shipment:"):
            shipment_id = f"shipment:{shipment_id}"
        shipment = self.db.get_or_none(shipment_id)
        if not shipment or shipment.get("type") != "shipment" or shipment.get("partner") != self.person.partner:
            raise NotFound(f"no shipment {shipment_id}")
        receipt = {"_id": "receipt:" + shipment_id[len("shipment:"):], "type": "receipt",
                   "shipment": shipment_id, "order": _order_doc_id(shipment["order"]), "by": self.person.name,
                   "at": self.clock(), "partner": self.person.partner}
        if (note or "").strip():
            receipt["note"] = note.strip()[:1000]
        # Checked first: PouchDB Server runs validation (403 "cannot be changed") before the
        # conflict check that CouchDB 3 answers with 409.
        if self.db.get_or_none(receipt["_id"]) is not None:
            raise Conflict("this shipment has been accepted already")
        try:
            return self.db.save(receipt)
        except Conflict:
            raise Conflict("this shipment has been accepted already") from None
