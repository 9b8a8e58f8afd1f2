"""The repository: one thin layer over the CouchDB client (ibmcloudant), and the only place that
knows HTTP. It turns CouchDB's answers into domain errors (409 -> Conflict, 403 -> Forbidden...).

One keep-alive requests.Session per process is shared by every identity; each person gets a
client with their own basic-auth credentials, so CouchDB's validate_doc_update sees who acts."""
from __future__ import annotations

import functools
import json
import os
import threading
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Iterable
from urllib.parse import quote, urlsplit

import requests
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import BasicAuthenticator
from ibmcloudant.cloudant_v1 import CloudantV1

from oms.core.errors import BadRequest, Conflict, CouchError, Forbidden, NotFound, Unauthorized, Unavailable

from .group_commit import GroupCommit

# The error names of a _bulk_docs result row, as the exceptions a PUT of that document raises.
_ROW_ERRORS = {"conflict": Conflict, "forbidden": Forbidden, "unauthorized": Unauthorized,
               "not_found": NotFound, "bad_request": BadRequest, "unknown_error": Unavailable}

def row_error(row: dict) -> CouchError:
    """The exception a PUT of the document would have raised, for a _bulk_docs result row."""
    return _ROW_ERRORS.get(row["error"], BadRequest)(row.get("reason") or row["error"])


class Rows(list):
    """The result rows of a _bulk_docs, and whether every copy of the database took every write
    in it: always on one copy; on a cluster CouchDB answers 201 for that, and 202 when some
    document reached fewer copies (without saying which)."""

    def __init__(self, rows, on_every_copy: bool):
        super().__init__(rows)
        self.on_every_copy = on_every_copy


def _in_order(docs: list[dict], rows: list[dict]) -> list[dict]:
    """_bulk_docs result rows in the order of `docs` (one per document, matched by id)."""
    by_id: dict[str, list[dict]] = {}
    for row in rows:
        by_id.setdefault(row.get("id"), []).append(row)
    return [(by_id.get(d["_id"]) or [{"id": d["_id"], "error": "unknown_error",
                                      "reason": "the server gave no result for this document"}]).pop(0)
            for d in docs]


_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
              412: Conflict}


def _translate(exc: Exception) -> CouchError:
    if isinstance(exc, ApiException):
        reason = exc.message or ""
        body = getattr(exc.http_response, "text", "") if exc.http_response is not None else ""
        try:
            data = exc.http_response.json()
            reason = data.get("reason") or data.get("error") or reason
        except Exception:
            reason = reason or body[:200]
        if exc.status_code in (0, None) or exc.status_code >= 500:
            return Unavailable(f"database server error: {reason}", 503)
        return _BY_STATUS.get(exc.status_code, CouchError)(reason, exc.status_code)
    return Unavailable(f"database server unreachable: {exc.__class__.__name__}")


def _couch_call(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ApiException, requests.RequestException) as exc:
            raise _translate(exc) from exc
    return wrapper


