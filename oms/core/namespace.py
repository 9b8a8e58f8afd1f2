"""A desk's names on a CouchDB server it may share with other desks.

CouchDB's `_users` and the roles in it belong to the whole server, and so do database names. A
desk with a name (OMS_DESK) therefore signs its people in as "<desk>~<name>", gives them roles
"<desk>~level:editor", "<desk>~[Sales]", and names its partners' databases "<desk>_partner_acme":
two desks on one server (or two test runs at the same moment) never share a person, a role or a
partner. Inside the desk nothing changes: the ACL, Readers and Authors fields, history and views
speak of "alice", because every validate_doc_update first takes the desk's prefix off the writer's
name and roles (lib/desk) and treats a name or role without it as a stranger's. A desk without a
name (the default) uses the names as they are, for a server that holds one desk."""
from __future__ import annotations

import re
from dataclasses import dataclass

PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
SEPARATOR = "~"


def check_desk(desk: str) -> str:
    if desk and not re.match(PATTERN, desk):
        raise ValueError(f"OMS_DESK is 1 to 40 lower-case letters, digits or _, starting with a letter; not {desk!r}")
    return desk


@dataclass(frozen=True)
class Namespace:
    desk: str = ""

    @property
    def prefix(self) -> str:
        return f"{self.desk}{SEPARATOR}" if self.desk else ""

    def scoped(self, text: str) -> str:
        """A server-wide name the desk owns: a person's in _users, a role, a _replicator id."""
        return self.prefix + text

    def user(self, name: str) -> str:
        """A person's name in CouchDB's _users."""
        return self.scoped(name)

    def user_id(self, name: str) -> str:
        return "org.couchdb.user:" + self.user(name)

    def role(self, role: str) -> str:
        return self.scoped(role)

    def roles(self, roles) -> list[str]:
        return [self.role(r) for r in roles]

    def local_name(self, couch_name: str | None) -> str | None:
        """The desk's name for a CouchDB user, or None for somebody else's."""
        if not couch_name or not couch_name.startswith(self.prefix):
            return None
        return couch_name[len(self.prefix):]

    def local_roles(self, roles) -> list[str]:
        """The desk's own roles among a CouchDB user's (another desk's are dropped). Only for a
        name local_name accepts: a stranger's roles count for nothing, whatever they are called."""
        return [r[len(self.prefix):] for r in roles or () if isinstance(r, str) and r.startswith(self.prefix)]

    def database(self, name: str) -> str:
        """A database the desk owns beside its central one (a partner's copy)."""
        return f"{self.desk}_{name}" if self.desk else name

    def design_lib(self) -> str:
        """lib/desk_namespace of the design documents: the prefix validate_doc_update takes off."""
        return 'module.exports = {"prefix": "%s"};' % self.prefix
