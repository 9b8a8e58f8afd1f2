"""A throw-away OpenLDAP server for the demo and the tests.

DemoSlapd writes its own slapd.conf under a data folder, runs Debian's
/usr/sbin/slapd in the foreground as our child process on a loopback port,
and fills a small staff directory (people, and groups that map to roles) the
first time. The data and the generated admin password survive a restart.

    python -m oms.devstack.ldap_demo DATA_DIR [--port N]
"""
from __future__ import annotations

import argparse
import atexit
import base64
import hashlib
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time

import ldap
import ldap.dn
import ldap.modlist

SLAPD = "/usr/sbin/slapd"
MODULE_PATH = "/usr/lib/ldap"
SCHEMA_DIR = "/etc/ldap/schema"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
DEFAULT_BASE_DN = "dc=orderdesk,dc=example"
START_TIMEOUT = 15.0

# Documented demo data: every demo person signs in with this password.
DEMO_PASSWORD = "demo"

DEMO_GROUPS = [
    {"cn": "sales", "description": "Sales: enter and edit orders"},
    {"cn": "credit", "description": "Credit control: approve or hold orders"},
    {"cn": "warehouse", "description": "Warehouse: pick and pack, stock"},
    {"cn": "shipping", "description": "Shipping: dispatch orders"},
    {"cn": "billing", "description": "Billing: invoice shipped orders"},
    {"cn": "managers", "description": "Managers: everything, and the ACL"},
    {"cn": "readers", "description": "Readers: look, never touch"},
]

DEMO_PEOPLE = [
    {"uid": "sally", "cn": "Sally Sales", "mail": "sally@orderdesk.example", "groups": ("sales",)},
    {"uid": "carl", "cn": "Carl Credit", "mail": "carl@orderdesk.example", "groups": ("credit",)},
    {"uid": "wanda", "cn": "Wanda Warehouse", "mail": "wanda@orderdesk.example", "groups": ("warehouse",)},
    {"uid": "sam", "cn": "Sam Shipping", "mail": "sam@orderdesk.example", "groups": ("shipping",)},
    {"uid": "bill", "cn": "Bill Billing", "mail": "bill@orderdesk.example", "groups": ("billing",)},
    {"uid": "mia", "cn": "Mia Manager", "mail": "mia@orderdesk.example", "groups": ("managers",)},
    {"uid": "rita", "cn": "Rita Reader", "mail": "rita@orderdesk.example", "groups": ("readers",)},
]


def ssha(password: str) -> str:
    """Salted SHA-1 in the {SSHA} form slapd verifies natively (no module needed)."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def _base_entry(base_dn: str) -> dict[str, list[str]]:
    """The suffix entry itself; its object class follows the first RDN's type."""
    attr, value, _ = ldap.dn.str2dn(base_dn)[0][0]
    attr = attr.lower()
    if attr == "dc":
        return {"objectClass": ["dcObject", "organization"], "dc": [value], "o": ["Order Desk"]}
    if attr == "o":
        return {"objectClass": ["organization"], "o": [value]}
    if attr == "ou":
        return {"objectClass": ["organizationalUnit"], "ou": [value]}
    raise ValueError(f"base DN must start with dc=, o= or ou=, not {base_dn!r}")


