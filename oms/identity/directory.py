"""The staff directory (LDAP): who may sign in, and which groups they are in.

Used by the web login and by API basic auth. Every call opens its own
connection, so one Directory can be shared by all threads.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import ldap
from ldap.filter import escape_filter_chars

log = logging.getLogger(__name__)

# Letters, digits and . _ @ - only: nothing that means something in an LDAP
# filter or DN (* ( ) \ NUL , = +), checked before any LDAP call.
NAME_PATTERN = re.compile(r"[A-Za-z0-9._@-]{1,64}")
NAME_RULE = "User names are letters, digits and . _ @ - (at most 64)"
UNAVAILABLE = "The staff directory is not reachable; try again shortly"


@dataclass(frozen=True)
class Person:
    name: str                 # the directory's uid, in its own spelling
    display_name: str
    email: str
    dn: str
    groups: tuple[str, ...]   # group cn's, sorted


class AuthError(Exception):
    """A sign-in that did not succeed; `reason` is fit to show the person."""
    code = "auth_error"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InvalidName(AuthError):
    code = "invalid_name"


class UnknownUser(AuthError):
    code = "unknown_user"


class WrongPassword(AuthError):
    code = "wrong_password"


class DirectoryUnavailable(AuthError):
    code = "unavailable"


def is_valid_name(name: object) -> bool:
    # fullmatch, not ^...$: "$" would also accept a trailing newline.
    return isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None


def check_name(name: object) -> str:
    if not is_valid_name(name):
        raise InvalidName(NAME_RULE)
    return name  # type: ignore[return-value]


class Directory:
    def __init__(self, url: str, base_dn: str, bind_dn: str | None = None,
                 bind_password: str | None = None, people_base: str | None = None,
                 groups_base: str | None = None, timeout: float = 5):
        self.url = url
        self.base_dn = base_dn
        self.bind_dn = bind_dn
        self.bind_password = bind_password
        self.people_base = people_base or f"ou=people,{base_dn}"
        self.groups_base = groups_base or f"ou=groups,{base_dn}"
        self.timeout = timeout

    def __repr__(self) -> str:  # never show the bind password
        return f"Directory({self.url!r}, {self.base_dn!r}, bind_dn={self.bind_dn!r})"

    def authenticate(self, name: str, password: str) -> Person:
        """The person, if `password` is theirs; otherwise AuthError with a code."""
        check_name(name)
        if not password:
            # An empty password is an "unauthenticated bind" that LDAP servers
            # may report as a success: never let it through.
            raise WrongPassword("Wrong user name or password")
        with self._connection() as conn:
            self._service_bind(conn)
            entry = self._find_person(conn, name)
            if entry is None:
                raise UnknownUser("Wrong user name or password")
            dn, _ = entry
            # Verify the password on a connection of its own, so the service
            # connection keeps its (possibly privileged) identity.
            with self._connection() as user_conn:
                try:
                    user_conn.simple_bind_s(dn, password)
                except ldap.INVALID_CREDENTIALS:
                    raise WrongPassword("Wrong user name or password") from None
            return self._person(conn, entry, name)

    def lookup(self, name: str) -> Person | None:
        """The person by user name without a password (admin, agents); None if unknown."""
        check_name(name)
        with self._connection() as conn:
            self._service_bind(conn)
            entry = self._find_person(conn, name)
            return None if entry is None else self._person(conn, entry, name)

    def people(self) -> list[Person]:
        """Everyone in the directory with their groups (the agents' digests and role e-mails)."""
        with self._connection() as conn:
            self._service_bind(conn)
            results = conn.search_ext_s(self.people_base, ldap.SCOPE_SUBTREE, "(uid=*)",
                                        attrlist=["uid", "cn", "displayName", "mail"], timeout=self.timeout)
            out = []
            for dn, attrs in results:
                uids = _values(attrs, "uid") if dn else []
                if uids:
                    out.append(self._person(conn, (dn, attrs), uids[0]))
            return sorted(out, key=lambda p: p.name)

    # -- internals
    def _connection(self) -> "_Connection":
        return _Connection(self.url, self.timeout)

    def _service_bind(self, conn) -> None:
        if self.bind_dn:
            conn.simple_bind_s(self.bind_dn, self.bind_password or "")
        else:
            conn.simple_bind_s("", "")  # anonymous

    def _find_person(self, conn, name: str):
        results = conn.search_ext_s(
            self.people_base, ldap.SCOPE_SUBTREE, f"(uid={escape_filter_chars(name)})",
            attrlist=["uid", "cn", "displayName", "mail"], timeout=self.timeout)
        entries = [(dn, attrs) for dn, attrs in results if dn]  # drop referrals
        if len(entries) > 1:
            log.warning("%d directory entries have uid=%s; refusing to choose", len(entries), name)
            return None
        return entries[0] if entries else None

    def _person(self, conn, entry, asked: str) -> Person:
        dn, attrs = entry
        groups = conn.search_ext_s(
            self.groups_base, ldap.SCOPE_SUBTREE,
            f"(&(objectClass=groupOfNames)(member={escape_filter_chars(dn)}))",
            attrlist=["cn"], timeout=self.timeout)
        uids = _values(attrs, "uid")
        # uid matching is case-insensitive; keep the directory's own spelling
        # so the name is stable wherever it is used as a key.
        name = next((u for u in uids if u.lower() == asked.lower()), uids[0] if uids else asked)
        display = (_values(attrs, "displayName") or _values(attrs, "cn") or [name])[0]
        email = (_values(attrs, "mail") or [""])[0]
        group_names = sorted({cn for gdn, gattrs in groups if gdn for cn in _values(gattrs, "cn")[:1]})
        return Person(name=name, display_name=display, email=email, dn=dn,
                      groups=tuple(group_names))


def _values(attrs: dict, key: str) -> list[str]:
    return [v.decode("utf-8") for v in attrs.get(key, [])]


class _Connection:
    """One LDAP connection for one call; turns 'server away' into DirectoryUnavailable."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout
        self.conn = None

    def __enter__(self):
        try:
            conn = ldap.initialize(self.url)
        except ldap.LDAPError as e:  # a malformed URL: configuration, not the person
            log.error("LDAP URL %r refused: %s", self.url, e)
            raise DirectoryUnavailable(UNAVAILABLE) from e
        conn.protocol_version = ldap.VERSION3
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, float(self.timeout))  # connect
        conn.set_option(ldap.OPT_TIMEOUT, float(self.timeout))  # calls made inside libldap
        conn.timeout = self.timeout  # python-ldap's own waits for a result (binds, searches)
        self.conn = conn
        return conn

    def __exit__(self, exc_type, exc, tb):
        try:
            self.conn.unbind_s()
        except ldap.LDAPError:
            pass
        if exc_type is None or issubclass(exc_type, AuthError):
            return False
        if issubclass(exc_type, (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR)):
            log.warning("LDAP %s not reachable: %s", self.url, exc)
            raise DirectoryUnavailable(UNAVAILABLE) from exc
        if issubclass(exc_type, ldap.LDAPError):
            # e.g. the service bind refused, or a base DN that does not exist:
            # a configuration problem the person cannot fix, so "unavailable".
            log.error("LDAP %s failed: %r", self.url, exc)
            raise DirectoryUnavailable(UNAVAILABLE) from exc
        return False
