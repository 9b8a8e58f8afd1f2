"""The LDAP directory client against a real slapd (oms.devstack.ldap_demo.DemoSlapd)."""
import base64
import hashlib
import os
import socket
import stat

import pytest

from oms.devstack.ldap_demo import SLAPD

if not os.access(SLAPD, os.X_OK):
    pytest.skip(f"{SLAPD} is not installed (apt-get install slapd ldap-utils)",
                allow_module_level=True)

import ldap  # noqa: E402

from oms.devstack.ldap_demo import DEMO_PASSWORD, DEMO_PEOPLE, DemoSlapd, ssha  # noqa: E402
from oms.identity import directory  # noqa: E402
from oms.identity.directory import AuthError, Directory, Person  # noqa: E402

BAD_NAMES = ["*", "sally)(uid=*", "*)(|(uid=*", "admin,ou=x", "a\\b", "", "sally\x00", "sally\n"]


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    with DemoSlapd(tmp_path_factory.mktemp("slapd")) as server:
        yield server


@pytest.fixture(scope="module")
def open_slapd(tmp_path_factory):
    """A directory that lets anyone search, as some company directories do."""
    with DemoSlapd(tmp_path_factory.mktemp("slapd-open"), anonymous_search=True) as server:
        yield server


def as_service(server, **kw) -> Directory:
    return Directory(server.url, server.base_dn, bind_dn=server.bind_dn, bind_password=server.bind_password, **kw)


@pytest.fixture(scope="module", params=["anonymous", "service account"])
def staff(request, slapd, open_slapd):
    """The directory as the app sees it, with an anonymous search (of a directory that allows
    one) or an authenticated one."""
    if request.param == "anonymous":
        return Directory(open_slapd.url, open_slapd.base_dn)
    return Directory(slapd.url, slapd.base_dn, bind_dn=slapd.bind_dn,
                     bind_password=slapd.bind_password,
                     people_base=slapd.people_base, groups_base=slapd.groups_base)


def code_of(call, *args):
    with pytest.raises(AuthError) as caught:
        call(*args)
    assert caught.value.reason  # always something to show the person
    return caught.value.code


@pytest.mark.parametrize("who", DEMO_PEOPLE, ids=[p["uid"] for p in DEMO_PEOPLE])
def test_every_demo_person_signs_in_with_the_demo_password_and_gets_their_groups(staff, slapd, who):
    person = staff.authenticate(who["uid"], DEMO_PASSWORD)
    assert person == Person(name=who["uid"], display_name=who["cn"], email=who["mail"],
                            dn=f"uid={who['uid']},{slapd.people_base}",
                            groups=tuple(sorted(who["groups"])))


def test_the_demo_people_cover_every_role_group(staff):
    groups = {g for p in DEMO_PEOPLE for g in staff.authenticate(p["uid"], DEMO_PASSWORD).groups}
    assert groups == {"sales", "credit", "warehouse", "shipping", "billing", "managers", "readers"}


def test_a_name_in_other_case_signs_in_under_the_directory_spelling(staff):
    assert staff.authenticate("SALLY", DEMO_PASSWORD).name == "sally"


def test_a_wrong_password_is_refused(staff):
    assert code_of(staff.authenticate, "sally", "not-demo") == "wrong_password"
    assert code_of(staff.authenticate, "sally", "DEMO") == "wrong_password"


def test_the_admin_password_does_not_open_a_persons_account(staff, slapd):
    assert code_of(staff.authenticate, "sally", slapd.bind_password) == "wrong_password"


def test_an_unknown_user_is_refused(staff):
    assert code_of(staff.authenticate, "nobody", DEMO_PASSWORD) == "unknown_user"


@pytest.mark.parametrize("password", ["", None])
def test_an_empty_password_is_refused(staff, password):
    # OpenLDAP 2.5 refuses a DN with no password by itself, but other servers
    # (and "allow bind_anon_cred") take it as an anonymous bind that succeeds.
    assert code_of(staff.authenticate, "sally", password) == "wrong_password"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_with_filter_or_dn_syntax_are_refused_without_touching_ldap(staff, monkeypatch, name):
    def refuse(*args, **kwargs):
        raise AssertionError("LDAP was contacted")
    monkeypatch.setattr(directory.ldap, "initialize", refuse)
    assert code_of(staff.authenticate, name, DEMO_PASSWORD) == "invalid_name"
    assert code_of(staff.lookup, name) == "invalid_name"


def test_lookup_finds_a_person_and_their_groups_without_a_password(staff):
    mia = staff.lookup("mia")
    assert (mia.name, mia.display_name, mia.groups) == ("mia", "Mia Manager", ("managers",))
    assert staff.lookup("nobody") is None


