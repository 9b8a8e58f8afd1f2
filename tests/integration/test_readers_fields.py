"""Notes Readers fields: an order that lists readers is visible only to those named (or in its
Authors field), in views, on its page and through the API, even to Managers not named."""
import base64

import pytest

from views import catalog
from views.reader import read_page


def basic(name):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}


@pytest.fixture(scope="module")
def secret_order(service):
    # Named: carl as reader, sally as author. The demo Manager holds every role, so name people.
    return service("sally").create({"customer": "C0005", "readers": ["carl"], "authors": ["sally"],
                                    "lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "39.90"}]})


def numbers_in_view(person, name):
    access, db = person(name)
    vd = catalog.get("all_orders")
    seen, after = [], None
    while True:
        page = read_page(db, vd, access, after=after, limit=50)
        seen += [r["value"]["number"] for r in page.rows]
        if not page.next_after:
            return seen
        after = page.next_after


def test_the_view_shows_a_restricted_order_only_to_those_named(person, secret_order):
    n = secret_order["number"]
    assert n in numbers_in_view(person, "carl")       # a reader
    assert n in numbers_in_view(person, "sally")      # the author
    assert n not in numbers_in_view(person, "mia")    # a Manager not named
    assert n not in numbers_in_view(person, "rita")


def test_each_order_appears_once_even_when_a_person_is_named_twice(person, service):
    doc = service("sally").create({"customer": "C0005", "readers": ["sally", "[Sales]"],
                                   "lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "1"}]})
    assert numbers_in_view(person, "sally").count(doc["number"]) == 1


def test_the_order_page_and_the_api_answer_404_to_those_not_named(web, app, secret_order):
    n = secret_order["number"]
    web.login("mia")
    assert web.get(f"/orders/{n}").status_code == 404
    c = app.test_client()
    assert c.get(f"/api/v1/orders/{n}", headers=basic("mia")).status_code == 404
    assert c.get(f"/api/v1/orders/{n}", headers=basic("carl")).status_code == 200


def test_comments_of_a_restricted_order_are_hidden_with_it(app, secret_order):
    c = app.test_client()
    n = secret_order["number"]
    assert c.post(f"/api/v1/orders/{n}/comments", headers=basic("carl"), json={"text": "limit ok"}).status_code == 201
    assert c.get(f"/api/v1/orders/{n}/comments", headers=basic("mia")).status_code == 404
    assert c.get(f"/api/v1/orders/{n}/comments", headers=basic("carl")).get_json()["comments"][0]["text"] == "limit ok"
