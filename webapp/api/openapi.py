"""The OpenAPI 3 document of /api, served at /api/openapi.json: the ONE description of the API.

tests/integration/test_api_openapi.py walks app.url_map, so a route under /api without an entry here
(or an entry without a route) fails the suite, and real responses are checked against the schemas.
To add an area (customers, stock, shipments...), add its schemas to SCHEMAS and its paths to a
PATHS section below, reusing the helpers (problems(), IDEMPOTENCY_KEY, request_body())."""
from __future__ import annotations

import copy
import functools

from oms.core import rules

VERSION = "1.0.0"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def request_body(schema_name: str, description: str = "") -> dict:
    return {"required": True, "description": description,
            "content": {"application/json": {"schema": ref(schema_name)}}}


def json_response(description: str, schema_name: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/json": {"schema": ref(schema_name)}}}
    if headers:
        out["headers"] = headers
    return out


def problems(*statuses: int) -> dict:
    """Error responses as JSON problem documents (status, title, detail)."""
    text = {400: "Bad input; detail says what and shows a valid value", 401: "Not signed in (Basic or Bearer)",
            403: "Not allowed (ACL level, role, Authors field or workflow rule)", 404: "No such resource (or hidden by a Readers field)",
            409: "Changed by someone else since you read it; re-read and retry", 413: "Too large",
            415: "Unsupported media type", 422: "Idempotency-Key reused with a different request",
            503: "The database is unavailable; retry after Retry-After seconds"}
    return {str(s): {"description": text[s], "content": {"application/problem+json": {"schema": ref("Problem")}}}
            for s in statuses}


COMMON_ERRORS = (400, 401, 403, 503)

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any unique string per request (a UUID). A retry with the same key and body returns the "
                   "first result and writes nothing new; the same key with another body is refused (422).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}
# Every number the system issues: central, a partner's (SO-ACME-000021), a branch's.
NUMBER_PATTERN = rules.schema()["order"]["number"]["pattern"]
NUMBER = {"name": "number", "in": "path", "required": True, "description": "Order number",
          "schema": {"type": "string", "pattern": NUMBER_PATTERN, "example": "SO-000123"}}
VIEW_NAME = {"name": "name", "in": "path", "required": True, "description": "A view of the catalog (GET /api/v1/views)",
             "schema": {"type": "string", "example": "all_orders"}}
AFTER = {"name": "after", "in": "query", "required": False,
         "description": "Cursor from the previous page's `next` (paging is by key, never by offset)",
         "schema": {"type": "string"}}
LIMIT = {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 500}}
LIMIT_200 = {**LIMIT, "schema": {"type": "integer", "minimum": 1, "maximum": 200}}
LOCATION = {"Location": {"description": "URL of the created resource", "schema": {"type": "string"}}}

_str = {"type": "string"}
_names = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 80}, "maxItems": 50}

