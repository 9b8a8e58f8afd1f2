"""API tokens: a Manager issues one on the web page (shown once, stored hashed), an integration
calls the API with it as Bearer and acts as its own mirrored identity with the chosen level and
roles (never the admin); revoked or unknown tokens are refused."""
from __future__ import annotations

import hashlib
import re
import uuid

from click.testing import CliRunner

from oms.identity import tokens
from oms.identity.acl import Access


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def issue_on_the_page(web, client, level="author", roles=("[Sales]",)):
    web.login("mia")
    r = web.post("/admin/tokens", {"client": client, "level": level, "roles": list(roles), "note": "test"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    return re.search(r'id="new-token">([^<]+)<', r.get_data(as_text=True)).group(1)


def client_name():
    return "erp" + uuid.uuid4().hex[:6]


def test_a_manager_issues_a_token_shown_once_and_stored_only_as_its_hash(web, admin_db):
    name = client_name()
    token = issue_on_the_page(web, name)
    [doc] = [t for t in tokens.list_tokens(admin_db) if t["client"] == name]
    assert doc["hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(doc) and doc["identity"] == f"api.{name}" and doc["created_by"] == "mia"
    page = web.get("/admin/tokens").get_data(as_text=True)
    assert name in page and token not in page


def test_the_token_acts_as_its_own_identity_with_the_chosen_roles(app, web, admin_db, settings):
    name = client_name()
    token = issue_on_the_page(web, name)
    c = app.test_client()
    r = c.post("/api/v1/orders", json={"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": 1}]},
               headers=bearer(token))
    assert r.status_code == 201, r.get_json()
    order = r.get_json()
    assert order["created_by"] == f"api.{name}" and order["history"][0]["by"] == f"api.{name}"
    # the database checked it as that identity: it may submit (Sales) but not pick (Warehouse)
    ok = c.post(f"/api/v1/orders/{order['number']}/actions", json={"action": "submit"}, headers=bearer(token))
    assert ok.status_code == 200
    if ok.get_json()["status"] == "allocated":  # the credit and warehouse hand-offs followed at once
        no = c.post(f"/api/v1/orders/{order['number']}/actions", json={"action": "pick"}, headers=bearer(token))
        assert no.status_code == 403 and "Only [Warehouse]" in no.get_json()["detail"]
    user = admin_db.server.admin("_users").get(settings.namespace.user_id(f"api.{name}"))
    assert user["roles"] == settings.namespace.roles(["level:author", "[Sales]"]) and user["oms_kind"] == "token"


def test_a_reader_token_may_read_but_not_change_orders(app, web):
    token = issue_on_the_page(web, client_name(), level="reader", roles=())
    c = app.test_client()
    assert c.get("/api/v1/orders?limit=1", headers=bearer(token)).status_code == 200
    number = c.post("/api/v1/orders", json={"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": 1}]},
                    headers={"Authorization": "Basic c2FsbHk6ZGVtbw=="}).get_json()["number"]
    r = c.post(f"/api/v1/orders/{number}/actions", json={"action": "edit", "changes": {"notes": "x"}}, headers=bearer(token))
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert "As Reader you may not change orders" in r.get_json()["detail"]


def test_revoked_and_unknown_tokens_are_refused(app, web, admin_db, settings):
    name = client_name()
    token = issue_on_the_page(web, name)
    c = app.test_client()
    assert c.get("/api/v1/views", headers=bearer(token)).status_code == 200
    [doc] = [t for t in tokens.list_tokens(admin_db) if t["client"] == name]
    r = web.post(f"/admin/tokens/{doc['_id'][9:]}/revoke", {}, csrf_from="/admin/tokens")
    assert r.status_code == 303
    refused = c.get("/api/v1/views", headers=bearer(token))
    assert refused.status_code == 401 and "unknown or revoked" in refused.get_json()["detail"]
    assert "Bearer" in refused.headers["WWW-Authenticate"]
    assert c.get("/api/v1/views", headers=bearer(token[:-2] + "xx")).status_code == 401
    assert c.get("/api/v1/views", headers=bearer("nonsense")).status_code == 401
    # the identity lost its roles in CouchDB too
    user = admin_db.server.admin("_users").get(settings.namespace.user_id(f"api.{name}"))
    assert user["roles"] == settings.namespace.roles(["level:no_access"])


def test_only_a_manager_may_open_the_token_page_or_write_tokens(web, person):
    web.login("carl")
    assert web.get("/admin/tokens").status_code == 403
    _, carl_db = person("carl")
    import pytest

    from oms.store.couch import Forbidden
    with pytest.raises(Forbidden, match="Only Manager"):
        carl_db.save({"_id": "apitoken:forged", "type": "api_token", "client": "x", "identity": "api.x",
                      "level": "manager", "roles": [], "hash": "0" * 64, "created_by": "carl", "created_at": "x"})


def test_the_page_refuses_bad_input_with_the_reason(web):
    web.login("mia")
    r = web.post("/admin/tokens", {"client": "Bad Name!", "level": "author"})
    assert r.status_code == 400 and "client must be a short name" in r.get_data(as_text=True)


def test_a_client_has_one_active_token_at_a_time(person, server, settings):
    access, db = person("mia")
    name = client_name()
    tokens.issue(db, server, settings.secret_key, access, name, "reader", namespace=settings.namespace)
    import pytest

    from oms.core.errors import InvalidInput
    with pytest.raises(InvalidInput, match="already has an active token"):
        tokens.issue(db, server, settings.secret_key, access, name, "reader", namespace=settings.namespace)
    with pytest.raises(InvalidInput, match="above your own level"):
        tokens.issue(db, server, settings.secret_key, Access("carl", "editor", ()), client_name(), "manager",
                     namespace=settings.namespace)


def test_the_command_line_issues_lists_and_revokes_tokens(settings, app):
    from oms.cli.main import main
    runner = CliRunner()
    env = settings.to_env()
    name = client_name()
    issued = runner.invoke(main, ["tokens", "issue", name, "--level", "editor", "--role", "[Billing]"], env=env)
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("odt_")
    assert app.test_client().get("/api/v1/views", headers=bearer(token)).status_code == 200
    listed = runner.invoke(main, ["tokens", "list"], env=env)
    line = next(l for l in listed.output.splitlines() if f"api.{name}" in l)
    revoked = runner.invoke(main, ["tokens", "revoke", line.split()[0]], env=env)
    assert revoked.exit_code == 0 and app.test_client().get("/api/v1/views", headers=bearer(token)).status_code == 401