class CouchServer:
    """The server, as seen by this process: shared HTTP session, admin and per-person clients."""

    def __init__(self, url: str, admin_user: str | None, admin_password: str | None, timeout: float = 30):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        # Identities share this session: never let a cookie one of them got (an AuthSession from
        # _session, refreshed on every cookie request by PouchDB Server) ride along with another's
        # basic-auth request; both servers try the cookie first.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        # requests scans the environment for proxies and CA bundles on every request (a millisecond
        # of CPU per call, measured): read it once here instead.
        self.session.proxies = requests.utils.get_environ_proxies(self.url)
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.trust_env = False
        # The SDK gzips request bodies by default: worth it across a WAN to Cloudant, pure CPU on
        # both ends for a server on this machine or this network.
        self.gzip = urlsplit(self.url).hostname not in ("localhost", "127.0.0.1", "::1")
        if not self.gzip:   # ... and its answers: every response over 1 KB was compressed (profiled)
            self.session.headers["Accept-Encoding"] = "identity"
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.timeout = timeout
        self._admin = (admin_user, admin_password)
        self._clients: dict[tuple[str, str], CloudantV1] = {}
        self._groups: dict[tuple[str, str, str], GroupCommit] = {}
        self.copies_of: dict[str, int] = {}   # database -> copies of each document (Database.copies)
        # database -> the update_seq a cluster's change_token answers with while the changes feed
        # has nothing after it (never stale: each use asks the feed)
        self.change_refs: dict[str, str] = {}
        self._lock = threading.Lock()

    def client(self, name: str, password: str) -> CloudantV1:
        key = (name, password)
        with self._lock:
            svc = self._clients.get(key)
            if svc is None:
                svc = CloudantV1(authenticator=BasicAuthenticator(name, password))
                svc.set_service_url(self.url)
                svc.set_http_client(self.session)
                svc.set_http_config({"timeout": self.timeout})
                svc.set_enable_gzip_compression(self.gzip)
                if len(self._clients) > 1000:  # people come and go; keep the cache bounded
                    self._clients.clear()
                self._clients[key] = svc
            return svc

    def group(self, db: "Database") -> GroupCommit:
        """The group commit of this identity's writes to this database (oms/store/group_commit.py)."""
        key = (db.identity(), db.name)
        with self._lock:
            group = self._groups.get(key)
            if group is None:
                if len(self._groups) > 1000:
                    self._groups.clear()   # an in-flight group finishes on its own; a new one forms
                group = self._groups[key] = GroupCommit(db._bulk_raw, db._put)
            return group

    def admin(self, db: str) -> "Database":
        if not self._admin[0]:
            raise Unauthorized("no CouchDB admin credentials are configured (COUCHDB_USER/PASSWORD)")
        return Database(self, self.client(*self._admin), db)

    def as_person(self, db: str, name: str, password: str) -> "Database":
        return Database(self, self.client(name, password), db)

    # raw HTTP for the few calls the SDK does not model the way we need (_config, _replicate)
    def request(self, method: str, path: str, *, auth=None, json=None, params=None, data=None):
        r = self.send(method, path, auth=auth or self._admin, json=json, params=params, data=data)
        return r.json() if r.content else None

    @_couch_call
    def send(self, method: str, path: str, *, auth, json=None, params=None, data=None, headers=None) -> requests.Response:
        """One request as `auth`; an answer of 400 and up raises its CouchError."""
        r = self.session.request(method, self.url + path, auth=auth, json=json, params=params, data=data,
                                 headers=headers, timeout=self.timeout)
        if r.status_code >= 400:
            try:
                reason = r.json().get("reason") or r.json().get("error")
            except ValueError:
                reason = r.text[:200]
            if r.status_code >= 500:
                raise Unavailable(f"database server error: {reason}", 503)
            raise _BY_STATUS.get(r.status_code, CouchError)(reason, r.status_code)
        return r

    def up(self) -> bool:
        try:
            return self.session.get(self.url + "/", timeout=2).ok
        except requests.RequestException:
            return False