SCHEMAS: dict = {
    "Problem": {
        "type": "object", "required": ["status", "title", "detail"],
        "properties": {"type": _str, "status": {"type": "integer"}, "title": _str, "detail": _str,
                       "errors": {"type": "array", "description": "Bad input: every problem, by the input field it belongs to",
                                  "items": {"type": "object", "properties": {"field": _str, "message": _str}}}},
    },
    "LineInput": {
        "type": "object", "required": ["sku", "qty"], "additionalProperties": False,
        "properties": {
            "sku": {"type": "string", "example": "WID-100"},
            "qty": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 1000000}, {"type": "string"}], "example": 3,
                    "description": "A whole number from 1 to 1,000,000 (or the same as text)"},
            "unit_price": {"oneOf": [{"type": "number", "minimum": 0, "maximum": 10000000}, {"type": "string"}],
                           "example": "12.50", "description": "An amount with at most 2 decimals, at most 10,000,000. "
                           "Left out: the best price of the customer's price lists, else the product's list price. "
                           "A price further below that than the person's discount limit sends a submitted order "
                           "to price approval"},
            "description": {"type": "string", "maxLength": 500},
        },
    },
    "OrderInput": {
        "type": "object", "required": ["customer", "lines"], "additionalProperties": False,
        "properties": {
            "customer": {"oneOf": [{"type": "string", "example": "C0001"},
                                   {"type": "object", "required": ["id"], "properties": {"id": _str}}]},
            "lines": {"type": "array", "minItems": 1, "maxItems": 500, "items": ref("LineInput")},
            "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$", "example": "EUR"},
            "promised_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "notes": {"type": "string", "maxLength": 4000},
            "status": {"type": "string", "enum": ["draft", "submitted"]},
            "priority": {"type": "integer", "minimum": 1, "maximum": 5},
            "readers": _names, "authors": _names,
            "external_ref": {"type": "string", "minLength": 1, "maxLength": 100},
            "ship_to": {"type": "string", "example": "MAIN", "description": "The id of one of the customer's ship-to addresses (default: the first)"},
            "customer_po": {"type": "string", "minLength": 1, "maxLength": 35, "example": "PO-2026-0042"},
            "requested_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "shipping": {"oneOf": [{"type": "number", "minimum": 0, "maximum": 10000000}, {"type": "string"}],
                         "example": "9.50", "description": "The shipping charge, taxed at the standard rate of the ship-to country"},
        },
    },
    "Address": {
        "type": "object", "required": ["name", "city", "country"],
        "properties": {"id": _str, "name": _str, "street": _str, "city": _str, "postcode": _str,
                       "country": {"type": "string", "example": "DE", "description": "ISO 3166 two-letter code"}},
    },
    "Quote": {
        "type": "object", "required": ["lines", "totals", "needs_price_approval"],
        "properties": {"customer": {"type": "object"}, "currency": _str, "ship_to": ref("Address"),
                       "bill_to": ref("Address"), "lines": {"type": "array", "items": ref("Line")},
                       "totals": {"type": "object"},
                       "needs_price_approval": {"type": "array", "items": _str,
                                                "description": "Why the order would wait for price approval (empty: it would not)"}},
    },
    "ProductInput": {
        "type": "object", "additionalProperties": {"description": "price_<currency>, e.g. price_eur: \"12.50\""},
        "description": "Fields left out keep their value",
        "properties": {"sku": _str, "description": {"type": "string", "maxLength": 500}, "unit": {"type": "string", "example": "each"},
                       "list_prices": {"type": "object", "example": {"EUR": "12.50", "GBP": "10.90"}},
                       "tax_class": {"type": "string", "example": "standard"},
                       "status": {"type": "string", "enum": ["active", "withdrawn"]}},
        "example": {"description": "Widget, small", "list_prices": {"EUR": "4.50"}, "tax_class": "standard"},
    },
    "PriceListInput": {
        "type": "object", "required": ["name", "currency", "items"],
        "properties": {"name": _str, "currency": {"type": "string", "example": "EUR"},
                       "tier": {"type": "string", "example": "gold"}, "customer": {"type": "string", "example": "customer:C0001"},
                       "valid_from": _str, "valid_to": _str, "prices_include_tax": {"type": "boolean"},
                       "items": {"type": "object", "example": {"WID-100": [{"min_qty": 1, "unit_cents": 420},
                                                                          {"min_qty": 20, "unit_cents": 395}]}}},
    },
    "Line": {
        "type": "object", "required": ["line", "sku", "qty", "unit_price_cents", "amount_cents"],
        "properties": {"line": {"type": "integer"}, "sku": _str, "qty": {"type": "integer"},
                       "unit_price_cents": {"type": "integer"}, "amount_cents": {"type": "integer"},
                       "description": _str, "shipped_qty": {"type": "integer"},
                       "list_price_cents": {"type": "integer", "description": "The price the catalog offered"},
                       "price_source": {"type": "string", "description": "pricelist:<id> or list_price"},
                       "tax_class": _str, "tax_rate_bp": {"type": "integer", "description": "1900 = 19%"},
                       "tax_cents": {"type": "integer"}},
    },
    "HistoryEntry": {
        "type": "object", "required": ["at", "by", "action"],
        "properties": {"at": _str, "by": _str, "action": _str, "from": {"type": "string", "nullable": True},
                       "to": _str, "reason": _str, "changes": {"type": "array", "items": _str},
                       "legacy": {"type": "boolean"}},
    },
    "Order": {
        "type": "object",
        "required": ["_id", "_rev", "number", "customer", "lines", "totals", "currency", "status", "priority",
                     "version", "history"],
        "properties": {
            "_id": _str, "_rev": _str, "type": {"type": "string", "enum": ["order"]},
            "number": {"type": "string", "pattern": NUMBER_PATTERN},
            "customer": {"type": "object", "required": ["id", "name"], "properties": {"id": _str, "name": _str}},
            "lines": {"type": "array", "items": ref("Line")},
            "totals": {"type": "object", "required": ["net_cents", "qty"],
                       "properties": {"net_cents": {"type": "integer"}, "qty": {"type": "integer"},
                                      "shipping_cents": {"type": "integer"}, "tax_cents": {"type": "integer"},
                                      "gross_cents": {"type": "integer"}}},
            "ship_to": ref("Address"), "bill_to": ref("Address"), "customer_po": _str, "requested_date": _str,
            "currency": _str, "status": _str, "priority": {"type": "integer", "minimum": 1, "maximum": 5},
            "version": {"type": "integer"}, "promised_date": _str, "notes": _str, "external_ref": _str,
            "readers": _names, "authors": _names, "created_by": _str, "created_at": _str,
            "updated_by": _str, "updated_at": _str,
            "history": {"type": "array", "items": ref("HistoryEntry")},
        },
    },
    "ActionInput": {
        "type": "object", "required": ["action"], "additionalProperties": False,
        "properties": {
            "action": {"type": "string", "example": "submit",
                       "description": "A transition of the workflow (rules/workflow.json), or edit; amend and cancel are actions"},
            "reason": {"type": "string", "description": "Needed by hold, cancel, amend, ..."},
            "changes": {"type": "object", "description": "Fields to change; amend takes lines as in OrderInput"},
            "rev": {"type": "string", "description": "The _rev you read: refused with 409 if the order changed since"},
        },
    },
    "Page": {
        "type": "object", "required": ["view", "rows", "next"],
        "properties": {"view": _str, "rows": {"type": "array", "items": {"type": "object"}},
                       "next": {"type": "string", "nullable": True}, "prev": {"type": "string", "nullable": True}},
    },
    "ViewList": {
        "type": "object", "required": ["views"],
        "properties": {"views": {"type": "array", "items": {
            "type": "object", "required": ["name", "title"],
            "properties": {"name": _str, "title": _str, "group": _str,
                           "columns": {"type": "array", "items": {"type": "object"}}}}}},
    },
    "CommentInput": {
        "type": "object", "required": ["text"], "additionalProperties": False,
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 4000}},
    },
    "Comment": {
        "type": "object", "required": ["_id", "type", "parent", "text", "by", "at"],
        "properties": {"_id": _str, "_rev": _str, "type": {"type": "string", "enum": ["comment"]},
                       "parent": _str, "text": _str, "by": _str, "at": _str},
    },
    "CommentList": {
        "type": "object", "required": ["comments", "next"],
        "properties": {"comments": {"type": "array", "items": ref("Comment")},
                       "next": {"type": "string", "nullable": True}},
    },
    "ImportReport": {
        "type": "object", "required": ["kind", "format", "counts", "problems"],
        "properties": {
            "kind": _str, "format": _str,
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "problems": {"type": "array", "items": {
                "type": "object", "required": ["line", "reason"],
                "properties": {"line": {"type": "integer"}, "ref": {"type": "string", "nullable": True},
                               "reason": _str}}},
            "created": {"type": "array", "items": {"type": "object"}},
            "report_id": {"type": "string", "nullable": True},
        },
    },
    # -- the CRM and WMS links (webapp/api/wms.py). Only as strict as the handlers: the fuzz
    # (tests/integration/test_api_fuzz.py) sends what these call invalid and expects a 4xx.
    "QtyInput": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string"}], "example": 3,
                 "description": "A whole number from 1 (or the same as text)"},
    "AvailabilityInput": {
        "type": "object", "required": ["lines"],
        "properties": {"lines": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["sku", "qty"],
            "properties": {"sku": {"type": "string", "example": "WID-100"}, "qty": ref("QtyInput")}}}},
        "example": {"lines": [{"sku": "WID-100", "qty": 3}]},
    },
    "ReceiptInput": {
        "type": "object", "required": ["sku", "qty"],
        "properties": {"sku": {"type": "string", "example": "WID-100"},
                       "warehouse": {"type": "string", "nullable": True, "example": "MAIN", "description": "MAIN when left out"},
                       "qty": ref("QtyInput"),
                       "description": {"type": "string", "nullable": True, "maxLength": 500}},
        "example": {"sku": "WID-100", "warehouse": "MAIN", "qty": 10},
    },
    "StockCountInput": {
        "type": "object", "required": ["on_hand"],
        "properties": {"on_hand": {"type": "integer", "minimum": 0, "maximum": 1000000000, "example": 120},
                       "description": {"type": "string", "nullable": True, "maxLength": 500}},
        "example": {"on_hand": 120},
    },
    "ShipmentInput": {
        "type": "object", "additionalProperties": False,
        "description": "Leave lines out to ship everything the order holds (one shipment per warehouse)",
        "properties": {
            "warehouse": {"type": "string", "nullable": True, "example": "MAIN"},
            "lines": {"type": "array", "nullable": True, "items": {
                "type": "object", "required": ["line", "qty"],
                "properties": {"line": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
                               "qty": {"oneOf": [{"type": "integer"}, {"type": "string"}]}}}},
            "carrier": {"type": "string", "nullable": True, "maxLength": 80},
            "tracking": {"type": "string", "nullable": True, "maxLength": 120},
            "rev": {"type": "string", "nullable": True}},
        "example": {"warehouse": "MAIN", "lines": [{"line": 1, "qty": 2}], "carrier": "DHL", "tracking": "JD0001"},
    },
    "CreditNoteInput": {
        "type": "object", "additionalProperties": False, "required": ["reason"],
        "properties": {
            "lines": {"type": "array", "nullable": True, "items": {
                "type": "object", "required": ["line", "qty"],
                "properties": {"line": {"type": "integer"}, "qty": {"oneOf": [{"type": "integer"}, {"type": "string"}]}}}},
            "shipping": {"type": "boolean"},
            "reason": {"type": "string", "maxLength": 500}},
        "example": {"lines": [{"line": 1, "qty": 2}], "reason": "2 units returned damaged"},
    },
    "ReturnInput": {
        "type": "object", "additionalProperties": False, "required": ["lines"],
        "properties": {
            "lines": {"type": "array", "items": {
                "type": "object", "required": ["line", "qty", "reason", "outcome"],
                "properties": {"line": {"type": "integer"}, "qty": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
                               "reason": {"type": "string", "enum": sorted(rules.rules()["billing"]["return_reasons"])},
                               "outcome": {"type": "string", "enum": sorted(rules.rules()["billing"]["return_outcomes"])}}}},
            "warehouse": {"type": "string", "nullable": True},
            "note": {"type": "string", "nullable": True, "maxLength": 400}},
        "example": {"lines": [{"line": 1, "qty": 2, "reason": "damaged", "outcome": "refund"}], "warehouse": "MAIN"},
    },
    "PaymentInput": {
        "type": "object", "additionalProperties": False, "required": ["customer"],
        "description": "Leave allocations out to pay the customer's oldest unpaid invoices first",
        "properties": {
            "customer": {"type": "string", "example": "C0001"},
            "amount": {"type": "string", "example": "120.50"},
            "amount_cents": {"type": "integer", "minimum": 1},
            "received_on": {"type": "string", "format": "date", "nullable": True},
            "method": {"type": "string", "enum": sorted(rules.rules()["billing"]["payment_methods"])},
            "reference": {"type": "string", "nullable": True, "maxLength": 120},
            "allocations": {"type": "array", "nullable": True, "items": {
                "type": "object", "required": ["invoice"],
                "properties": {"invoice": {"type": "string", "example": "INV-000042"},
                               "amount": {"type": "string", "example": "120.50"},
                               "amount_cents": {"type": "integer", "minimum": 1}}}}},
        "example": {"customer": "C0001", "amount": "120.50", "method": "bank_transfer",
                    "allocations": [{"invoice": "INV-000042", "amount": "120.50"}]},
    },
    "CustomerInput": {
        "type": "object", "additionalProperties": False,
        "description": "Fields left out (or null, or empty text) keep their value; money as \"5000.00\" or in cents",
        "properties": {
            "name": {"type": "string", "nullable": True, "example": "Acme Ltd"},
            "tier": {"type": "string", "nullable": True, "example": "gold", "description": "gold, silver or bronze"},
            "credit_limit": {"nullable": True, "example": "5000.00"}, "open_balance": {"nullable": True},
            "credit_limit_cents": {"nullable": True}, "open_balance_cents": {"nullable": True},
            "days_late": {"nullable": True, "example": 12},
            "credit_hold": {"oneOf": [{"type": "boolean"}, {"type": "string"}], "nullable": True},
            "currency": {"type": "string", "nullable": True, "example": "EUR"},
            "partner": {"type": "string", "nullable": True, "example": "acme"},
            "contacts": {"type": "array", "nullable": True, "items": {
                "type": "object", "properties": {"name": {"type": "string", "nullable": True},
                                                 "email": {"type": "string", "nullable": True},
                                                 "phone": {"type": "string", "nullable": True}}}},
            "contact_name": {"type": "string", "nullable": True}, "contact_email": {"type": "string", "nullable": True},
            "contact_phone": {"type": "string", "nullable": True},
            "bill_to": {"nullable": True, "allOf": [ref("Address")]},
            "ship_tos": {"type": "array", "nullable": True, "items": ref("Address")},
            **{f"bill_to_{k}": {"type": "string", "nullable": True} for k in ("name", "street", "city", "postcode", "country")},
            "id": {"nullable": True}, "external_id": {"nullable": True}, "_id": {"nullable": True},
            "type": {"nullable": True}},
        "example": {"name": "Acme Ltd", "tier": "gold", "credit_limit": "50000.00", "days_late": 4},
    },
    "EventList": {
        "type": "object", "required": ["events", "next"],
        "properties": {"events": {"type": "array", "items": ref("Event")}, "next": {"type": "string", "nullable": True}},
    },
    "Event": {
        "type": "object", "required": ["event_id", "name", "order", "at"],
        "properties": {"event_id": _str, "name": _str, "order": _str, "at": _str, "by": _str,
                       "from": {"type": "string", "nullable": True}, "to": _str, "data": {"type": "object"}},
    },
}

