"""Order entry: what the New order page and its htmx fragments show (customer and product
matches, the chosen customer, the lines, the totals), and placing the order it holds, once per
form (its one-time key). The page's route is in webapp/orders.py; the sign-in brings back an
order typed while the session ended (restored_entry)."""
from __future__ import annotations

import re
import uuid

from flask import make_response, render_template, request
from werkzeug.datastructures import MultiDict

from oms.catalog.pricing import LIST_PRICE
from oms.core import rules
from oms.core.errors import InvalidInput, NotFound
from oms.crm.customers import credit_state
from oms.ordering import order_api
from oms.ordering import orders as ordering
from oms.store.idempotency import Idempotency, check_key, fingerprint

from . import services
from .forms import EntryForm, blank_row, decimal_comma, messages_by_field, tax_rate_words

# The rows the New order page starts with; more are added a row at a time, up to the rulebook's
# lines.max_items.
START_ROWS = 5


def decimal_comma_here() -> bool:
    return decimal_comma(request.accept_languages.best)


def _limits() -> dict:
    order = rules.schema()["order"]
    return {"max_lines": order["lines"]["max_items"], "notes_max": order["notes"]["max_length"]}


def restored_entry(kept: list[tuple[str, str]]):
    """The New order page as it was typed before the session ended, to check and place."""
    form = MultiDict(kept)
    entry = EntryForm.read(form, decimal_comma_here())
    entry = entry.compact(START_ROWS) if not entry.rows else entry
    note = "You are signed in again and your order is as you typed it: check it, then place it."
    return entry_page(entry, once=form_once(form.get("once")), notice=note)


def entry_page(entry: EntryForm, messages: dict | None = None, top=(), once: str | None = None,
                notice: str | None = None):
    return render_template("order_form.html", entry=entry, customer=_chosen(entry.values.get("customer")),
                           matches=_customer_matches(entry) if not entry.values.get("customer") else [],
                           messages=messages or {}, top=list(top), limits=_limits(), preview=None,
                           once=once or form_once(), notice=notice)


def form_once(sent: str | None = None) -> str:
    """The form's one-time key: made when the page is first drawn and sent with every post of it,
    so the same form sent twice (Back and Save, a double click) places one order."""
    sent = sent or request.form.get("once") or request.args.get("once") or ""
    try:
        return check_key(sent)
    except InvalidInput:
        return uuid.uuid4().hex


def placed_with(once: str) -> str | None:
    svc = services.order_service()
    record = Idempotency(svc.db, svc.access.name).lookup(f"form:{once}")
    location = ((record or {}).get("response") or {}).get("location") or ""
    return location.rsplit("/", 1)[-1] or None


def place(entry: EntryForm, once: str) -> dict:
    """The order, created; or InvalidInput with every problem by field. The customer is read
    first: the domain stops at a customer it cannot read, and the person should see the
    problems with the lines at the same time."""
    svc = services.order_service()
    data = entry.to_input()
    problem = None
    if not data["customer"]:
        problem = "Choose the customer: type part of their name or id, then pick them from the list."
    else:
        try:
            svc.customer(data["customer"])
        except InvalidInput as exc:
            problem = exc.reason
    if problem:
        problems = {"customer": problem}
        try:
            ordering.read_lines(data["lines"])
        except InvalidInput as exc:
            problems.update(exc.fields or {"lines": exc.reason})
        raise InvalidInput(problem, problems)
    outcome = order_api.create_order(svc, data, f"form:{once}", fingerprint("POST", "/orders/new", data),
                                     lambda number: f"/orders/{number}")
    return outcome.body


def _customer_matches(entry: EntryForm) -> list[dict]:
    q = entry.values.get("customer_q", "")
    return services.customers().search(q, 8) if q else []


def _chosen(customer_ref: str | None) -> dict | None:
    """The chosen customer as the page shows them: name, currency, addresses, credit state."""
    if not customer_ref:
        return None
    try:
        profile = services.order_service().customer(customer_ref)
    except InvalidInput:
        return None
    cid = profile["_id"].removeprefix("customer:")
    credit = credit_state(profile, services.customers().exposure_cents(profile))
    return {"id": cid, "name": profile.get("name", cid), "currency": (profile.get("currency") or "EUR").upper(),
            "ship_tos": profile.get("ship_tos") or [], "bill_to": profile.get("bill_to"), "credit": credit}


