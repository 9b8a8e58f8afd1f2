"""The database server dies in the middle of work: the app answers 503 with a clear message (no
stack trace), the supervisor brings the server back, and every order the API acknowledged is
there afterwards."""
import base64
import threading
import time

import pytest

from couch_design.deploy import deploy
from oms.devstack.embedded import EmbeddedCouch
from oms.store.couch import CouchServer

AUTH = {"Authorization": "Basic " + base64.b64encode(b"sally:demo").decode()}
ORDER = {"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "1.00"}]}


@pytest.fixture
def own_couch(tmp_path, settings):
    couch = EmbeddedCouch(tmp_path / "couch", "admin", "fault-test-pw").start()
    couch.supervise()
    server = CouchServer(couch.url, "admin", "fault-test-pw")
    db = server.admin(settings.db_name)
    deploy(db, progress=lambda *_: None, namespace=settings.namespace)
    db.save({"_id": "customer:C0001", "type": "customer", "name": "Acme Ltd", "currency": "EUR"})
    yield couch, server, db
    couch.stop()


def wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_killed_server_means_503s_then_recovery_with_nothing_acknowledged_lost(own_couch, settings):
    from webapp import create_app
    couch, server, db = own_couch
    app = create_app({"TESTING": True}, settings=settings.with_(couchdb_url=couch.url, couchdb_user="admin",
                                                                 couchdb_password="fault-test-pw"))
    acknowledged, statuses, stop = [], [], threading.Event()

    def client():
        c = app.test_client()
        while not stop.is_set():
            r = c.post("/api/v1/orders", headers=AUTH, json=ORDER)
            statuses.append(r.status_code)
            if r.status_code == 201:
                acknowledged.append(r.get_json()["_id"])
            else:
                body = r.get_json()
                assert r.status_code == 503, body
                assert "not reachable" in body["detail"] and "Traceback" not in str(body)
                assert r.headers.get("Retry-After")
                time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        assert wait_until(lambda: len(acknowledged) >= 20)
        couch.kill()
        assert wait_until(lambda: 503 in statuses), "no 503 while the server was down"
        before = len(acknowledged)
        assert wait_until(lambda: len(acknowledged) >= before + 20), "the app did not recover by itself"
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert couch.restarts >= 1
    assert set(statuses) <= {201, 503}
    stored = {r["id"] for r in db.all_docs(start_key="order:", end_key="order:\ufff0")["rows"]}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged orders lost"
    assert len(set(acknowledged)) == len(acknowledged)
