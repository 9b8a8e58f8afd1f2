"""The replication page in a real browser, on a stack with the demo partners (acme, globex): it says
in the desk's words who exchanges orders with the desk, whether they are up to date, when they
last exchanged changes, how many wait and what to do when something went wrong; a restart asks
first. Screenshots go to tests/screenshots/."""
import re
import time

import pytest
from playwright.sync_api import expect

from tests.integration.replication.conftest import (  # noqa: F401  (the replication stack's fixtures)
    central_admin,
    demo_partners,
    rapp,
    rserver,
    rsettings,
    rstack,
)

from .conftest import new_page, serving, shot, sign_in

# What the page must not say: the server's own names for its machinery.
INTERNAL = re.compile(r"_replicator|checkpoint|\bseq\b|triggered|filter|oms-partner|by_partner|http://|[{}]|"
                      r"pouchdb|\bpush\b|\bpull\b|doc id|_id\b", re.I)


@pytest.fixture(scope="module")
def repl_url(rapp):
    yield from serving(rapp)


@pytest.fixture
def mia(browser, repl_url):
    ctx, page = new_page(browser, repl_url, height=900)
    yield sign_in(page, "mia")
    ctx.close()


def test_the_replication_page_speaks_the_desks_language(mia):
    deadline = time.monotonic() + 60
    while True:   # the partners' exchanges start in the background: wait until they are up to date
        mia.goto("/replication/")
        text = mia.locator("main").inner_text()
        if text.count("Up to date") >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    shot(mia, "replication")
    assert not INTERNAL.search(text), INTERNAL.search(text)
    rows = mia.locator("table.replications tbody tr")
    expect(rows).to_have_count(4 + 1)       # acme and globex, each way; "no branches yet"
    for who in ("Acme", "Globex"):
        assert f"Sending our changes to {who}" in text and f"Receiving changes from {who}" in text
    assert text.count("Up to date") >= 4 and "Nothing waiting" in text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", text)   # when each last exchanged changes
    assert "No branch office exchanges orders with this desk yet" in text


def test_a_restart_asks_first_and_a_no_changes_nothing(mia, rserver, rsettings):
    push = rsettings.namespace.scoped("oms-partner-acme-push")
    mia.goto("/replication/")
    before = rserver.admin("_replicator").get(push)["_rev"]
    button = mia.locator("tr", has_text="Sending our changes to Acme").locator("button", has_text="Restart")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()
    mia.once("dialog", lambda d: answer(d, False))
    button.click()
    mia.wait_for_timeout(300)
    assert asked and "cannot be undone" in asked[0] and "Acme" in asked[0]
    assert rserver.admin("_replicator").get(push)["_rev"] == before
    mia.once("dialog", lambda d: answer(d, True))
    button.click()
    expect(mia.locator("main")).to_contain_text("Restarted: Sending our changes to Acme")
    assert rserver.admin("_replicator").get(push)["_rev"] != before
