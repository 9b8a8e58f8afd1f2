"""The ACL page in a real browser: a Manager who lowers the managers group, the only Manager
entry, is told beside the form why it was refused, keeps what was typed, and the ACL is unchanged."""
import re

from playwright.sync_api import expect

from .conftest import shot


def test_a_manager_is_stopped_from_leaving_the_acl_without_a_manager(page, login, admin_db):
    before = admin_db.get("acl")["_rev"]
    login("mia")
    page.goto("/admin/acl")
    row = page.locator("input[name^='name-'][value='managers']")
    index = row.get_attribute("name").split("-")[1]
    page.select_option(f"select[name='level-{index}']", "reader")
    page.click("button:has-text('Save ACL')")
    expect(page.locator("p.error[role=alert]")).to_contain_text("must keep at least one Manager")
    expect(page.locator(f"select[name='level-{index}']")).to_have_value("reader")   # what was typed is kept
    shot(page, "acl-last-manager-refused")
    assert admin_db.get("acl")["_rev"] == before
    page.goto("/admin/acl")
    expect(page.locator(f"select[name='level-{index}']")).to_have_value("manager")
    expect(page).to_have_url(re.compile(r"/admin/acl$"))


def test_a_manager_is_asked_before_changing_her_own_access(page, login, admin_db):
    from oms.core import memories
    before = admin_db.get("acl")
    login("mia")
    page.goto("/admin/acl")
    index = page.locator("input[name^='name-'][value='']").first.get_attribute("name").split("-")[1]
    page.fill(f"input[name='name-{index}']", "mia")
    page.select_option(f"select[name='type-{index}']", "person")
    page.select_option(f"select[name='level-{index}']", "editor")
    try:
        page.click("button:has-text('Save ACL')")
        ask = page.locator("[role=alertdialog]")
        expect(ask).to_contain_text("This changes your own access from Manager with [Manager]")
        expect(ask).to_contain_text("to Editor with no roles")
        expect(ask).to_contain_text("no longer be able to open this page")
        shot(page, "acl-own-access-asked")
        assert admin_db.get("acl")["_rev"] == before["_rev"]
        page.click("text=No, keep the ACL as it was")
        expect(page.locator(f"input[name='name-{index}']")).to_have_value("")
        assert admin_db.get("acl")["_rev"] == before["_rev"]
        page.fill(f"input[name='name-{index}']", "mia")
        page.select_option(f"select[name='type-{index}']", "person")
        page.select_option(f"select[name='level-{index}']", "editor")
        page.click("button:has-text('Save ACL')")
        page.click("button:has-text('Yes, change my own access')")
        expect(page.locator("body")).to_contain_text("Your own access changed")
        assert any(e["name"] == "mia" and e["level"] == "editor" for e in admin_db.get("acl")["entries"])
    finally:
        admin_db.save(dict(admin_db.get("acl"), entries=before["entries"]))
        memories.forget_acl_documents()