def demo_entries(base_dn: str = DEFAULT_BASE_DN) -> list[tuple[str, dict[str, list[bytes]]]]:
    """The demo directory as (dn, attributes) pairs, parents before children."""
    people_base = f"ou=people,{base_dn}"
    groups_base = f"ou=groups,{base_dn}"
    entries: list[tuple[str, dict[str, list[str]]]] = [
        (base_dn, _base_entry(base_dn)),
        (people_base, {"objectClass": ["organizationalUnit"], "ou": ["people"]}),
        (groups_base, {"objectClass": ["organizationalUnit"], "ou": ["groups"]}),
    ]
    for p in DEMO_PEOPLE:
        given, _, surname = p["cn"].rpartition(" ")
        entries.append((f"uid={p['uid']},{people_base}", {
            "objectClass": ["inetOrgPerson"],
            "uid": [p["uid"]],
            "cn": [p["cn"]],
            "givenName": [given or p["cn"]],
            "sn": [surname],
            "mail": [p["mail"]],
            "userPassword": [ssha(DEMO_PASSWORD)],
        }))
    for g in DEMO_GROUPS:
        members = [f"uid={p['uid']},{people_base}" for p in DEMO_PEOPLE if g["cn"] in p["groups"]]
        entries.append((f"cn={g['cn']},{groups_base}", {
            "objectClass": ["groupOfNames"],
            "cn": [g["cn"]],
            "description": [g["description"]],
            "member": members,  # groupOfNames requires at least one
        }))
    return [(dn, {k: [v.encode("utf-8") for v in vs] for k, vs in attrs.items()})
            for dn, attrs in entries]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoSlapd:
    def __init__(self, data_dir: pathlib.Path, port: int | None = None,
                 base_dn: str = DEFAULT_BASE_DN, anonymous_search: bool = False):
        """anonymous_search: let an anonymous client find people and groups, as some company
        directories do (off for the demo: only a bound identity may search)."""
        self.anonymous_search = anonymous_search
        self.data_dir = pathlib.Path(data_dir)
        self._fixed_port = port
        self.port = port
        self._base_dn = base_dn
        self._password: str | None = None
        self._proc: subprocess.Popen | None = None
        self._owner_pid = os.getpid()

    # -- properties callers configure the Directory from
    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}/"

    @property
    def base_dn(self) -> str:
        return self._base_dn

    @property
    def bind_dn(self) -> str:
        return f"cn=admin,{self._base_dn}"

    @property
    def bind_password(self) -> str:
        if self._password is None:
            self._password = self._load_or_make_password()
        return self._password

    @property
    def people_base(self) -> str:
        return f"ou=people,{self._base_dn}"

    @property
    def groups_base(self) -> str:
        return f"ou=groups,{self._base_dn}"

    @property
    def log_path(self) -> pathlib.Path:
        return self.data_dir / "slapd.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle
    def start(self) -> "DemoSlapd":
        if self.running:
            return self
        self._owner_pid = os.getpid()
        if not os.access(SLAPD, os.X_OK):
            raise RuntimeError(f"{SLAPD} is missing: apt-get install slapd ldap-utils")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "db").mkdir(mode=0o700, exist_ok=True)
        conf = self._write_conf()
        # A port picked by binding to 0 may be taken before slapd binds it:
        # with an auto-chosen port, retry a couple of times on a fresh one.
        attempts = 3 if self._fixed_port is None else 1
        for attempt in range(attempts):
            if self._fixed_port is None:
                self.port = free_port()
            try:
                self._spawn(conf)
                break
            except RuntimeError as e:
                if attempt + 1 == attempts or "Address already in use" not in str(e):
                    raise
        atexit.register(self.stop)
        self._load_demo_if_empty()
        return self

    def stop(self) -> None:
        atexit.unregister(self.stop)
        if os.getpid() != self._owner_pid:
            return  # a forked child (e.g. a server worker) exiting must not stop our slapd
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: slapd shuts down cleanly, mdb stays consistent
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> "DemoSlapd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- internals
    def _load_or_make_password(self) -> str:
        path = self.data_dir / "rootpw"
        if path.exists():
            os.chmod(path, 0o600)
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        return password

    def _write_conf(self) -> pathlib.Path:
        d = self.data_dir.resolve()
        base = self._base_dn
        schemas = "\n".join(f"include {SCHEMA_DIR}/{s}.schema" for s in SCHEMAS)
        readers = "*" if self.anonymous_search else "users"
        text = f"""\
# Generated by oms.devstack.ldap_demo at every start; edits are overwritten.
modulepath {MODULE_PATH}
moduleload back_mdb
{schemas}
pidfile {d}/slapd.pid
argsfile {d}/slapd.args

database mdb
directory {d}/db
suffix "{base}"
rootdn "{self.bind_dn}"
rootpw {ssha(self.bind_password)}
index objectClass eq
index uid eq
index member eq

# Passwords are only ever compared by a bind, never read.
access to attrs=userPassword
    by anonymous auth
    by * none
# Only a bound identity (the app's service account, a person) may find people and their groups:
# an anonymous search learns nothing, not even who works here (unless anonymous_search).
access to dn.base="{base}"
    by {readers} read
    by * none
access to dn.subtree="{self.people_base}"
    by {readers} read
    by * none
access to dn.subtree="{self.groups_base}"
    by {readers} read
    by * none
access to *
    by * none
"""
        path = self.data_dir / "slapd.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def _spawn(self, conf: pathlib.Path) -> None:
        log = open(self.log_path, "ab")
        log_start = log.tell()
        # "-d none" keeps slapd in the foreground (our child, no daemonizing)
        # and still logs configuration and startup errors to stderr; "-d 0"
        # stays in the foreground too but hides why it failed.
        self._proc = subprocess.Popen(
            [SLAPD, "-f", str(conf), "-h", self.url, "-d", "none"],
            # Same process group as ours: whatever kills our group (Ctrl-C, a
            # test runner's timeout) takes slapd with it instead of orphaning it.
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise RuntimeError(
                    f"slapd exited with status {code} on {self.url}:\n{self._log_tail(log_start)}")
            if self._answers():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"slapd did not answer on {self.url} within {START_TIMEOUT:.0f} s:\n"
            f"{self._log_tail(log_start)}")

    def _answers(self) -> bool:
        conn = ldap.initialize(self.url)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 1.0)
        # whoami_s is a plain libldap call: python-ldap's conn.timeout does not
        # reach it, OPT_TIMEOUT does (else something silent on the port hangs us).
        conn.set_option(ldap.OPT_TIMEOUT, 1.0)
        try:
            conn.whoami_s()
            return True
        except ldap.LDAPError:
            return False
        finally:
            conn.unbind_s()

    def _log_tail(self, offset: int, lines: int = 20) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no slapd log)"
        return "\n".join(text.splitlines()[-lines:]) or "(slapd logged nothing)"

    def _admin(self):
        conn = ldap.initialize(self.url)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 5.0)
        conn.set_option(ldap.OPT_TIMEOUT, 10.0)
        conn.timeout = 10
        conn.simple_bind_s(self.bind_dn, self.bind_password)
        return conn

    def _load_demo_if_empty(self) -> None:
        """Fill the directory on first start only, so later edits survive a restart."""
        conn = self._admin()
        try:
            try:
                conn.search_s(self._base_dn, ldap.SCOPE_BASE, attrlist=["1.1"])
                return  # the suffix entry exists: not empty
            except ldap.NO_SUCH_OBJECT:
                pass
            for dn, attrs in demo_entries(self._base_dn):
                try:
                    conn.add_s(dn, ldap.modlist.addModlist(attrs))
                except ldap.ALREADY_EXISTS:
                    pass  # only after an interrupted first load
        finally:
            conn.unbind_s()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oms.devstack.ldap_demo",
        description="Run the demo staff directory (OpenLDAP) until Ctrl-C.")
    parser.add_argument("data_dir", type=pathlib.Path, help="folder for the config, data and log")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--base-dn", default=DEFAULT_BASE_DN)
    args = parser.parse_args(argv)

    # A plain SIGTERM to us alone must stop slapd too (finally: below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = DemoSlapd(args.data_dir, port=args.port, base_dn=args.base_dn)
    try:
        server.start()
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"LDAP_URL={server.url}")
    print(f"LDAP_BASE_DN={server.base_dn}")
    print(f"admin bind DN: {server.bind_dn} (password in {server.data_dir / 'rootpw'})")
    print(f"people: {', '.join(p['uid'] for p in DEMO_PEOPLE)} (password: {DEMO_PASSWORD})")
    print(f"log: {server.log_path}   Ctrl-C to stop", flush=True)
    try:
        code = server._proc.wait()
        print(f"slapd exited with status {code}; see {server.log_path}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping slapd")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
