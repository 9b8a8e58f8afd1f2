"""validate_doc_update for the ACL document, run as the real JavaScript under node: only a Manager
changes it, and it never loses its last Manager (rules/acl.json required_level)."""
from __future__ import annotations

from oms.core import rules
from tests import designjs

MANAGER = ("mia", ["level:manager", "[Manager]"])


def acl_doc(entries):
    return {"_id": "acl", "type": "acl", "entries": entries}


def entry(name, level, kind="group"):
    return {"name": name, "type": kind, "level": level, "roles": []}


def test_an_acl_without_a_manager_is_refused_even_to_a_manager():
    old = acl_doc(rules.acl()["default_entries"])
    demoted = acl_doc([dict(e, level="reader") if e["level"] == "manager" else e for e in old["entries"]])
    result = designjs.validate(demoted, old, *MANAGER)
    assert "must keep at least one Manager" in result.get("forbidden", ""), result


def test_an_acl_that_keeps_a_manager_is_taken():
    old = acl_doc(rules.acl()["default_entries"])
    moved = acl_doc([e for e in old["entries"] if e["level"] != "manager"] + [entry("mia", "manager", "person")])
    assert designjs.validate(moved, old, *MANAGER) == {"ok": True}


def test_the_page_and_the_server_refuse_the_same_acls_in_the_same_words():
    from oms.identity.acl import keeps_required_level
    old = acl_doc(rules.acl()["default_entries"])
    for entries in (old["entries"],
                    [dict(e, level="reader") if e["level"] == "manager" else e for e in old["entries"]],
                    [entry("-Default-", "no_access", "default")],
                    [entry("-Default-", "no_access", "default"), entry("mia", "manager", "person")]):
        server = designjs.validate(acl_doc(entries), old, *MANAGER).get("forbidden")
        assert keeps_required_level(entries) == server, entries
