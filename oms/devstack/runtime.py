"""Bring up what the app needs: the embedded servers when COUCHDB_URL / LDAP_URL are unset, the
designs deployed, the demo seeded. Used by `oms serve` and by the tests' fixtures."""
from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass, field

from couch_design.deploy import deploy
from oms.core.config import Settings, demo_secrets
from oms.store.couch import CouchServer

from .embedded import EmbeddedCouch

log = logging.getLogger(__name__)


@dataclass
class Stack:
    settings: Settings
    couch: EmbeddedCouch | None = None
    slapd: object | None = None
    _exit: ExitStack = field(default_factory=ExitStack)

    def server(self) -> CouchServer:
        s = self.settings
        return CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password)

    def close(self) -> None:
        self._exit.close()


def start(settings: Settings, progress=print, supervise: bool = True) -> Stack:
    """Start what is missing and return the settings that point at it."""
    stack = Stack(settings)
    try:
        s = settings
        secrets = None
        if not s.secret_key or (not s.couchdb_url and not s.couchdb_user):
            secrets = demo_secrets(s.data_dir)
            if not s.secret_key:
                s = s.with_(secret_key=secrets["secret_key"])
        if not s.couchdb_url:
            user = s.couchdb_user or secrets["couchdb_user"]
            password = s.couchdb_password or secrets["couchdb_password"]
            progress("starting the embedded CouchDB (PouchDB Server) ...")
            stack.couch = EmbeddedCouch(s.data_dir / "couch", user, password, port=None).start()
            stack._exit.callback(stack.couch.stop)
            if supervise:
                stack.couch.supervise()
            s = s.with_(couchdb_url=stack.couch.url, couchdb_user=user, couchdb_password=password)
            progress(f"  CouchDB API on {stack.couch.url} (Fauxton at {stack.couch.url}/_utils)")
        if not s.ldap_url:
            from .ldap_demo import DemoSlapd
            progress("starting the demo directory (slapd) ...")
            stack.slapd = DemoSlapd(s.data_dir / "ldap")
            stack.slapd.start()
            stack._exit.callback(stack.slapd.stop)
            s = s.with_(ldap_url=stack.slapd.url, ldap_base_dn=stack.slapd.base_dn,
                        ldap_bind_dn=stack.slapd.bind_dn, ldap_bind_password=stack.slapd.bind_password)
            progress(f"  LDAP on {stack.slapd.url}")
        stack.settings = s
        progress("deploying design documents and security ...")
        outcome = deploy(stack.server().admin(s.db_name), progress=progress, namespace=s.namespace)
        progress("  " + ", ".join(f"{k}: {v}" for k, v in outcome.items()))
        return stack
    except BaseException:
        stack.close()
        raise
