"""Two desks on one CouchDB server (oms/core/namespace.py): the same people's names, the same
partner, each desk's own levels, databases and replications. What one desk's Manager or partner
person holds never opens the other desk, and clearing one desk away leaves the other whole. This
is what lets test runs, or a company's separate desks, share a server."""
from __future__ import annotations

import collections
import secrets

import pytest

from couch_design.deploy import deploy
from oms.identity import people
from oms.identity.acl import Access
from oms.store.couch import Forbidden, NotFound, Unauthorized
from replication import replicator
from replication.partners import Partners, database_name
from tests.conftest import leave_nothing_behind

REFUSED = (Forbidden, Unauthorized, NotFound)
PASSWORDS: dict[str, str] = collections.defaultdict(lambda: secrets.token_urlsafe(12))   # ann's, per desk
PARTNER = "zeta"


@pytest.fixture(scope="module")
def desks(server, settings):
    """(this run's desk on a central database of its own, a second desk), both with partner zeta
    and its person ann@zeta; the second desk is cleared away at the end."""
    mine = settings.with_(db_name=settings.db_name + "_shared")
    other = settings.with_(db_name=settings.db_name + "_otherdesk", desk=settings.desk + "o")
    for s in (mine, other):
        deploy(server.admin(s.db_name), progress=lambda *_: None, namespace=s.namespace)
        partners = Partners(server, s, progress=lambda *_: None)
        partners.add(PARTNER)
        partners.add_person(PARTNER, f"ann@{PARTNER}", PASSWORDS[s.desk], "author")
    yield mine, other
    leave_nothing_behind(server, other)
    for rep_id in Partners(server, mine).replication_ids(PARTNER):
        replicator.remove(server, rep_id)


def as_staff(server, s, name: str, level: str):
    access = Access(name, level, ("[Manager]",) if level == "manager" else ())
    people.mirror(server, s.secret_key, access, namespace=s.namespace)
    return people.open_as(server, s.secret_key, s.db_name, name, s.namespace)


def test_the_same_name_is_two_people_with_their_own_levels(server, desks):
    mine, other = desks
    rita_here = as_staff(server, mine, "rita", "reader")
    rita_there = as_staff(server, other, "rita", "manager")   # a Manager on the other desk
    users = server.admin("_users")
    assert users.get(mine.namespace.user_id("rita"))["roles"] == mine.namespace.roles(["level:reader"])
    assert users.get(other.namespace.user_id("rita"))["roles"] == other.namespace.roles(["level:manager", "[Manager]"])
    assert rita_here.get("acl")["type"] == "acl"                   # reads her own desk
    with pytest.raises(Forbidden):
        rita_here.save(dict(rita_here.get("acl"), entries=[]))     # as its Reader
    acl = rita_there.get("acl")
    # the other desk's Manager neither reads nor writes this desk, nor its counter
    as_stranger = server.as_person(mine.db_name, other.namespace.user("rita"), people.couch_password(other.secret_key, "rita"))
    for attempt in (lambda: as_stranger.get("acl"),
                    lambda: as_stranger.save(dict(acl, _rev=rita_here.get("acl")["_rev"])),
                    lambda: as_stranger.save({"_id": "counter:order", "type": "counter", "value": 10**9})):
        with pytest.raises(REFUSED):
            attempt()


def test_each_desk_has_its_own_partner_database_and_replications(server, desks):
    mine, other = desks
    here, there = database_name(PARTNER, mine.namespace), database_name(PARTNER, other.namespace)
    assert here != there and {here, there} <= set(server.request("GET", "/_all_dbs"))
    rep = server.admin("_replicator")
    for s in desks:
        for rep_id in Partners(server, s).replication_ids(PARTNER):
            assert rep.get_or_none(rep_id) is not None, rep_id
    ann_here = server.as_person(here, mine.namespace.user(f"ann@{PARTNER}"), PASSWORDS[mine.desk])
    assert ann_here.info()["db_name"] == here
    # ann of the other desk: her password, her partner id, her level; never this desk's copy
    ann_there = (other.namespace.user(f"ann@{PARTNER}"), PASSWORDS[other.desk])
    for db in (here, mine.db_name):
        with pytest.raises(REFUSED):
            server.as_person(db, *ann_there).all_docs(limit=1)


def test_clearing_one_desk_away_leaves_the_other_whole(server, settings, desks):
    mine, other = desks
    throwaway = settings.with_(db_name=settings.db_name + "_gone", desk=settings.desk + "g")
    deploy(server.admin(throwaway.db_name), progress=lambda *_: None, namespace=throwaway.namespace)
    as_staff(server, throwaway, "rita", "editor")
    Partners(server, throwaway, progress=lambda *_: None).add(PARTNER)
    as_staff(server, mine, "rita", "reader")       # rita on every desk, whichever test ran first
    as_staff(server, other, "rita", "manager")

    def held(s):
        users = server.admin("_users")
        return (users.get_or_none(s.namespace.user_id("rita")) is not None,
                server.admin("_replicator").get_or_none(Partners(server, s).replication_ids(PARTNER)[0]) is not None,
                database_name(PARTNER, s.namespace) in server.request("GET", "/_all_dbs"))
    assert held(throwaway) == held(mine) == held(other) == (True, True, True)
    leave_nothing_behind(server, throwaway)
    assert held(throwaway) == (False, False, False)
    assert held(mine) == held(other) == (True, True, True)
