"""A real server stack for a test session or package: PouchDB Server and slapd on free loopback
ports through oms.runtime (as `oms serve` starts them), or COUCHDB_URL / LDAP_URL when set."""
from __future__ import annotations

import hashlib
import secrets
import uuid

from oms.config import Settings


def start_stack(data_dir, db_prefix: str):
    from oms import runtime
    env = Settings.from_env()
    settings = env.with_(data_dir=data_dir, db_name=f"{db_prefix}_{uuid.uuid4().hex[:8]}",
                         secret_key=test_secret(env))
    return runtime.start(settings, progress=lambda *_: None, supervise=False)


def test_secret(env: Settings) -> str:
    """A new secret for an embedded server of the run's own; for a given server (COUCHDB_URL), the
    same secret every run, derived from its admin credentials. The people the tests sign in are
    CouchDB accounts shared by every run on that server, and their passwords come from the secret:
    a new one each run would change every password, and a CouchDB cluster keeps checking a
    changed password against the one it remembers for a moment (its authentication cache), failing
    the first requests and locking the account out after five (chttpd_auth_lockout)."""
    if not env.couchdb_url:
        return "test-" + secrets.token_hex(16)
    seed = f"{env.couchdb_url}\n{env.couchdb_user}\n{env.couchdb_password}".encode()
    return "test-" + hashlib.sha256(b"order-desk tests\n" + seed).hexdigest()[:32]
