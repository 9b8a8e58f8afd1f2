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