AUTH = [{"basicAuth": []}, {"bearerAuth": []}]

PATHS: dict = {
    # -- orders (webapp/api/v1.py, webapp/api/orders.py)
    "/api/v1/orders": {
        "get": {
            "operationId": "listOrders", "summary": "Orders as a view of the catalog shows them, a page at a time",
            "parameters": [{"name": "view", "in": "query", "required": False, "schema": {"type": "string", "default": "all_orders"}},
                           AFTER, LIMIT],
            "responses": {"200": json_response("A page of rows the caller may read", "Page"), **problems(*COMMON_ERRORS, 404)},
        },
        "post": {
            "operationId": "createOrder", "summary": "Create an order (draft or submitted)",
            "parameters": [IDEMPOTENCY_KEY],
            "requestBody": request_body("OrderInput"),
            "responses": {"201": json_response("Created (or the first result of a retried key)", "Order", LOCATION),
                          **problems(*COMMON_ERRORS, 409, 415, 422)},
        },
    },
    "/api/v1/orders/{number}": {
        "get": {
            "operationId": "getOrder", "summary": "One order", "parameters": [NUMBER],
            "responses": {"200": json_response("The order", "Order"), **problems(*COMMON_ERRORS, 404)},
        },
    },
    "/api/v1/orders/{number}/actions": {
        "post": {
            "operationId": "actOnOrder", "summary": "Take a workflow action (submit, approve, amend, cancel, ...)",
            "parameters": [NUMBER], "requestBody": request_body("ActionInput"),
            "responses": {"200": json_response("The order after the action", "Order"),
                          **problems(*COMMON_ERRORS, 404, 409, 415)},
        },
    },
    "/api/v1/orders/{number}/comments": {
        "get": {
            "operationId": "listComments", "summary": "Comments under an order, oldest first",
            "parameters": [NUMBER, AFTER, LIMIT],
            "responses": {"200": json_response("A page of comments", "CommentList"), **problems(*COMMON_ERRORS, 404)},
        },
        "post": {
            "operationId": "postComment", "summary": "Add a comment (a response document) to an order",
            "parameters": [NUMBER, IDEMPOTENCY_KEY], "requestBody": request_body("CommentInput"),
            "responses": {"201": json_response("The comment", "Comment", LOCATION),
                          **problems(*COMMON_ERRORS, 404, 409, 415, 422)},
        },
    },
    # -- views, export, import, events (webapp/api/orders.py)
    "/api/v1/views": {
        "get": {
            "operationId": "listViews", "summary": "The views of the catalog the caller may open",
            "responses": {"200": json_response("Views", "ViewList"), **problems(401, 403, 503)},
        },
    },
    "/api/v1/views/{name}/export": {
        "get": {
            "operationId": "exportView",
            "summary": "Stream a view (or a selection of its orders) as CSV, JSON or XML",
            "parameters": [VIEW_NAME,
                           {"name": "format", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["csv", "json", "xml"], "default": "csv"}},
                           {"name": "shape", "in": "query", "required": False,
                            "description": "rows: the view's columns; orders: whole orders in the import format",
                            "schema": {"type": "string", "enum": ["rows", "orders"], "default": "rows"}},
                           {"name": "numbers", "in": "query", "required": False,
                            "description": "A selection: comma-separated order numbers",
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The export, streamed", "content": {
                "text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {
                    "type": "object", "description": "{view, rows: [...]} (shape rows) or {orders: [...]} (shape orders)",
                    "properties": {"view": _str, "rows": {"type": "array", "items": {"type": "object"}},
                                   "orders": {"type": "array", "items": ref("Order")}}}},
                "application/xml": {"schema": {"type": "string"}}}},
                **problems(*COMMON_ERRORS, 404)},
        },
    },
    "/api/v1/imports": {
        "post": {
            "operationId": "importFile",
            "summary": "Import orders, customers or stock from CSV, JSON or XML: good rows go in, bad rows are reported",
            "parameters": [IDEMPOTENCY_KEY,
                           {"name": "kind", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["orders", "customers", "stock"]}}],
            "requestBody": {"required": True, "content": {
                "text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {}},
                "application/xml": {"schema": {"type": "string"}}}},
            "responses": {"200": json_response("What went in and what did not", "ImportReport"),
                          **problems(*COMMON_ERRORS, 413, 415, 422)},
        },
    },
    "/api/v1/events": {
        "get": {
            "operationId": "listEvents", "summary": "The outbox of order events (created, approved, shipped, ...), oldest first",
            "parameters": [AFTER, LIMIT],
            "responses": {"200": json_response("A page of events", "EventList"), **problems(*COMMON_ERRORS)},
        },
    },
}


