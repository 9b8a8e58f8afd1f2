"""User-name validation: the only thing standing between a login form and an LDAP filter."""
import pytest

from oms.identity import directory
from oms.identity.directory import NAME_RULE, AuthError, Directory, InvalidName, check_name, is_valid_name

GOOD = ["sally", "Sally.Sales", "s_s-1", "sally@orderdesk.example", "a", "x" * 64, "0123456789"]
BAD = [
    "", "*", "sally)(uid=*", "*)(|(uid=*", "admin,ou=x", "uid=sally", "a\\b", "a\\2a",
    "sally\x00", "\x00", "(", ")", "sally ", " sally", "sal ly", "sally\n", "sally\r\n",
    "x" * 65, "sälly", "ｓａｌｌｙ", "١٢٣", "sally+cn=x", "#sally", "sally;", "a/b", "<a>",
]


@pytest.mark.parametrize("name", GOOD)
def test_plain_names_are_accepted(name):
    assert is_valid_name(name)
    assert check_name(name) == name


@pytest.mark.parametrize("name", BAD)
def test_names_that_could_mean_something_to_ldap_are_refused(name):
    assert not is_valid_name(name)
    with pytest.raises(InvalidName) as caught:
        check_name(name)
    assert caught.value.code == "invalid_name"
    assert caught.value.reason == NAME_RULE


@pytest.mark.parametrize("name", [None, 42, b"sally", ["sally"]])
def test_a_name_that_is_not_text_is_refused(name):
    assert not is_valid_name(name)


def test_the_rule_is_explained_to_people():
    assert NAME_RULE == "User names are letters, digits and . _ @ - (at most 64)"


def test_error_codes_let_callers_map_each_failure():
    assert {c.code for c in (directory.InvalidName, directory.UnknownUser,
                             directory.WrongPassword, directory.DirectoryUnavailable)} == {
        "invalid_name", "unknown_user", "wrong_password", "unavailable"}
    for cls in (directory.InvalidName, directory.UnknownUser,
                directory.WrongPassword, directory.DirectoryUnavailable):
        assert issubclass(cls, AuthError)


@pytest.fixture
def no_ldap(monkeypatch):
    """A Directory whose every attempt to reach LDAP fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("LDAP was contacted")
    monkeypatch.setattr(directory.ldap, "initialize", refuse)
    return Directory("ldap://127.0.0.1:1/", "dc=orderdesk,dc=example")


@pytest.mark.parametrize("name", BAD)
def test_a_bad_name_is_refused_before_any_ldap_call(no_ldap, name):
    with pytest.raises(InvalidName):
        no_ldap.authenticate(name, "demo")
    with pytest.raises(InvalidName):
        no_ldap.lookup(name)


@pytest.mark.parametrize("password", ["", None])
def test_an_empty_password_is_refused_before_any_ldap_call(no_ldap, password):
    with pytest.raises(AuthError) as caught:
        no_ldap.authenticate("sally", password)
    assert caught.value.code == "wrong_password"


def test_repr_never_shows_the_bind_password():
    d = Directory("ldap://x/", "dc=x", bind_dn="cn=admin,dc=x", bind_password="s3cret-pw")
    assert "s3cret-pw" not in repr(d)


def test_bases_default_under_the_base_dn():
    d = Directory("ldap://x/", "dc=orderdesk,dc=example")
    assert d.people_base == "ou=people,dc=orderdesk,dc=example"
    assert d.groups_base == "ou=groups,dc=orderdesk,dc=example"