class Database:
    """One database as one identity. Methods return plain dicts (the documents)."""

    def __init__(self, server: CouchServer, svc: CloudantV1, name: str):
        self.server, self.svc, self.name = server, svc, name

    @_couch_call
    def info(self) -> dict:
        return self.svc.get_database_information(db=self.name).get_result()

    @_couch_call
    def create(self) -> bool:
        """Create the database; False when it already exists."""
        try:
            self.svc.put_database(db=self.name)
            return True
        except ApiException as exc:
            if exc.status_code == 412:
                return False
            raise

    def change_token(self) -> str:
        """A token that moves when the database changes (what a live page polls with, what cached
        totals are keyed by): its update_seq. A cluster's update_seq adds up the sequences of
        whichever copy of each shard answered, and copies count differently: it can differ from one
        GET /db to the next while nothing changed. So the token answered before is kept while the
        changes feed has nothing after it."""
        seq = str(self.info()["update_seq"])
        if self.copies() == 1:
            return seq
        ref = self.server.change_refs.get(self.name)
        if self.still_at(ref, seq):
            return ref
        self.server.change_refs[self.name] = seq
        return seq

    def still_at(self, token: str | None, current: str) -> bool:
        """Is the database where `token` (a page's, perhaps from another process) says, given
        `current`, the change_token just read?"""
        if not token:
            return False
        return token == current or (self.copies() > 1 and not self.changed_since(token))

    def changed_since(self, token: str) -> bool:
        """Has the database changed since `token` (an earlier change_token, perhaps another
        process's)? A token the server cannot read counts as changed."""
        if self.copies() == 1:
            return token != str(self.info()["update_seq"])
        try:
            r = self._raw("GET", "/_changes", params={"since": token, "limit": "1"})
        except BadRequest:
            return True
        return bool(r.json().get("results"))

    def exists(self) -> bool:
        try:
            self.info()
            return True
        except NotFound:
            return False

    @_couch_call
    def get(self, doc_id: str, **opts) -> dict:
        if doc_id.startswith("_design/"):
            return self.svc.get_design_document(db=self.name, ddoc=doc_id[8:], **opts).get_result()
        return self.svc.get_document(db=self.name, doc_id=doc_id, **opts).get_result()

    def get_or_none(self, doc_id: str) -> dict | None:
        try:
            return self.get(doc_id)
        except NotFound:
            return None

    def save(self, doc: dict) -> dict:
        """Create or update `doc` (it must carry _id; _rev when updating). Sets the new _rev.

        PouchDB Server runs validate_doc_update against the CURRENT revision even when the write
        is based on an older one, so a stale write can come back 403 where CouchDB 3 answers 409
        first. A refused write whose base revision is no longer current is therefore a Conflict."""
        try:
            return self._save(doc)
        except Forbidden:
            if self._stale(doc):
                raise Conflict("Document update conflict") from None
            raise

    def save_all(self, docs: list[dict]) -> list[dict | CouchError]:
        """Write `docs` in one _bulk_docs (not atomic). Per document, in order: the document with
        its new _rev, or the error save() would have raised for it (a stale write is a Conflict)."""
        out: list[dict | CouchError] = []
        for doc, row in zip(docs, self.bulk(docs)):
            if "error" not in row:
                doc["_rev"] = row["rev"]
                out.append(doc)
                continue
            error = row_error(row)
            out.append(Conflict("Document update conflict") if isinstance(error, Forbidden) and self._stale(doc)
                       else error)
        return out

    def _stale(self, doc: dict) -> bool:
        """Is `doc` based on a revision that is no longer the current one (or none, for a document
        that exists)?"""
        return self._current_rev(doc["_id"]) != doc.get("_rev")

    def _current_rev(self, doc_id: str) -> str | None:
        try:
            return self.get(doc_id)["_rev"]
        except NotFound:
            return None

    def _save(self, doc: dict) -> dict:
        if doc["_id"].startswith("_design/"):
            doc["_rev"] = self._put_design(doc)["rev"]
            return doc
        # Concurrent writes of this identity share one _bulk_docs (group commit); a document's
        # own refusal comes back as the error a PUT would have raised.
        row = self.server.group(self).save(doc)
        if "error" in row:
            raise row_error(row)
        doc["_rev"] = row["rev"]
        return doc

    @_couch_call
    def _put_design(self, doc: dict) -> dict:
        return self.svc.put_design_document(db=self.name, ddoc=doc["_id"][8:], design_document=doc).get_result()

    # Every write asks every copy to take it (w = copies, on a cluster): when it returns, whatever
    # reads next (a view, which a cluster answers from one copy per shard; this person's next
    # page) sees it. A copy that is down makes it 202 Accepted, still a write that was taken.
    @_couch_call
    def _put(self, doc: dict) -> dict:
        if self.copies() > 1:
            return self._raw("PUT", "/" + quote(doc["_id"], safe=":"), params={"w": self.copies()}, json=doc).json()
        return self.svc.put_document(db=self.name, doc_id=doc["_id"], document=doc).get_result()

    @_couch_call
    def _bulk_raw(self, docs: list[dict], new_edits: bool | None = None) -> "Rows":
        body = {"docs": docs}
        if new_edits is not None:
            body["new_edits"] = new_edits
        if self.copies() > 1:
            r = self._raw("POST", "/_bulk_docs", params={"w": self.copies()}, json=body)
            return Rows(r.json(), on_every_copy=r.status_code == 201)
        return Rows(self.svc.post_bulk_docs(db=self.name, bulk_docs=body).get_result(), on_every_copy=True)

    @_couch_call
    def delete(self, doc_id: str, rev: str) -> None:
        if doc_id.startswith("_design/"):
            self.svc.delete_design_document(db=self.name, ddoc=doc_id[8:], rev=rev)
        else:
            self.svc.delete_document(db=self.name, doc_id=doc_id, rev=rev)

    def bulk(self, docs: list[dict], new_edits: bool | None = None) -> "Rows":
        """_bulk_docs: never atomic (neither on CouchDB 3): returns one result per document, in
        the order of `docs`. (PouchDB Server answers a validated _bulk_docs with the refused
        documents first; CouchDB 3 keeps the request's order.)"""
        rows = self._bulk_raw(docs, new_edits)
        if new_edits is False or any("_id" not in d for d in docs):
            return rows
        return Rows(_in_order(docs, rows), on_every_copy=rows.on_every_copy)

    def copies(self) -> int:
        """How many copies of each document the server keeps: a CouchDB 3 cluster's n (GET /db
        answers `cluster.n`), 1 for a single node or PouchDB Server. Fixed when the database is
        created, so asked once per database and server and kept for the process."""
        n = self.server.copies_of.get(self.name)
        if n is None:
            info = self._raw("GET", "").json()
            n = self.server.copies_of[self.name] = int((info.get("cluster") or {}).get("n") or 1)
        return n

    def leaves(self, doc_id: str) -> list[dict]:
        """Every leaf revision of the document that any copy holds (open_revs=all, read from
        every copy), deleted ones included, each with its `_revisions` (its ancestry)."""
        try:
            r = self._raw("GET", "/" + quote(doc_id, safe=":"),
                          params={"open_revs": "all", "revs": "true", "r": self.copies()},
                          headers={"Accept": "application/json"})
        except NotFound:
            return []
        return [row["ok"] for row in r.json() if "ok" in row]

    def revisions(self, doc_id: str, revs: list[str]) -> dict[str, dict | None]:
        """These revisions of the document as the copies hold them (open_revs=[...], read from every
        copy): per revision its body (a deletion carries `_deleted`), or None once compaction
        dropped it or no copy has it."""
        if not revs:
            return {}
        r = self._raw("GET", "/" + quote(doc_id, safe=":"),
                      params={"open_revs": json.dumps(revs), "r": self.copies()},
                      headers={"Accept": "application/json"})
        found = {row["ok"]["_rev"]: row["ok"] for row in r.json() if "ok" in row}
        return {rev: found.get(rev) for rev in revs}

    def leaves_of(self, doc_ids: Iterable[str]) -> dict[str, list[dict]]:
        """`leaves` of several documents in one request (_bulk_get names no revision, so every
        leaf of each comes back, read from every copy): what a write of many claims settles on."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        r = self._raw("POST", "/_bulk_get", params={"revs": "true", "r": self.copies()},
                      json={"docs": [{"id": i} for i in ids]}, headers={"Accept": "application/json"})
        out: dict[str, list[dict]] = {i: [] for i in ids}
        for result in r.json().get("results", []):
            if result.get("id") in out:
                out[result["id"]] = [row["ok"] for row in result.get("docs", []) if "ok" in row]
        return out

    def _raw(self, method: str, path: str, *, params=None, json=None, headers=None) -> requests.Response:
        return self.server.send(method, f"/{quote(self.name, safe='')}{path}", auth=None,
                                params=params, json=json, headers=self._signed(headers))

    @_couch_call
    def all_docs(self, **opts) -> dict:
        return self.svc.post_all_docs(db=self.name, **opts).get_result()

    @_couch_call
    def view(self, ddoc: str, view: str, **opts) -> dict:
        """Query a view. PouchDB Server ignores start_key_doc_id, so our views end every key with
        a unique tie-breaker and callers page by start_key alone."""
        return self.svc.post_view(db=self.name, ddoc=ddoc, view=view, **opts).get_result()

    @_couch_call
    def find(self, selector: dict, **opts) -> dict:
        return self.svc.post_find(db=self.name, selector=selector, **opts).get_result()

    @_couch_call
    def get_security(self) -> dict:
        return self.svc.get_security(db=self.name).get_result()

    @_couch_call
    def put_security(self, security: dict) -> None:
        self.svc.put_security(db=self.name, admins=security.get("admins"),
                              members=security.get("members"))

    @_couch_call
    def open_revs(self, doc_id: str, revs: Iterable[str]) -> list[dict]:
        docs = []
        for rev in revs:
            docs.append(self.svc.get_document(db=self.name, doc_id=doc_id, rev=rev).get_result())
        return docs

    def get_json(self, path: str, **params) -> Any:
        return self._raw("GET", f"/{path}", params=params).json()

    def identity(self) -> tuple:
        """Who this database acts as (a name and password, or a session cookie)."""
        a = self.svc.authenticator
        return (a.authentication_type(), getattr(a, "username", None), getattr(a, "password", None),
                getattr(a, "cookie", None))

    def _signed(self, headers: dict | None) -> dict:
        """`headers` with this identity's credentials, as the client library sends them."""
        req = {"headers": dict(headers or {})}
        self.svc.authenticator.authenticate(req)
        return req["headers"]