def _path(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _op(op_id: str, summary: str, ok: str | tuple = "200", body: str | None = None, params=(), errors=(),
        schema: str | None = None, content: dict | None = None) -> dict:
    """An operation whose answer is a JSON object (the documents' shapes are in docs/ and the
    rulebook's schema.json; validate_doc_update is their last word). The request body is
    `schema` (a name in SCHEMAS), or `content` (media type -> schema), or any JSON object.
    An operation that takes an Idempotency-Key may answer 422 (the key reused for another body)."""
    if IDEMPOTENCY_KEY in params:
        errors = (*errors, 422)
    answer = {"content": {"application/json": {"schema": {"type": "object"}}}}
    oks = {status: {"description": summary if status != "201" else "Created", **answer}
           for status in ((ok,) if isinstance(ok, str) else ok)}
    out = {"operationId": op_id, "summary": summary, "parameters": list(params),
           "responses": {**oks, **problems(*COMMON_ERRORS, *errors)}}
    if body:
        out["requestBody"] = {"required": True, "description": body, "content": content or {
            "application/json": {"schema": ref(schema) if schema else {"type": "object"}}}}
    return out


def _feed(key: str, row: dict) -> dict:
    """A feed's body: a JSON array of rows (or {key: [rows]}), or CSV with a header line. Bad rows
    are reported, not refused, so a row is any object here."""
    rows = {"type": "array", "items": {"type": "object", **row}}
    return {"application/json": {"schema": {"oneOf": [rows, {"type": "object", "required": [key],
                                                             "properties": {key: rows}}]}},
            "text/csv": {"schema": {"type": "string"}}}


REF, SKU, WAREHOUSE = _path("ref", "Customer id from the CRM, e.g. C0001"), _path("sku", "SKU"), \
    _path("warehouse", "Warehouse code, e.g. MAIN")

# -- customers, stock, shipments, availability (webapp/api/wms.py)
PATHS.update({
    "/api/v1/availability": {"post": _op("availability", "Would these lines be served now (per line: available, partly, backorder)",
                                         body='{"lines": [{"sku": "WID-100", "qty": 3}]}', schema="AvailabilityInput")},
    "/api/v1/customers": {"get": _op("listCustomers", "Customer profiles by id, paged by key", params=[AFTER, LIMIT_200])},
    "/api/v1/customers/{ref}": {"get": _op("getCustomer", "A customer profile with its exposure", params=[REF], errors=(404,)),
                                "put": _op("putCustomer", "Upsert a customer profile by its CRM id (idempotent)", ok=("200", "201"),
                                           params=[REF], body="profile fields: name, tier, credit_limit, ...",
                                           schema="CustomerInput")},
    "/api/v1/customers/import": {"post": _op("importCustomers", "Upsert many profiles (JSON array or CSV): good rows in, bad rows reported",
                                             body="a JSON array of profiles (or text/csv)",
                                             content=_feed("customers", {"example": {"id": "C0001", "name": "Acme Ltd"}}))},
    "/api/v1/stock": {"get": _op("listStock", "Stock per SKU and warehouse, paged by key", params=[AFTER, LIMIT_200])},
    "/api/v1/stock/{sku}": {"get": _op("getStock", "One SKU in every warehouse, with what waits for it", params=[SKU], errors=(404,))},
    "/api/v1/stock/{sku}/{warehouse}": {"put": _op("putStockCount", "Set the counted quantity on hand", params=[SKU, WAREHOUSE],
                                                   body='{"on_hand": 120}', errors=(409,), schema="StockCountInput")},
    "/api/v1/stock/import": {"post": _op("importStock", "Apply a WMS feed of counts and receipts (JSON array or CSV)",
                                         body="a JSON array of {sku, warehouse, on_hand | received}",
                                         content=_feed("stock", {"example": {"sku": "WID-100", "warehouse": "MAIN", "received": 5}}))},
    "/api/v1/stock/receipts": {"post": _op("postReceipt", "A receipt: stock arrives and serves backorders, most urgent first",
                                           ok="201", params=[IDEMPOTENCY_KEY],
                                           body='{"sku": "WID-100", "warehouse": "MAIN", "qty": 10}', schema="ReceiptInput")},
    "/api/v1/orders/{number}/shipments": {
        "get": _op("getShipments", "The order's shipments", params=[NUMBER], errors=(404,)),
        "post": _op("postShipment", "Ship all or part of an order (one shipment per warehouse)", ok="201",
                    params=[NUMBER, IDEMPOTENCY_KEY],
                    body='{"warehouse": "MAIN", "lines": [{"line": 1, "qty": 2}], "carrier": "DHL", "tracking": "..."}',
                    errors=(404, 409), schema="ShipmentInput")},
    # -- the performance review (webapp/api/review.py)
    "/api/v1/review": {"get": {
        "operationId": "getReview",
        "summary": "The performance review: cycle time per stage and end to end (median, p90 in hours), "
                   "on-time share, fill rate at placement, throughput per function per day, work in progress, "
                   "SLA classes of open orders and backorder ageing, counting only orders the caller may read",
        "parameters": [
            {"name": "grain", "in": "query", "required": False, "description": "w: weeks (named by their Monday), m: months",
             "schema": {"type": "string", "enum": ["w", "m"]}},
            {"name": "from", "in": "query", "required": False, "description": "first period, e.g. 2026-01 or 2026-03-02",
             "schema": {"type": "string"}},
            {"name": "to", "in": "query", "required": False, "description": "last period (inclusive)",
             "schema": {"type": "string"}},
            {"name": "function", "in": "query", "required": False, "description": "a function (role), e.g. [Warehouse]",
             "schema": {"type": "string"}},
            {"name": "tier", "in": "query", "required": False, "schema": {"type": "string", "enum": ["gold", "silver", "bronze"]}},
            {"name": "warehouse", "in": "query", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The figures", "content": {"application/json": {"schema": {
            "type": "object", "required": ["filters", "counting", "stages", "end_to_end", "on_time", "fill_rate",
                                           "throughput", "wip", "sla", "backorder_ageing"],
            "properties": {"filters": {"type": "object"}, "counting": {"type": "boolean"},
                           "exact": {"type": "boolean"}, "fresh": {"type": "boolean"},
                           **{k: {"type": "array", "items": {"type": "object"}}
                              for k in ("stages", "functions", "end_to_end", "end_to_end_by_period", "by_tier",
                                        "by_warehouse", "distribution", "on_time", "fill_rate", "throughput",
                                        "wip", "sla", "backorder_ageing")}}}}}},
                      **problems(*COMMON_ERRORS)}}},
    # -- billing (webapp/api/billing.py)
    "/api/v1/orders/{number}/invoices": {
        "get": _op("getInvoices", "The order's invoices, each with what it still asks for and its state",
                   params=[NUMBER], errors=(404,)),
        "post": _op("postInvoices", "Invoice what the order has shipped and no invoice bills yet (Billing or a Manager); "
                    "optional body {\"rev\": ...}", ok="201", params=[NUMBER, IDEMPOTENCY_KEY], errors=(404, 409))},
    "/api/v1/invoices": {"get": {
        "operationId": "listInvoices", "summary": "Open invoices by due date (all=1: paid ones too), as JSON, CSV or XML",
        "parameters": [{"name": "all", "in": "query", "required": False, "schema": {"type": "string"}},
                       {"name": "format", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["json", "csv", "xml"]}}],
        "responses": {"200": {"description": "The invoices", "content": {
            "application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}},
            "application/xml": {"schema": {"type": "string"}}}}, **problems(*COMMON_ERRORS)}}},
    "/api/v1/invoices/{number}": {"get": _op("getInvoice", "One invoice with its payments, what it still asks for and its state",
                                             params=[_path("number", "Invoice number, e.g. INV-000042")], errors=(404,))},
    "/api/v1/invoices/{number}.pdf": {"get": {
        "operationId": "getInvoicePdf", "summary": "The invoice as PDF",
        "parameters": [_path("number", "Invoice number, e.g. INV-000042")],
        "responses": {"200": {"description": "The invoice as PDF", "content": {"application/pdf": {
            "schema": {"type": "string", "format": "binary"}}}}, **problems(*COMMON_ERRORS, 404)}}},
    "/api/v1/invoices/{number}/credit_notes": {"post": _op(
        "postCreditNote", "Credit an invoice (Billing or a Manager): lines and quantities it billed, its shipping, and why; "
        "lines left out credit everything not credited yet", ok="201", params=[_path("number", "Invoice number"), IDEMPOTENCY_KEY],
        body='{"lines": [{"line": 1, "qty": 2}], "shipping": false, "reason": "2 units returned damaged"}',
        schema="CreditNoteInput", errors=(404,))},
    "/api/v1/credit_notes/{number}": {"get": _op("getCreditNote", "One credit note",
                                                 params=[_path("number", "Credit note number, e.g. CN-000007")], errors=(404,))},
    "/api/v1/credit_notes/{number}.pdf": {"get": {
        "operationId": "getCreditNotePdf", "summary": "The credit note as PDF",
        "parameters": [_path("number", "Credit note number, e.g. CN-000007")],
        "responses": {"200": {"description": "The credit note as PDF", "content": {"application/pdf": {
            "schema": {"type": "string", "format": "binary"}}}}, **problems(*COMMON_ERRORS, 404)}}},
    "/api/v1/orders/{number}/returns": {
        "get": _op("getReturns", "The order's returns", params=[NUMBER], errors=(404,)),
        "post": _op("postReturn", "Request a return (Sales): lines, quantities, reason and refund or replacement each",
                    ok="201", params=[NUMBER, IDEMPOTENCY_KEY], schema="ReturnInput", errors=(404, 409),
                    body='{"lines": [{"line": 1, "qty": 2, "reason": "damaged", "outcome": "refund"}], "warehouse": "MAIN"}')},
    "/api/v1/orders/{number}/returns/{rma}/{step}": {"post": {
        **_op("postReturnStep", "Receive a return (Warehouse), refund it (Billing) or ship its replacement (Shipping)",
              params=[NUMBER, _path("rma", "Return number, e.g. RMA-000003"),
                      {"name": "step", "in": "path", "required": True,
                       "schema": {"type": "string", "enum": ["receive", "refund", "replace"]}}], errors=(404, 409))}},
    **{path: {"get": {"operationId": op, "summary": summary, "parameters": params,
                      "responses": {"200": {"description": summary, "content": {"application/pdf": {
                          "schema": {"type": "string", "format": "binary"}}}}, **problems(*COMMON_ERRORS, 400, 404)}}}
       for path, op, summary, params in (
           ("/api/v1/orders/{number}/confirmation.pdf", "getConfirmationPdf", "The order confirmation as PDF", [NUMBER]),
           ("/api/v1/orders/{number}/shipments/{shipment}/packing-slip.pdf", "getPackingSlipPdf",
            "A shipment's packing slip as PDF", [NUMBER, _path("shipment", "The shipment's id without 'shipment:'")]),
           ("/api/v1/warehouses/{warehouse}/pick-list.pdf", "getPickListPdf",
            "What a warehouse must pick, in bin and SKU order, as PDF", [WAREHOUSE]))},
    "/api/v1/payments": {"get": {
        "operationId": "listPayments", "summary": "Payments received, one row per payment and invoice it pays, as JSON, CSV or XML",
        "parameters": [{"name": k, "in": "query", "required": False, "schema": {"type": "string", "format": "date"}}
                       for k in ("since", "until")]
        + [{"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json", "csv", "xml"]}}],
        "responses": {"200": {"description": "The payments", "content": {
            "application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}},
            "application/xml": {"schema": {"type": "string"}}}}, **problems(*COMMON_ERRORS)}},
                         "post": _op("postPayment", "Record a payment and share it out over the customer's invoices "
                                     "(Billing or a Manager); orders whose invoices are all paid close",
                                     ok="201", params=[IDEMPOTENCY_KEY], body="a payment", schema="PaymentInput")},
    # -- the catalog (webapp/api/catalog.py)
    "/api/v1/products": {"get": _op("listProducts", "Products by SKU, paged by key; ?q= searches SKUs and words",
                                    params=[AFTER, LIMIT_200, {"name": "q", "in": "query", "required": False,
                                                               "schema": {"type": "string"}}])},
    "/api/v1/products/{sku}": {"get": _op("getProduct", "One product", params=[SKU], errors=(404,)),
                               "put": _op("putProduct", "Upsert a product by SKU (idempotent; the [Catalog] role or a Manager)",
                                          ok=("200", "201"), params=[SKU], body="product fields", schema="ProductInput",
                                          errors=(409,))},
    "/api/v1/products/import": {"post": _op("importProducts", "Upsert many products (JSON array or CSV): good rows in, bad rows reported",
                                            body="a JSON array of products (or text/csv)",
                                            content=_feed("products", {"example": {"sku": "WID-100", "description": "Widget",
                                                                                   "price_eur": "4.50"}}))},
    "/api/v1/pricelists": {"get": _op("listPriceLists", "Every price list")},
    "/api/v1/pricelists/{ref}": {"put": _op("putPriceList", "Create or replace a price list (the [Catalog] role or a Manager)",
                                            ok=("200", "201"), params=[_path("ref", "Price list id, e.g. GOLD")],
                                            body="a price list", schema="PriceListInput", errors=(409,))},
    "/api/v1/orders/quote": {"post": _op("quoteOrder", "Price an order without writing it: lines, tax, totals, and why it would need price approval",
                                         body="an order as in createOrder", schema="OrderInput", errors=(404,))},
    # -- a partner's own orders, in the partner's own database (webapp/partners.py)
    "/api/v1/partner/orders": {"get": _op("partnerOrders", "The partner's orders (partner accounts only)"),
                               "post": _op("partnerPlace", "Place an order at the partner (it replicates to the centre)", ok="201",
                                           params=[IDEMPOTENCY_KEY],
                                           body="an order as in createOrder")},
    "/api/v1/partner/orders/{number}": {"get": _op("partnerOrder", "One of the partner's orders", params=[NUMBER], errors=(404,))},
})

UNAUTHENTICATED_PATHS: dict = {
    "/api/openapi.json": {
        "get": {"operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "The OpenAPI document",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}},
    },
}


@functools.cache
def _document() -> dict:
    paths = {}
    for p, ops in PATHS.items():
        paths[p] = {m: {**op, "security": AUTH} for m, op in ops.items()}
    paths.update(UNAUTHENTICATED_PATHS)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Order Desk API", "version": VERSION,
                 "description": "Orders in the style of Lotus Notes, on CouchDB. Staff sign in with HTTP Basic "
                                "(directory credentials); integrations with a Bearer API token a Manager issues. "
                                "Errors are JSON problem documents. Every create takes an Idempotency-Key."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"},
                                "bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token: odt_<id>_<secret>"}},
        },
    }


def document() -> dict:
    """A copy of the document (callers may not change the cached one)."""
    return copy.deepcopy(_document())