def _preview(entry: EntryForm) -> dict:
    """The totals panel: the order as it would be priced now (orders.quote: nothing written, no
    number taken), or what to do first, or the problems in words."""
    rows = entry.filled()
    if not entry.values.get("customer"):
        return {"hint": "Choose a customer to see prices, tax and totals."}
    if not rows:
        return {"hint": "Choose a product and a quantity to see prices, tax and totals."}
    svc = services.order_service()
    data = entry.to_input()
    try:
        quoted = ordering.quote(svc, data)
    except InvalidInput as exc:
        beside, top = messages_by_field(exc.reason, exc.fields, rows)
        return {"problems": [*top, *beside.values()]}
    names = {p["_id"]: p.get("name") or p["_id"].removeprefix("pricelist:")
             for p in svc.book(data["lines"]).price_lists}
    lines = []
    for row, line, sent in zip(rows, quoted["lines"], data["lines"]):
        source = line.get("price_source")
        offered = "List price" if source == LIST_PRICE else f"Price list: {names.get(source, source)}"
        lines.append({**line, "row": row + 1, "typed": bool(sent.get("unit_price")), "offered": offered,
                      "tax_rate": tax_rate_words(line.get("tax_rate_bp"))})
    return {"quote": quoted, "lines": lines}


def entry_fragment(target: str, entry: EntryForm):
    """The htmx fragment for `target` (the id of the element it replaces), or None when the
    target is none of the page's: then the whole page is drawn."""
    context = {"entry": entry, "messages": {}, "limits": _limits()}
    if target == "entry-customer-matches":
        return _fragment("_entry_customers.html", q=entry.values.get("customer_q", ""),
                         matches=_customer_matches(entry))
    m = re.fullmatch(r"line-(\d{1,4})-matches", target)
    if m:
        row = int(m[1])
        q = (request.args.get(f"line-{row}-sku") or "").strip()
        return _fragment("_entry_products.html", q=q, row=row,
                         matches=services.products().search(q, 8) if q else [])
    if request.method != "POST":
        return None
    if target == "entry-customer":
        picked = request.form.get("pick_customer", "").strip()
        if picked:
            entry.values.update(customer=picked, ship_to="")
        customer = _chosen(entry.values.get("customer"))
        if customer:
            entry.values["customer_q"] = customer["name"]
        return _fragment("_entry_customer.html", customer=customer, matches=[], oob_totals=True,
                         preview=_preview(entry), **context)
    if target == "entry-lines":
        focus = _change_rows(entry, request.form)
        return _fragment("_entry_lines.html", focus=focus, oob_totals=True, preview=_preview(entry), **context)
    if target == "entry-totals":
        return _fragment("_entry_totals.html", oob_totals=False, preview=_preview(entry), **context)
    return None


def _change_rows(entry: EntryForm, form) -> str | None:
    """Pick a product for a row, add a row or remove one, as the lines fragment was asked;
    returns the id of the field to focus next."""
    pick = form.get("pick_line", "")
    if pick.isdigit() and int(pick) < len(entry.rows):
        row, sku = int(pick), form.get("pick_sku", "")
        try:
            product = services.products().get(sku)
        except (InvalidInput, NotFound):
            product = None
        if product and product.get("status") == "active":
            entry.rows[row].update(sku=product["sku"], description=product.get("description") or "",
                                   qty=entry.rows[row]["qty"] or "1")
        return f"line-{row}-qty"
    remove = form.get("remove_line", "")
    if remove.isdigit():
        if int(remove) < len(entry.rows):
            del entry.rows[int(remove)]
        if not entry.rows:
            entry.rows.append(blank_row())
        return None
    if form.get("add_line") and len(entry.rows) < _limits()["max_lines"]:
        entry.rows.append(blank_row())
        return f"line-{len(entry.rows) - 1}-sku"
    return None


def _fragment(template: str, **context):
    resp = make_response(render_template(template, fragment=True, **context))
    resp.headers["Vary"] = "HX-Request, HX-Target"
    resp.headers["Cache-Control"] = "no-store"
    return resp
