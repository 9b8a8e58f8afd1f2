"""Settings, from the environment only (no secret in the repository).

Unset COUCHDB_URL / LDAP_URL mean "start the embedded servers" (PouchDB Server, a demo slapd)."""
from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from .namespace import Namespace, check_desk

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    couchdb_url: str | None = None
    couchdb_user: str | None = None
    couchdb_password: str | None = None
    db_name: str = "orders"
    desk: str = ""                     # the desk's name on a shared server (oms/core/namespace.py)
    ldap_url: str | None = None
    ldap_base_dn: str = "dc=orderdesk,dc=example"
    ldap_bind_dn: str | None = None
    ldap_bind_password: str | None = None
    secret_key: str | None = None
    data_dir: Path = PROJECT_ROOT / "data"
    port: int = 8000
    host: str = "127.0.0.1"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env=os.environ) -> "Settings":
        return cls(
            couchdb_url=env.get("COUCHDB_URL") or None,
            couchdb_user=env.get("COUCHDB_USER") or None,
            couchdb_password=env.get("COUCHDB_PASSWORD") or None,
            db_name=env.get("OMS_DB", "orders"),
            desk=check_desk(env.get("OMS_DESK", "")),
            ldap_url=env.get("LDAP_URL") or None,
            ldap_base_dn=env.get("LDAP_BASE_DN", "dc=orderdesk,dc=example"),
            ldap_bind_dn=env.get("LDAP_BIND_DN") or None,
            ldap_bind_password=env.get("LDAP_BIND_PASSWORD") or None,
            secret_key=env.get("SECRET_KEY") or None,
            data_dir=Path(env.get("OMS_DATA_DIR") or PROJECT_ROOT / "data"),
            port=int(env.get("OMS_PORT", "8000")),
            host=env.get("OMS_HOST", "127.0.0.1"),
        )

    def to_env(self) -> dict[str, str]:
        """The settings as the environment variables from_env() reads (for child processes)."""
        pairs = {"COUCHDB_URL": self.couchdb_url, "COUCHDB_USER": self.couchdb_user,
                 "COUCHDB_PASSWORD": self.couchdb_password, "OMS_DB": self.db_name, "OMS_DESK": self.desk,
                 "LDAP_URL": self.ldap_url, "LDAP_BASE_DN": self.ldap_base_dn,
                 "LDAP_BIND_DN": self.ldap_bind_dn, "LDAP_BIND_PASSWORD": self.ldap_bind_password,
                 "SECRET_KEY": self.secret_key, "OMS_DATA_DIR": str(self.data_dir),
                 "OMS_PORT": str(self.port), "OMS_HOST": self.host}
        return {k: v for k, v in pairs.items() if v is not None}

    @property
    def namespace(self) -> Namespace:
        return Namespace(self.desk)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def demo_secrets(data_dir: Path) -> dict:
    """Secrets the demo generates once and keeps in its (git-ignored) data folder, so a restart
    finds the same CouchDB admin and the same derived passwords of mirrored people."""
    path = data_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "secret_key": secrets.token_urlsafe(32),
        "couchdb_user": "oms_admin",
        "couchdb_password": secrets.token_urlsafe(24),
    }
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def scratch_secret(env: Settings) -> str:
    """The secret a test run or benchmark gives its app. With an embedded server of the run's
    own, a new one; with a given server (COUCHDB_URL), the same one every run, derived from its
    admin credentials: the people a run signs in are CouchDB accounts shared by every run on that
    server, their passwords come from the secret, and a CouchDB cluster keeps checking a changed
    password against the one it remembers for a moment (its authentication cache), failing the
    first requests and locking the account out after five (chttpd_auth_lockout)."""
    if not env.couchdb_url:
        return "scratch-" + secrets.token_hex(16)
    seed = f"{env.couchdb_url}\n{env.couchdb_user}\n{env.couchdb_password}".encode()
    return "test-" + hashlib.sha256(b"order-desk tests\n" + seed).hexdigest()[:32]
