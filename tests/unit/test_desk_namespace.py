"""Desks sharing one server: the prefix on people's names and roles (oms/core/namespace.py), as
Python writes it and as every validate_doc_update takes it off again (lib/desk), run under node."""
from __future__ import annotations

import pytest

from couch_design.deploy import HERE, compile_design, security_object
from oms.core.config import Settings
from oms.core.namespace import Namespace
from oms.core.rules import load_rules
from replication import design
from replication.partners import PartnerPerson, database_name
from tests import designjs

DESK = Namespace("t1")
OTHER = Namespace("t2")
ORDER_ID = "order:SO-000001"


def central(ns: Namespace) -> dict:
    return compile_design(HERE / "oms", namespace=ns)


def validate(ddoc: dict, new_doc, name, roles, old_doc=None) -> dict:
    return designjs.run([{"kind": "validate", "newDoc": new_doc, "oldDoc": old_doc,
                          "userCtx": {"name": name, "roles": roles, "db": "orders"}}], ddoc)[0]


def acl_doc(*more) -> dict:
    return {"_id": "acl", "type": "acl", "entries": [
        {"name": "-Default-", "type": "default", "level": "no_access", "roles": []},
        {"name": "mia", "type": "person", "level": "manager", "roles": ["[Manager]"]}, *more]}


def test_names_roles_and_partner_databases_carry_the_desk():
    assert DESK.user("alice") == "t1~alice" and DESK.user_id("alice") == "org.couchdb.user:t1~alice"
    assert DESK.roles(["level:editor", "[Sales]"]) == ["t1~level:editor", "t1~[Sales]"]
    assert DESK.local_name("t1~alice") == "alice" and DESK.local_name("t2~alice") is None
    assert DESK.local_roles(["t1~level:reader", "t2~level:manager", "_admin"]) == ["level:reader"]
    assert database_name("acme", DESK) == "t1_partner_acme" and database_name("acme") == "partner_acme"
    # a desk without a name keeps the names as they are (one desk on its server)
    plain = Namespace()
    assert plain.user("alice") == "alice" and plain.roles(["level:editor"]) == ["level:editor"]
    assert plain.local_name("alice") == "alice"
    sec = security_object(load_rules()["acl"], DESK)
    assert "t1~level:depositor" in sec["members"]["roles"] and sec["admins"]["roles"] == ["t1~level:manager", "t1~level:designer"]


def test_a_desk_name_is_checked():
    assert Settings.from_env({"OMS_DESK": "north_1"}).namespace.prefix == "north_1~"
    for bad in ("North", "1north", "no~rth", "a" * 41):
        with pytest.raises(ValueError, match="OMS_DESK"):
            Settings.from_env({"OMS_DESK": bad})


def test_the_desks_manager_may_change_its_acl_and_another_desks_may_not():
    ddoc = central(DESK)
    new = acl_doc({"name": "rita", "type": "person", "level": "editor", "roles": []})
    assert validate(ddoc, new, "t1~mia", ["t1~level:manager", "t1~[Manager]"], acl_doc()) == {"ok": True}
    for name, roles in (("t2~mia", ["t2~level:manager", "t2~[Manager]"]),   # another desk's manager
                        ("mia", ["level:manager", "[Manager]"]),             # a desk without a name's
                        ("t1~mia", ["t2~level:manager"]),                    # her name here, roles elsewhere
                        ("t2~mia", ["t1~level:manager"])):                   # a stranger with our roles' names
        got = validate(ddoc, new, name, roles, acl_doc())
        assert "forbidden" in got, (name, roles, got)


def test_what_a_person_writes_is_signed_with_the_desks_name_for_them():
    ddoc = central(DESK)
    comment = {"_id": "comment:c1", "type": "comment", "parent": ORDER_ID, "text": "hello",
               "at": "2026-11-25T12:00:00Z"}
    sally = ("t1~sally", ["t1~level:author", "t1~[Sales]"])
    assert validate(ddoc, dict(comment, by="sally"), *sally) == {"ok": True}
    assert "posted as yourself (sally)" in validate(ddoc, dict(comment, by="t1~sally"), *sally)["forbidden"]


def test_the_partner_copy_knows_only_the_desks_people():
    ddoc = design.partner_design("acme", DESK)
    comment = {"_id": "comment:c1", "type": "comment", "parent": ORDER_ID, "text": "hello",
               "by": "alice@acme", "at": "2026-11-25T12:00:00Z", "partner": "acme"}
    mine = validate(ddoc, comment, "t1~alice@acme", ["t1~partner:acme", "t1~partner-level:author"])
    assert mine == {"ok": True}, mine
    theirs = validate(ddoc, comment, "t2~alice@acme", ["t2~partner:acme", "t2~partner-level:author"])
    assert "forbidden" in theirs
    assert PartnerPerson.from_roles("t1~alice@acme", ["t1~partner:acme", "t1~partner-level:author"], DESK) == \
        PartnerPerson("alice@acme", "acme", "author")
    assert PartnerPerson.from_roles("t2~alice@acme", ["t2~partner:acme", "t2~partner-level:author"], DESK) is None
    assert PartnerPerson.from_roles("alice@acme", ["partner:acme", "partner-level:author"], OTHER) is None
