"""The Notes ACL in Python: who a person is to the database (level + roles), from the ACL
document's entries (seeded from rules/acl.json) and their LDAP groups. The result is what the
app mirrors into CouchDB's _users as roles, where validate_doc_update reads it."""
from __future__ import annotations

from dataclasses import dataclass

from oms.core import rules


def levels() -> list[str]:
    return rules.acl()["levels"]


def level_index(level: str) -> int:
    return levels().index(level)


@dataclass(frozen=True)
class Access:
    name: str
    level: str
    roles: tuple[str, ...]

    @property
    def level_index(self) -> int:
        return level_index(self.level)

    @property
    def level_title(self) -> str:
        return rules.acl()["level_titles"][self.level]

    def at_least(self, level: str) -> bool:
        return self.level_index >= level_index(level)

    def couch_roles(self) -> list[str]:
        """Roles as CouchDB carries them (userCtx.roles): the level, then the Notes roles."""
        return [rules.acl()["level_role_prefix"] + self.level, *self.roles]

    @property
    def principals(self) -> list[str]:
        """Keys under which this person may read (views are keyed by reader principal)."""
        return ["*", self.name, *self.roles]

    def named_in(self, names) -> bool:
        return bool(names) and any(n == self.name or n in self.roles for n in names)

    def may_read(self, doc: dict) -> bool:
        """Notes Readers fields: an order that lists readers is seen only by those named in its
        Readers or Authors fields, whatever their level (as in Notes)."""
        if self.level_index < level_index("reader"):
            return False
        readers = doc.get("readers")
        return not readers or self.named_in(readers) or self.named_in(doc.get("authors"))


def resolve(entries: list[dict], name: str, groups) -> Access:
    """Notes rules: an entry naming the person wins; otherwise the highest level among their
    groups' entries, with the union of those roles; otherwise -Default-."""
    groups = set(groups)
    person = [e for e in entries if e.get("type") == "person" and e["name"] == name]
    if person:
        e = person[0]
        return Access(name, e["level"], tuple(e.get("roles", ())))
    matched = [e for e in entries if e.get("type") == "group" and e["name"] in groups]
    if matched:
        level = max((e["level"] for e in matched), key=level_index)
        roles: list[str] = []
        for e in matched:
            roles += [r for r in e.get("roles", ()) if r not in roles]
        return Access(name, level, tuple(roles))
    default = next((e for e in entries if e.get("type") == "default"), None)
    return Access(name, default["level"] if default else "no_access",
                  tuple(default.get("roles", ())) if default else ())


def keeps_required_level(entries: list[dict]) -> str | None:
    """Why an ACL with these entries may not be saved, or None: it must keep an entry at the
    rulebook's required level (as validate_doc_update refuses), or nobody could change it again.
    The page asks before anything else, so nobody confirms a change the server will refuse."""
    r = rules.acl()
    if any(e.get("level") == r["required_level"] for e in entries):
        return None
    return (f"The ACL must keep at least one {r['level_titles'][r['required_level']]} entry: "
            "without one nobody could change the ACL again.")

