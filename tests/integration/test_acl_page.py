"""The ACL is a document only Managers may change, on the ACL page; a change reaches people's
CouchDB roles without a new sign-in."""
import re

import pytest

from oms.store.couch import Forbidden


def acl_form(web):
    html = web.get("/admin/acl").get_data(as_text=True)
    data = dict(re.findall(r'name="((?:name|roles)-\d+|rev|csrf_token)" value="([^"]*)"', html))
    for name, value in re.findall(r'<select name="((?:type|level)-\d+)"[^>]*>.*?<option(?: value="([^"]+)")? selected', html, re.S):
        data[name] = value
    for m in re.finditer(r'<select name="(type-\d+)"[^>]*>(.*?)</select>', html, re.S):
        data[m.group(1)] = re.search(r"<option selected>(\w+)</option>", m.group(2)).group(1)
    return {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in data.items()}


def test_only_a_manager_opens_the_acl_page(web):
    web.login("carl")
    assert web.get("/admin/acl").status_code == 403
    web.login("mia")
    assert web.get("/admin/acl").status_code == 200


def test_a_non_manager_writing_the_acl_directly_is_refused(person):
    _, db = person("carl")
    doc = db.get("acl")
    doc["entries"].append({"name": "carl", "type": "person", "level": "manager", "roles": []})
    with pytest.raises(Forbidden, match="Only a Manager may change the ACL"):
        db.save(doc)


def test_a_manager_raises_rita_and_her_next_request_carries_the_new_level(app, web, server, admin_db, settings):
    from webapp import services
    rita = app.test_client()
    from tests.conftest import WebClient
    rita = WebClient(app)
    rita.login("rita")
    assert server.admin("_users").get(settings.namespace.user_id("rita"))["roles"] == settings.namespace.roles(["level:reader"])
    web.login("mia")
    form = acl_form(web)
    i = max(int(k.split("-")[1]) for k in form if k.startswith("name-"))  # the last (empty) row
    form.update({f"name-{i}": "rita", f"type-{i}": "person", f"level-{i}": "editor", f"roles-{i}": "[Billing]"})
    r = web.c.post("/admin/acl", data=form)
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    with app.app_context():
        services.forget_acl()
    try:
        page = rita.get("/views/all_orders").get_data(as_text=True)
        assert "Editor" in page and "[Billing]" in page
        assert server.admin("_users").get(settings.namespace.user_id("rita"))["roles"] == settings.namespace.roles(["level:editor", "[Billing]"])
    finally:
        doc = admin_db.get("acl")
        doc["entries"] = [e for e in doc["entries"] if e["name"] != "rita"]
        admin_db.save(doc)


def test_two_apps_on_two_databases_each_read_their_own_acl(app, server, settings):
    # The ACL is kept per database: an app on another database in the same process (the API
    # fuzz's) must never be handed this database's ACL, nor this one the other's.
    from couch_design.deploy import deploy
    from webapp import create_app, services
    other = settings.with_(db_name=settings.db_name + "_acl2")
    deploy(server.admin(other.db_name), progress=lambda *_: None)
    try:
        doc = server.admin(other.db_name).get("acl")
        doc["entries"].append({"name": "acl2-only", "type": "person", "level": "editor", "roles": []})
        server.admin(other.db_name).save(doc)
        other_app = create_app({"TESTING": True}, settings=other)
        with app.app_context():
            mine = services.acl_doc()
        with other_app.app_context():
            theirs = services.acl_doc()
        with app.app_context():
            assert services.acl_doc() is mine
        assert "acl2-only" in [e["name"] for e in theirs["entries"]]
        assert "acl2-only" not in [e["name"] for e in mine["entries"]]
    finally:
        server.request("DELETE", f"/{other.db_name}")


def test_bad_acl_input_is_refused_with_a_reason(web):
    web.login("mia")
    form = acl_form(web)
    form["level-0"] = "overlord"
    r = web.c.post("/admin/acl", data=form)
    assert r.status_code == 400 and "level must be one of" in r.get_data(as_text=True)


def test_a_manager_cannot_lock_every_manager_out(web, admin_db, person):
    # The managers group lowered to Reader on the page: no Manager would be left to undo it.
    before = admin_db.get("acl")
    web.login("mia")
    form = acl_form(web)
    i = next(k.split("-")[1] for k, v in form.items() if k.startswith("name-") and v == "managers")
    form[f"level-{i}"] = "reader"
    r = web.c.post("/admin/acl", data=form)
    assert r.status_code == 400
    assert "must keep at least one Manager" in r.get_data(as_text=True)
    assert admin_db.get("acl")["_rev"] == before["_rev"]
    # the same ACL written straight to the database as the Manager is refused by the server
    _, db = person("mia")
    doc = db.get("acl")
    doc["entries"] = [dict(e, level="reader") if e["level"] == "manager" else e for e in doc["entries"]]
    with pytest.raises(Forbidden, match="must keep at least one Manager"):
        db.save(doc)
    assert admin_db.get("acl")["_rev"] == before["_rev"]


def test_a_change_to_ones_own_access_is_asked_first_and_saved_only_when_confirmed(web, admin_db):
    before = admin_db.get("acl")
    web.login("mia")
    form = acl_form(web)
    i = max(int(k.split("-")[1]) for k in form if k.startswith("name-"))  # the last (empty) row
    form.update({f"name-{i}": "mia", f"type-{i}": "person", f"level-{i}": "editor", f"roles-{i}": ""})
    try:
        asked = web.c.post("/admin/acl", data=form)
        page = asked.get_data(as_text=True)
        assert asked.status_code == 200
        assert "This changes your own access from Manager with [Manager]" in page and "to Editor with no roles." in page
        assert "no longer be able to open this page" in page and "Yes, change my own access" in page
        assert admin_db.get("acl")["_rev"] == before["_rev"]            # nothing written yet
        # a confirmation of another change (the form edited again) is asked anew
        stale = web.c.post("/admin/acl", data={**form, f"level-{i}": "author", "confirm_own": "editor|"})
        assert "to Author with no roles" in stale.get_data(as_text=True)
        assert admin_db.get("acl")["_rev"] == before["_rev"]
        done = web.c.post("/admin/acl", data={**form, "confirm_own": "editor|"})
        assert done.status_code == 303 and done.headers["Location"].endswith("/")
        assert any(e["name"] == "mia" and e["level"] == "editor" for e in admin_db.get("acl")["entries"])
    finally:
        restore(admin_db, before)


def test_a_change_that_leaves_ones_own_access_alone_is_saved_at_once(web, admin_db):
    before = admin_db.get("acl")
    web.login("mia")
    form = acl_form(web)
    i = max(int(k.split("-")[1]) for k in form if k.startswith("name-"))
    form.update({f"name-{i}": "someone-new", f"type-{i}": "person", f"level-{i}": "reader", f"roles-{i}": ""})
    try:
        assert web.c.post("/admin/acl", data=form).status_code == 303
        assert any(e["name"] == "someone-new" for e in admin_db.get("acl")["entries"])
    finally:
        restore(admin_db, before)


def restore(admin_db, before: dict) -> None:
    """The ACL as it was, and no memory of the changed one in this process's apps."""
    from oms.core import memories
    admin_db.save(dict(admin_db.get("acl"), entries=before["entries"]))
    memories.forget_acl_documents()
