"""Notes ACL resolution: person entry beats groups, highest group level wins, roles unite."""
from oms.identity import acl

ENTRIES = [
    {"name": "-Default-", "type": "default", "level": "no_access", "roles": []},
    {"name": "sales", "type": "group", "level": "author", "roles": ["[Sales]"]},
    {"name": "credit", "type": "group", "level": "editor", "roles": ["[Credit]"]},
    {"name": "rita", "type": "person", "level": "reader", "roles": []},
]


def test_highest_group_level_wins_and_roles_are_united():
    a = acl.resolve(ENTRIES, "zoe", ["sales", "credit"])
    assert a.level == "editor"
    assert set(a.roles) == {"[Sales]", "[Credit]"}


def test_an_entry_naming_the_person_beats_their_groups():
    a = acl.resolve(ENTRIES, "rita", ["credit"])
    assert (a.level, a.roles) == ("reader", ())


def test_nobody_else_gets_the_default():
    assert acl.resolve(ENTRIES, "eve", ["visitors"]).level == "no_access"


def test_couch_roles_carry_the_level_and_the_roles():
    a = acl.resolve(ENTRIES, "zoe", ["sales"])
    assert a.couch_roles() == ["level:author", "[Sales]"]


def test_readers_fields_hide_an_order_from_anyone_not_named_even_a_manager():
    order = {"readers": ["[Credit]"], "authors": ["sally"]}
    assert acl.Access("carl", "editor", ("[Credit]",)).may_read(order)
    assert acl.Access("sally", "author", ("[Sales]",)).may_read(order)  # Authors may read too
    assert not acl.Access("mia", "manager", ("[Manager]",)).may_read(order)
    assert acl.Access("mia", "manager", ()).may_read({"readers": []})
    assert not acl.Access("dora", "depositor", ()).may_read({})
