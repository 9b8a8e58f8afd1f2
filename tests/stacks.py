"""A real server stack for a test session or package: PouchDB Server and slapd on free loopback
ports through oms.devstack.runtime (as `oms serve` starts them), or COUCHDB_URL / LDAP_URL when set."""
from __future__ import annotations

import uuid

from oms.core.config import Settings, scratch_secret


def start_stack(data_dir, db_prefix: str):
    from oms.devstack import runtime
    env = Settings.from_env()
    run = uuid.uuid4().hex[:8]
    # The run's own desk on the server: its people, roles and partner databases carry the prefix,
    # so runs sharing a server (COUCHDB_URL) never touch each other's (oms/core/namespace.py).
    settings = env.with_(data_dir=data_dir, db_name=f"{db_prefix}_{run}", desk=f"t{run}",
                         secret_key=scratch_secret(env))
    return runtime.start(settings, progress=lambda *_: None, supervise=False)
