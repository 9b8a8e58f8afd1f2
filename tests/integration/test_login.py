"""Staff sign in through the real directory (slapd): success and each kind of refusal."""
import pytest


def test_a_demo_person_signs_in_and_lands_on_the_desk(web):
    r = web.login("sally")
    assert r.status_code == 303
    page = web.get("/views/all_orders")
    assert page.status_code == 200
    assert "Sally" in page.get_data(as_text=True)


@pytest.mark.parametrize("name,password,message", [
    ("sally", "wrong", "Wrong user name or password."),
    ("nobody", "demo", "Wrong user name or password."),
    ("sally", "", "Wrong user name or password."),
    ("*)(uid=*", "demo", "User names are letters, digits"),
    ("sally)(|(uid=*", "x", "User names are letters, digits"),
    ("cn=admin,dc=orderdesk", "x", "User names are letters, digits"),
])
def test_a_refused_sign_in_says_why(web, name, password, message):
    r = web.login(name, password)
    assert r.status_code == 401
    assert message in r.get_data(as_text=True)
    assert web.get("/views/all_orders").status_code == 302  # still signed out


def test_sign_in_mirrors_the_person_into_couchdb_with_level_and_roles(web, server, settings):
    web.login("carl")
    user = server.admin("_users").get(settings.namespace.user_id("carl"))
    assert user["roles"] == settings.namespace.roles(["level:editor", "[Credit]"])
    assert "password" not in user  # CouchDB keeps only the derived hash


def test_a_form_without_csrf_token_is_refused(web):
    r = web.c.post("/login", data={"username": "sally", "password": "demo"})
    assert r.status_code == 400
    assert "CSRF" in r.get_data(as_text=True)


def test_sign_out_ends_the_session(web):
    web.login("sally")
    web.post("/logout", {}, csrf_from="/views/all_orders")
    assert web.get("/views/all_orders").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite(web):
    r = web.login("sally")
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
