"""Partner people in the web app and the API: they sign in with their CouchDB account, see only
their own orders (never another partner's, never the staff pages or the central database),
place orders, comment, accept shipments, and see the changes the centre refused."""
import re

import pytest

from .conftest import eventually


def partner_login(web, name, password="demo"):
    return web.post("/partner/login", {"username": name, "password": password}, csrf_from="/partner/login")


@pytest.fixture(scope="module")
def globex_order(partner_service, central_admin):
    doc = partner_service("gus@globex").place(
        {"customer": "GLOBEX-01", "lines": [{"sku": "GIZ-400", "qty": 3, "unit_price": "7.25"}]})
    eventually(lambda: central_admin.get_or_none(doc["_id"]), what="globex's order reaches the centre")
    return doc


def test_a_partner_signs_in_and_sees_only_their_own_orders(rweb, globex_order, partner_service):
    resp = partner_login(rweb, "alice@acme")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/partner/")
    page = rweb.get("/partner/").get_data(as_text=True)
    mine = [r["value"]["number"] for r in partner_service("alice@acme").orders()[0]]
    assert mine and all(n in page for n in mine)
    assert "SO-GLOBEX-" not in page and globex_order["number"] not in page
    assert rweb.get(f"/partner/orders/{globex_order['number']}").status_code == 404


def test_a_partner_never_reaches_the_staff_pages_or_the_staff_sign_in(rweb, globex_order):
    partner_login(rweb, "alice@acme")
    for path in ("/views/all_orders", f"/orders/{globex_order['number']}", "/replication/"):
        resp = rweb.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    staff = rweb.post("/login", {"username": "alice@acme", "password": "demo"}, csrf_from="/login")
    assert staff.status_code == 401


def test_a_wrong_password_or_a_staff_account_is_refused_at_the_partner_sign_in(rweb, staff):
    staff("sally")  # sally is mirrored into _users, but she is staff, not a partner
    for name, pw in (("alice@acme", "nope"), ("sally", "demo"), ("nobody@acme", "demo")):
        resp = partner_login(rweb, name, pw)
        assert resp.status_code == 401 and "Wrong user name or password." in resp.get_data(as_text=True)


def test_the_partner_api_shows_only_the_partners_own_orders(rapp, globex_order, partner_service):
    client = rapp.test_client()
    alice = ("alice@acme", "demo")
    listing = client.get("/api/v1/partner/orders", auth=alice)
    assert listing.status_code == 200
    numbers = [o["number"] for o in listing.get_json()["orders"]]
    assert numbers and all(n.startswith("SO-ACME-") or n.startswith("SO-0") for n in numbers)
    assert globex_order["number"] not in numbers
    assert client.get(f"/api/v1/partner/orders/{globex_order['number']}", auth=alice).status_code == 404
    assert client.get(f"/api/v1/partner/orders/{numbers[0]}", auth=alice).get_json()["partner"] == "acme"
    # The staff API does not know partner accounts at all.
    assert client.get(f"/api/v1/orders/{numbers[0]}", auth=alice).status_code == 401
    assert client.get("/api/v1/partner/orders", auth=("alice@acme", "wrong")).status_code == 401


def test_a_partner_places_an_order_through_the_api(rapp, central_admin):
    resp = rapp.test_client().post("/api/v1/partner/orders", auth=("alice@acme", "demo"), json={
        "customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "4.50"}]})
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert doc["number"].startswith("SO-ACME-") and doc["status"] == "submitted"
    eventually(lambda: central_admin.get_or_none(doc["_id"]), what="the order reaches the centre")
    bad = rapp.test_client().post("/api/v1/partner/orders", auth=("alice@acme", "demo"), json={
        "customer": "GLOBEX-01", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "4.50"}]})
    assert bad.status_code == 400 and "choose one of your customers" in bad.get_json()["detail"]


