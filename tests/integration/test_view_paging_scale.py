"""Paging by key stays flat: with many orders (5,000 by default, 100,000 with OMS_BIG=1, which
makes PouchDB Server build the index for about a minute), page 1 and a page near the end return
the same number of rows, through the reader and through the web page. How long each takes is
measured by bench/bench_views.py, not asserted here (timings on a shared box are noise)."""
import os

import pytest

from couch_design.deploy import deploy
from oms.identity import people
from oms.store.couch import CouchServer
from tests.conftest import WebClient
from tests.viewdata import order_doc
from views import catalog
from views.reader import read

BIG = os.environ.get("OMS_BIG") == "1"
N = 100_000 if BIG else 5_000
PAGE = 50
FAR = N // PAGE if BIG else N // PAGE - 1     # page 2,000 of 2,000, or page 99 of 100


def seed_numbered(db, n: int, batch: int = 5000) -> None:
    """SO-000001 .. SO-<n> through _bulk_docs as admin (each still passes validate_doc_update)."""
    for start in range(1, n + 1, batch):
        docs = [order_doc(f"SO-{i:06d}", status="submitted", at="2026-11-01T08:00:00Z")
                for i in range(start, min(n, start + batch - 1) + 1)]
        res = db.bulk(docs)
        assert not [r for r in res if r.get("error")], res[:3]


@pytest.fixture(scope="module")
def big_db(stack, settings):
    name = f"{settings.db_name}_paging"
    s = settings
    # Building a 100,000-row index on PouchDB Server takes longer than a page request may wait.
    slow = CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password, timeout=900)
    db = slow.admin(name)
    deploy(db, progress=lambda *_: None, namespace=s.namespace)
    seed_numbered(db, N)
    db.view("oms", "orders_by_number", limit=1)  # build the index before anything is measured
    yield name, db
    slow.request("DELETE", f"/{name}")


def test_page_one_and_a_page_near_the_end_return_the_same_number_of_rows(big_db, person, server, settings):
    name, _ = big_db
    access, _ = person("rita")  # mirrored into _users; reads the paging database as herself
    db = people.open_as(server, settings.secret_key, name, access.name, settings.namespace)
    src = catalog.get("all_orders").source(access)
    first = read(db, src, limit=PAGE)
    far = read(db, src, after=[f"SO-{(FAR - 1) * PAGE:06d}"], limit=PAGE)
    assert len(first.rows) == len(far.rows) == PAGE
    assert first.rows[0]["value"]["number"] == "SO-000001"
    assert far.rows[0]["value"]["number"] == f"SO-{(FAR - 1) * PAGE + 1:06d}"
    assert (far.next_after is None) == (FAR * PAGE == N)


def test_the_web_page_far_into_the_view_is_a_full_page(big_db, settings):
    from webapp import create_app
    name, _ = big_db
    app = create_app({"TESTING": True, "OMS_VIEW_TOTALS": False}, settings=settings.with_(db_name=name))
    web = WebClient(app)
    web.login("rita")
    hx = {"HX-Request": "true"}
    page1 = web.get("/views/all_orders", headers=hx).get_data(as_text=True)
    far = web.get("/views/all_orders", query_string={"after": f'["SO-{(FAR - 1) * PAGE:06d}"]'},
                  headers=hx).get_data(as_text=True)
    assert page1.count('class="doc-link"') == far.count('class="doc-link"') == PAGE
    assert f"SO-{FAR * PAGE:06d}" in far and 'rel="prev"' in far
