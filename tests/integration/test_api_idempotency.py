"""Safe retries: a create sent twice with the same Idempotency-Key writes once and answers the
first result; with another body it is refused (422); concurrent and crashed attempts heal."""
from __future__ import annotations

import base64
import threading
import uuid

import pytest

from oms.ordering import order_api
from oms.store.idempotency import Idempotency, Outcome, fingerprint, record_id


def basic(name, password="demo"):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


BODY = {"customer": "C0005", "lines": [{"sku": "GIZ-400", "qty": 3, "unit_price": "7.25"}]}


def order_count(admin_db) -> int:
    return len(admin_db.all_docs(start_key="order:", end_key="order:\ufff0")["rows"])


def test_the_same_key_twice_returns_the_first_result_and_writes_nothing_new(app, admin_db):
    c = app.test_client()
    key = str(uuid.uuid4())
    first = c.post("/api/v1/orders", json=BODY, headers={**basic("sally"), "Idempotency-Key": key})
    before = order_count(admin_db)
    again = c.post("/api/v1/orders", json=BODY, headers={**basic("sally"), "Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert order_count(admin_db) == before


def test_the_same_key_with_another_body_is_refused_with_a_reason(app):
    c = app.test_client()
    key = str(uuid.uuid4())
    c.post("/api/v1/orders", json=BODY, headers={**basic("sally"), "Idempotency-Key": key})
    other = dict(BODY, notes="different")
    r = c.post("/api/v1/orders", json=other, headers={**basic("sally"), "Idempotency-Key": key})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "already used for a different request" in r.get_json()["detail"]


def test_keys_belong_to_their_sender(app):
    c = app.test_client()
    key = str(uuid.uuid4())
    a = c.post("/api/v1/orders", json=BODY, headers={**basic("sally"), "Idempotency-Key": key}).get_json()
    b = c.post("/api/v1/orders", json=BODY, headers={**basic("mia"), "Idempotency-Key": key}).get_json()
    assert a["number"] != b["number"] and b["created_by"] == "mia"


def test_bad_input_stores_nothing_so_the_corrected_request_may_use_the_key(app, admin_db):
    c = app.test_client()
    key = str(uuid.uuid4())
    bad = c.post("/api/v1/orders", json={"customer": "C0005", "lines": []}, headers={**basic("sally"), "Idempotency-Key": key})
    assert bad.status_code == 400
    assert admin_db.get_or_none(record_id("person", "sally", key)) is None
    assert c.post("/api/v1/orders", json=BODY, headers={**basic("sally"), "Idempotency-Key": key}).status_code == 201


def test_an_invalid_key_is_a_400(app):
    r = app.test_client().post("/api/v1/orders", json=BODY, headers={**basic("sally"), "Idempotency-Key": "é" * 3})
    assert r.status_code == 400 and "Idempotency-Key must be" in r.get_json()["detail"]


def test_concurrent_retries_with_one_key_create_one_order(app, admin_db):
    key = str(uuid.uuid4())
    results = []

    def send():
        r = app.test_client().post("/api/v1/orders", json=BODY, headers={**basic("sally"), "Idempotency-Key": key})
        results.append((r.status_code, r.get_json()))
    before = order_count(admin_db)
    threads = [threading.Thread(target=send) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert {s for s, _ in results} == {201}, results
    assert len({body["number"] for _, body in results}) == 1
    assert order_count(admin_db) == before + 1


def test_a_retry_after_a_crash_between_the_key_and_the_order_creates_it_with_the_reserved_number(service, admin_db):
    svc = service("sally")
    key, data = str(uuid.uuid4()), dict(BODY, notes="crash")
    fp = fingerprint("POST", "/api/v1/orders", data)

    def crash(_reserved):
        raise ConnectionError("the app died here")
    with pytest.raises(ConnectionError):
        Idempotency(svc.db, "sally").run(key, fp, reserve=lambda: {"number": svc.numbers.next(svc.db)}, perform=crash)
    reserved = admin_db.get(record_id("person", "sally", key))["reserved"]["number"]
    outcome = order_api.create_order(svc, data, key, fp, lambda n: f"/api/v1/orders/{n}")
    assert outcome.body["number"] == reserved and not outcome.replayed
    # and a crash after the order but before the outcome: the retry finds the order, writes nothing
    record = admin_db.get(record_id("person", "sally", key))
    record.pop("response")
    admin_db.save(record)
    again = order_api.create_order(svc, data, key, fp, lambda n: f"/api/v1/orders/{n}")
    assert again.body["_rev"] == outcome.body["_rev"]


def test_comments_are_created_once_per_key(app, admin_db):
    c = app.test_client()
    number = c.post("/api/v1/orders", json=BODY, headers=basic("sally")).get_json()["number"]
    key = str(uuid.uuid4())
    a = c.post(f"/api/v1/orders/{number}/comments", json={"text": "once"}, headers={**basic("sally"), "Idempotency-Key": key})
    b = c.post(f"/api/v1/orders/{number}/comments", json={"text": "once"}, headers={**basic("sally"), "Idempotency-Key": key})
    assert a.get_json()["_id"] == b.get_json()["_id"]
    listed = c.get(f"/api/v1/orders/{number}/comments", headers=basic("sally")).get_json()["comments"]
    assert [x["text"] for x in listed] == ["once"]


def test_an_import_sent_twice_with_a_key_returns_the_first_report(app):
    c = app.test_client()
    key = str(uuid.uuid4())
    data = f"external_ref,customer,sku,qty,unit_price\nIDK-{key[:8]},C0001,WID-100,1,4.50\n"
    headers = {**basic("mia"), "Content-Type": "text/csv", "Idempotency-Key": key}
    first = c.post("/api/v1/imports", data=data, headers=headers).get_json()
    again = c.post("/api/v1/imports", data=data, headers=headers).get_json()
    assert first["counts"]["created"] == 1 and again == first


def test_the_record_is_written_as_the_person_not_the_admin(app, admin_db):
    key = str(uuid.uuid4())
    app.test_client().post("/api/v1/orders", json=BODY, headers={**basic("carl"), "Idempotency-Key": key})
    record = admin_db.get(record_id("person", "carl", key))
    assert record["by"] == "carl" and record["type"] == "idem" and record["response"]["status"] == 201


def test_nobody_else_may_complete_or_rewrite_a_persons_record(person, service):
    svc = service("sally")
    key = str(uuid.uuid4())
    Idempotency(svc.db, "sally").run(key, "fp", reserve=dict, perform=lambda r: Outcome(201, {"x": 1}))
    _, carl_db = person("carl")
    doc = carl_db.get(record_id("person", "sally", key))
    doc["response"] = {"status": 201, "body": {"x": 2}}
    from oms.store.couch import Forbidden
    with pytest.raises(Forbidden, match="written once|Only sally"):
        carl_db.save(doc)