def test_a_partner_retrying_a_create_with_its_idempotency_key_places_the_order_once(rapp):
    # The key's record is written into the partner's copy, whose rules must accept it (else a 403).
    import uuid
    client, key = rapp.test_client(), str(uuid.uuid4())
    body = {"customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 2, "unit_price": "4.50"}]}
    first = client.post("/api/v1/partner/orders", auth=("alice@acme", "demo"), json=body, headers={"Idempotency-Key": key})
    again = client.post("/api/v1/partner/orders", auth=("alice@acme", "demo"), json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201, first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json()["number"] == first.get_json()["number"]
    other = client.post("/api/v1/partner/orders", auth=("alice@acme", "demo"), json={**body, "notes": "x"},
                        headers={"Idempotency-Key": key})
    assert other.status_code == 422


def test_a_partner_places_an_order_comments_and_changes_it_on_the_web(rweb, central_admin):
    partner_login(rweb, "alice@acme")
    resp = rweb.post("/partner/orders/new", {"customer": "customer:ACME-01", "promised_date": "2026-12-18",
                                             "line-0-sku": "GAD-310", "line-0-qty": "2", "line-0-unit_price": "39.90"},
                     csrf_from="/partner/orders/new")
    assert resp.status_code == 303, resp.get_data(as_text=True)
    number = re.search(r"/partner/orders/(SO-ACME-\d+)", resp.headers["Location"]).group(1)
    page = rweb.get(f"/partner/orders/{number}").get_data(as_text=True)
    assert "79.80" in page and "Submitted" in page
    rev = re.search(r'name="rev" value="([^"]+)"', page).group(1)
    assert rweb.post(f"/partner/orders/{number}/edit", {"notes": "gate 4", "promised_date": "2026-12-19", "rev": rev},
                     csrf_from=f"/partner/orders/{number}").status_code == 303
    assert rweb.post(f"/partner/orders/{number}/comments", {"text": "Thanks!"},
                     csrf_from=f"/partner/orders/{number}").status_code == 303
    page = rweb.get(f"/partner/orders/{number}").get_data(as_text=True)
    assert "gate 4" in page and "Thanks!" in page
    central = eventually(lambda: (d := central_admin.get(f"order:{number}")).get("notes") == "gate 4" and d,
                         what="the change reaches the centre")
    assert central["promised_date"] == "2026-12-19" and central["updated_by"] == "alice@acme"


def test_a_partner_accepts_a_shipment_and_the_receipt_reaches_the_centre(rweb, central_admin, partner_service):
    alice = partner_service("alice@acme")
    order = alice.place({"customer": "ACME-01", "lines": [{"sku": "SPR-010", "qty": 9, "unit_price": "0.80"}]})
    eventually(lambda: central_admin.get_or_none(order["_id"]), what="the order reaches the centre")
    # The centre ships (a shipment written here as the warehouse system would, with the
    # order's partner copied so the push sends it to the partner).
    shipment = {"_id": "shipment:t1" + order["number"][-6:], "type": "shipment", "order": order["number"],
                "partner": "acme", "lines": [{"line": 1, "sku": "SPR-010", "qty": 9}], "warehouse": "MAIN",
                "carrier": "DHL", "tracking": "JD0001", "shipped_at": "2026-11-25T14:00:00Z", "shipped_by": "sam"}
    central_admin.save(shipment)
    eventually(lambda: alice.db.get_or_none(shipment["_id"]), what="the shipment reaches the partner")
    partner_login(rweb, "alice@acme")
    page = rweb.get(f"/partner/orders/{order['number']}").get_data(as_text=True)
    assert "JD0001" in page and ">Accept<" in page
    resp = rweb.post(f"/partner/orders/{order['number']}/shipments/{shipment['_id'][9:]}/accept", {"note": "all fine"},
                     csrf_from=f"/partner/orders/{order['number']}")
    assert resp.status_code == 303
    assert "accepted" in rweb.get(f"/partner/orders/{order['number']}").get_data(as_text=True)
    receipt = eventually(lambda: central_admin.get_or_none("receipt:" + shipment["_id"][9:]), what="the receipt arrives")
    assert receipt["by"] == "alice@acme" and receipt["note"] == "all fine"
    again = rweb.post(f"/partner/orders/{order['number']}/shipments/{shipment['_id'][9:]}/accept", {},
                      csrf_from=f"/partner/orders/{order['number']}")
    assert again.status_code == 409


def test_a_refused_change_is_shown_to_the_partner(rweb, central_admin, partner_service, agent):
    alice = partner_service("alice@acme")
    order = alice.place({"customer": "ACME-01", "lines": [{"sku": "WID-200", "qty": 4, "unit_price": "12.00"}]})
    eventually(lambda: central_admin.get_or_none(order["_id"]), what="the order reaches the centre")
    mine = alice.db.get(order["_id"])
    mine.update(priority=1, updated_by="alice@acme")  # a partner may not set the priority
    mine["history"].append({"at": "2026-11-25T12:00:00Z", "by": "alice@acme", "action": "edit",
                            "from": "submitted", "to": "submitted", "changes": ["priority"]})
    alice.db.save(mine)
    eventually(lambda: agent.run_once()["rejections"] or alice.rejections(), what="the refusal is recorded")
    partner_login(rweb, "alice@acme")
    home = rweb.get("/partner/").get_data(as_text=True)
    assert "Changes we could not accept" in home and "may not change priority" in home
    page = rweb.get(f"/partner/orders/{order['number']}").get_data(as_text=True)
    assert "we could not accept a change by alice@acme" in page
    # (the centre placed the order meanwhile: its priority is the centre's, never the partner's 1)
    assert eventually(lambda: alice.order(order["number"])["priority"] == central_admin.get(order["_id"])["priority"] != 1,
                      what="the copy is set back")


def test_partner_requests_leave_no_cookie_in_the_shared_http_session(rweb, rapp):
    partner_login(rweb, "alice@acme")
    rweb.get("/partner/")
    assert len(rapp.extensions["couch"].session.cookies) == 0


@pytest.fixture
def throttled_app(rstack, demo_partners):
    from webapp import create_app
    return create_app({"TESTING": True, "OMS_THROTTLE": {"max_failures": 3}}, settings=rstack.settings)


def test_partner_sign_in_is_throttled_as_staff_sign_in_is(throttled_app):
    from tests.conftest import WebClient
    stranger, alice = WebClient(throttled_app), WebClient(throttled_app)
    stranger.c.environ_base["REMOTE_ADDR"] = "10.0.0.66"
    alice.c.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    for _ in range(3):
        assert partner_login(stranger, "alice@acme", "guess").status_code == 401
    refused = partner_login(stranger, "alice@acme")     # the right password, from the guesser's address
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert partner_login(alice, "alice@acme").status_code == 303   # alice, from her own desk
    # More wrong guesses than CouchDB 3 takes before it locks a name out of an address (5): every
    # partner signs in through the app's address, so they must never reach the server.
    for i in range(6):
        guesser = WebClient(throttled_app)
        guesser.c.environ_base["REMOTE_ADDR"] = f"10.0.1.{i}"
        assert partner_login(guesser, "alice@acme", "guess").status_code == 401
    assert partner_login(WebClient(throttled_app), "alice@acme").status_code == 303


def test_the_partner_api_basic_auth_is_throttled_too(throttled_app):
    import base64

    def get(address, password):
        auth = {"Authorization": "Basic " + base64.b64encode(f"gus@globex:{password}".encode()).decode()}
        return throttled_app.test_client().get("/api/v1/partner/orders", headers=auth,
                                               environ_base={"REMOTE_ADDR": address})
    for _ in range(3):
        assert get("10.0.0.66", "nope").status_code == 401
    assert get("10.0.0.66", "demo").status_code == 429
    assert get("10.0.0.8", "demo").status_code == 200


def test_a_partner_cookie_replayed_after_sign_out_opens_nothing(rapp, rweb):
    assert partner_login(rweb, "alice@acme").status_code == 303
    kept = rweb.c.get_cookie("session").value
    from tests.conftest import WebClient
    replayed = WebClient(rapp)
    replayed.c.set_cookie("session", kept)
    assert replayed.get("/partner/").status_code == 200
    rweb.post("/partner/logout", {}, csrf_from="/partner/")
    r = replayed.get("/partner/")
    assert r.status_code == 302 and "/partner/login" in r.headers["Location"]


def test_the_partners_pages_follow_the_centre_as_it_moves_the_order_on(rweb, partner_service, central_admin, agent):
    alice = partner_service("alice@acme")
    order = alice.place({"customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "4.50"}]})
    partner_login(rweb, "alice@acme")
    hx = {"HX-Request": "true"}

    def poll(path, **args):
        return rweb.get(path, headers=hx, query_string=args)
    home = rweb.get("/partner/").get_data(as_text=True)
    seq = re.search(r'id="live"[^>]*hx-vals=\'\{"since": "([^"]+)"\}\'', home).group(1)
    page = rweb.get(f"/partner/orders/{order['number']}").get_data(as_text=True)
    rev = re.search(r'&#34;rev&#34;: &#34;([^&]+)&#34;|"rev": "([^"]+)"', page)
    seen = next(g for g in rev.groups() if g)
    assert poll("/partner/", since=seq).status_code == 204          # nothing new: nothing redrawn
    eventually(lambda: central_admin.get_or_none(order["_id"]), what="the order reaches the centre")
    agent.run_once()                                                 # the centre places it
    eventually(lambda: alice.order(order["number"])["status"] != "submitted", what="the outcome comes back")
    redrawn = poll("/partner/", since=seq)
    assert redrawn.status_code == 200 and order["number"] in redrawn.get_data(as_text=True)
    notice = poll(f"/partner/orders/{order['number']}", since=seq, rev=seen)
    assert notice.status_code == 200 and "This order changed since you opened it" in notice.get_data(as_text=True)
    assert 'name="notes"' not in notice.get_data(as_text=True)     # the forms are never redrawn under typing


def test_a_partner_requests_a_return_of_a_delivered_order_from_its_page(rweb, rapp, partner_service, central_admin, agent):
    """The centre records it (its system identity, naming the partner person) and the return
    comes back to the partner's copy."""
    from oms.fulfilment.handoffs import SystemIdentity
    from oms.fulfilment.service import FulfilmentService
    from oms.identity import people
    from oms.store.numbers import NumberAllocator

    alice = partner_service("alice@acme")
    order = alice.place({"customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 3, "unit_price": "4.50"}]})
    eventually(lambda: central_admin.get_or_none(order["_id"]), what="the order reaches the centre")
    agent.run_once()                                              # the centre places it
    access, db = people.as_system(agent.server, agent.settings.secret_key, agent.settings.db_name,
                                  central_admin.get("acl")["entries"], agent.settings.namespace)
    system = SystemIdentity(access, db, NumberAllocator())
    centre = FulfilmentService(db, access, system.numbers, lambda: system)
    eventually(lambda: central_admin.get(order["_id"])["status"] == "allocated", what="placed at the centre")
    for step in ("pick", "ship", "deliver"):
        centre.act(order["number"], step)
    eventually(lambda: alice.order(order["number"])["status"] == "delivered", what="delivered at the partner")

    partner_login(rweb, "alice@acme")
    page = rweb.get(f"/partner/orders/{order['number']}").get_data(as_text=True)
    assert "Request a return" in page
    url = f"/partner/orders/{order['number']}/returns"
    bad = rweb.post(url, {"qty-1": "5", "reason-1": "damaged", "outcome-1": "refund"}, csrf_from=f"/partner/orders/{order['number']}")
    assert bad.status_code == 400 and "from 1 to 3" in bad.get_data(as_text=True)
    ok = rweb.post(url, {"qty-1": "1", "reason-1": "damaged", "outcome-1": "replace"}, csrf_from=f"/partner/orders/{order['number']}")
    assert ok.status_code == 303
    central = central_admin.get(order["_id"])
    assert central["status"] == "return_requested" and central["returns"][0]["lines"][0]["qty"] == 1
    assert "requested by alice@acme (acme)" in central["history"][-1]["reason"]
    copy = eventually(lambda: (d := alice.order(order["number"])).get("returns") and d, what="the return reaches the partner")
    assert copy["returns"][0]["number"] == central["returns"][0]["number"]
    assert central["returns"][0]["number"] in rweb.get(f"/partner/orders/{order['number']}").get_data(as_text=True)
