"""A real server stack for a test session or package: PouchDB Server and slapd on free loopback
ports through oms.runtime (as `oms serve` starts them), or COUCHDB_URL / LDAP_URL when set."""
from __future__ import annotations

import secrets
import uuid

from oms.config import Settings


def start_stack(data_dir, db_prefix: str):
    from oms import runtime
    settings = Settings.from_env().with_(data_dir=data_dir, db_name=f"{db_prefix}_{uuid.uuid4().hex[:8]}",
                                         secret_key="test-" + secrets.token_hex(16))
    return runtime.start(settings, progress=lambda *_: None, supervise=False)