def test_passwords_are_stored_hashed_and_nobody_but_the_admin_can_read_them(slapd):
    def passwords(conn):
        found = conn.search_s(slapd.people_base, ldap.SCOPE_ONELEVEL, "(uid=*)", ["userPassword"])
        return [v for _, attrs in found for v in attrs.get("userPassword", [])]

    conn = ldap.initialize(slapd.url)
    conn.simple_bind_s(f"uid=carl,{slapd.people_base}", DEMO_PASSWORD)   # a person may look people up
    assert len(conn.search_s(slapd.people_base, ldap.SCOPE_ONELEVEL, "(uid=*)")) == len(DEMO_PEOPLE)
    assert passwords(conn) == []
    conn.unbind_s()

    admin = ldap.initialize(slapd.url)
    admin.simple_bind_s(slapd.bind_dn, slapd.bind_password)
    stored = passwords(admin)
    admin.unbind_s()
    assert len(stored) == len(DEMO_PEOPLE)
    assert all(v.startswith(b"{SSHA}") and DEMO_PASSWORD.encode() not in v for v in stored)


def test_ssha_hashes_are_salted_and_verifiable():
    a, b = ssha("demo"), ssha("demo")
    assert a != b
    raw = base64.b64decode(a[len("{SSHA}"):])
    digest, salt = raw[:20], raw[20:]
    assert hashlib.sha1(b"demo" + salt).digest() == digest


def test_a_stopped_directory_is_reported_unavailable(tmp_path):
    server = DemoSlapd(tmp_path).start()
    staff = as_service(server, timeout=2)
    assert staff.authenticate("rita", DEMO_PASSWORD).name == "rita"
    server.stop()
    assert code_of(staff.authenticate, "rita", DEMO_PASSWORD) == "unavailable"
    assert code_of(staff.lookup, "rita") == "unavailable"


def test_a_directory_that_never_answers_times_out_as_unavailable():
    # A listening socket nobody reads: the TCP connect succeeds, the bind hangs.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        staff = Directory(f"ldap://127.0.0.1:{port}/", "dc=orderdesk,dc=example", timeout=1)
        with pytest.raises(directory.DirectoryUnavailable) as caught:
            staff.authenticate("sally", DEMO_PASSWORD)
    assert caught.value.reason == "The staff directory is not reachable; try again shortly"


def test_a_restart_keeps_the_data_and_the_admin_password(tmp_path):
    with DemoSlapd(tmp_path) as first:
        password = first.bind_password
        admin = ldap.initialize(first.url)
        admin.simple_bind_s(first.bind_dn, password)
        # A change made after the first load must survive: no reload on restart.
        admin.modify_s(f"uid=sally,{first.people_base}",
                       [(ldap.MOD_REPLACE, "mail", [b"sally@moved.example"])])
        admin.unbind_s()
    assert stat.S_IMODE((tmp_path / "rootpw").stat().st_mode) == 0o600
    assert password not in (tmp_path / "slapd.conf").read_text()

    with DemoSlapd(tmp_path) as second:  # must not fail on the existing entries
        assert second.bind_password == password
        staff = Directory(second.url, second.base_dn, bind_dn=second.bind_dn,
                          bind_password=second.bind_password)
        assert staff.authenticate("sally", DEMO_PASSWORD).email == "sally@moved.example"
        assert staff.authenticate("carl", DEMO_PASSWORD).groups == ("credit",)


def test_a_port_in_use_fails_to_start_with_slapds_own_words(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DemoSlapd(tmp_path, port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="Address already in use"):
            server.start()
    assert not server.running


def test_a_forked_child_exiting_does_not_stop_the_parents_slapd(tmp_path):
    # Pre-forking servers (gunicorn) run atexit handlers in their workers too.
    with DemoSlapd(tmp_path) as server:
        pid = os.fork()
        if pid == 0:
            server.stop()
            os._exit(0)
        os.waitpid(pid, 0)
        assert server.running
        assert as_service(server).lookup("sam").groups == ("shipping",)


def test_the_demo_directory_tells_an_anonymous_search_nothing(slapd):
    conn = ldap.initialize(slapd.url)
    with pytest.raises(ldap.NO_SUCH_OBJECT):     # not even that there are people
        conn.search_s(slapd.people_base, ldap.SCOPE_ONELEVEL, "(uid=*)", ["uid", "cn"])
    assert code_of(Directory(slapd.url, slapd.base_dn).lookup, "sally") == "unavailable"   # the app needs its account
    assert as_service(slapd).lookup("sally").name == "sally"
