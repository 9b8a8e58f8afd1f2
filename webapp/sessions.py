"""When a signed-in session stops working: a sign-out, a session older than a working day, or a
person the directory no longer lets in. The same for staff and partners.

The session cookie is signed, not stored on the server, so ending one before its time needs a
record: sign-out writes the session's id on the person's _users document (people.sign_out), and
every worker refuses a cookie with that id. What each worker remembers of those records is the
one memory here: per person, at most SIGNED_OUT_SECONDS old (a sign-out reaches another worker
within that; the worker that signed out forgets at once). Staff sessions also ask the directory
again every RECHECK_SECONDS: a person removed from every group with access is out then."""
from __future__ import annotations

import secrets
import time

from oms.core import memories
from oms.core.namespace import Namespace
from oms.identity import people

LIFETIME_SECONDS = 12 * 3600     # a session lasts a working day at most, however active
RECHECK_SECONDS = 300            # staff: the directory is asked again this often
SIGNED_OUT_SECONDS = memories.SIGNED_OUT_SECONDS   # how late a sign-out may reach another worker


def begin(record: dict, now: float | None = None) -> dict:
    """`record` (what the session stores of the person) as a new session: an id of its own and
    the moment it began and was last checked."""
    now = time.time() if now is None else now
    return {**record, "sid": secrets.token_urlsafe(18), "issued": now, "checked": now}


def ended(server, record: dict, namespace: Namespace, now: float | None = None) -> str | None:
    """Why this session no longer works (a sentence for the sign-in page), or None."""
    now = time.time() if now is None else now
    if not record.get("sid") or now - record.get("issued", 0) > LIFETIME_SECONDS:
        return "Your session has expired; sign in again."
    who = namespace.user(record["name"])
    gone = memories.signed_out.get(who)
    if gone is None:
        gone = people.signed_out(server, record["name"], namespace)
        memories.signed_out.put(who, gone)
    if record["sid"] in gone:
        return "You signed out of this session; sign in again."
    return None


def due_for_check(record: dict, now: float | None = None) -> bool:
    return (time.time() if now is None else now) - record.get("checked", 0) > RECHECK_SECONDS


def end(server, record: dict, namespace: Namespace) -> None:
    """Sign this session out, in every worker."""
    if record.get("sid"):
        people.sign_out(server, record["name"], record["sid"], record.get("issued", time.time()) + LIFETIME_SECONDS,
                        namespace)
        memories.signed_out.discard(namespace.user(record["name"]))
