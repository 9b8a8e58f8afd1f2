"""The catalog's promises: each view reads a design view that exists, sorts only where a sorted
design view backs it, counts through a reduce, and the key order Python merges in is the
server's (checked against PouchDB's own collation code, run under node)."""
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from oms.identity.acl import Access
from tests.designjs import ddoc
from views import catalog
from views.collate import couch_key, sortable

ROOT = Path(__file__).resolve().parents[2]


def test_the_catalog_declares_the_views_people_work_in():
    titles = {v.title for v in catalog.catalog().values()}
    assert {"All orders", "By status", "By customer", "Work queue", "My queue", "Overdue", "Backorders",
            "On credit hold", "By partner"} <= titles


def test_every_view_and_sort_reads_a_deployed_design_view_and_counts_through_a_reduce():
    views = ddoc()["views"]
    for vd in catalog.catalog().values():
        for s in vd.sorts:
            assert s.view in views, (vd.name, s.view)
        assert "reduce" in views[vd.count_view or vd.view], vd.name


def test_a_categorized_view_says_how_many_key_parts_make_its_category():
    for vd in catalog.catalog().values():
        assert 0 <= vd.categories < len(vd.key)
        if vd.categories:
            assert vd.default_sort.categorized and vd.count_view is None


def test_only_columns_backed_by_a_sorted_design_view_can_be_sorted():
    with pytest.raises(ValueError, match="no design view backs"):
        catalog._load("x", {"title": "X", "design": "oms", "view": "orders_by_number", "key": ["number"],
                            "columns": [{"title": "Value", "field": "net_cents", "sort": "value"}]})


def test_my_queue_reads_one_segment_per_role_and_is_hidden_from_people_without_roles():
    vd = catalog.get("my_queue")
    carl = Access("carl", "editor", ("[Credit]",))
    mia = Access("mia", "manager", ("[Sales]", "[Credit]", "[Manager]"))
    assert vd.segments(carl) == (("[Credit]",),)
    assert vd.segments(mia) == (("[Credit]",), ("[Manager]",), ("[Sales]",))
    assert not vd.may_open(Access("rita", "reader", ()))


def test_credit_hold_is_the_credit_hold_stage_of_by_status():
    vd = catalog.get("credit_hold")
    assert vd.view == "orders_by_status"
    assert vd.segments(Access("rita", "reader", ())) == ((catalog.stage_index("credit_hold"),),)


def test_overdue_reads_promised_dates_before_today():
    import datetime as dt
    src = catalog.get("overdue").source(Access("rita", "reader", ()), today=dt.date(2026, 3, 1))
    assert src.upper == ("2026-03-01",)


def test_a_category_narrows_the_ranges_read():
    src = catalog.get("by_status").source(Access("rita", "reader", ()), category=(3,))
    assert src.segments == ((3,),) and src.principals == ("*", "rita")
    mq = catalog.get("my_queue").source(Access("mia", "manager", ("[Credit]", "[Sales]")), category=("[Sales]",))
    assert mq.segments == (("[Sales]",),)


def _pouch_sorted(keys):
    node = shutil.which("node")
    script = ("var c=require('pouchdb-collate');var k=JSON.parse(require('fs').readFileSync(0,'utf8'));"
              "k.sort(c.collate);process.stdout.write(JSON.stringify(k));")
    out = subprocess.run([node, "-e", script], input=json.dumps(keys), capture_output=True, text=True,
                         cwd=ROOT, timeout=30, check=True)
    return json.loads(out.stdout)


def test_python_orders_view_keys_as_pouchdb_does():
    rnd = random.Random(5)
    words = ["acme", "Acme", "acme ltd", "globex", "initech", "", "z", "a1", "a_b", "a-b"]
    keys = []
    for _ in range(300):
        keys.append(rnd.choice([
            ["*", rnd.randint(0, 16), f"SO-{rnd.randint(1, 999999):06d}"],
            ["*", sortable(rnd.choice(words)), f"customer:C{rnd.randint(1, 99):04d}", "SO-000001"],
            ["sally", rnd.randint(1, 5), f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}", "SO-000002"],
            ["*", None], ["*", True], ["*", 1.5], ["*", {}], ["*", ["x"]], ["*"],
        ]))
    assert sorted(keys, key=couch_key) == _pouch_sorted(keys)


def test_sortable_text_is_letters_and_digits_as_the_view_writes_it():
    assert sortable("Société Générale & Co.") == "socitgnraleco"
    assert sortable(None) == "" and sortable("WID-100") == "wid100"
