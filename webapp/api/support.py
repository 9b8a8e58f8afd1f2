"""Small helpers the API handlers share: the JSON body, the Idempotency-Key, the response of a
create (first result or its replay)."""
from __future__ import annotations

import json
import re
from typing import Callable

from flask import jsonify, request
from flask.json.provider import DefaultJSONProvider

from oms.core.errors import InvalidInput
from oms.core.inputs import no_constants
from oms.store.idempotency import Idempotency, Outcome, check_key, fingerprint

# A "\ud800"-style escape in the raw body: only then can the decoded text hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class StrictJSONProvider(DefaultJSONProvider):
    """Request bodies are read as standard JSON that CouchDB can store, or get_json() answers None
    and the handlers say "not valid JSON" (400): Python's json takes NaN and Infinity, which no
    JSON client sends; arrays nested thousands deep exhaust the parser's recursion; and an
    escaped lone surrogate ("\\ud800") decodes to text that cannot be written as UTF-8."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", no_constants)
        try:
            data = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        raw = s if isinstance(s, bytes) else s.encode("utf-8", "surrogatepass")
        if _SURROGATE_ESCAPE.search(raw):
            try:
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text holds a lone surrogate") from None
        return data


def json_body(what: str = "the request") -> dict:
    if not request.is_json:
        raise InvalidInput(f"send {what} as JSON with Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidInput("the body is not valid JSON (standard JSON in UTF-8, nested at most a few hundred deep)")
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return data


def limit_arg(default: int, most: int = 500) -> int:
    """?limit=: a whole number from 1 to `most` (the OpenAPI document says the same), else 400."""
    raw = request.args.get("limit")
    if raw is None:
        return default
    # isascii(): str.isdigit() is also true of "²", which int() refuses (a 500 found by the fuzz).
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= most:
        raise InvalidInput(f"limit must be a whole number from 1 to {most}")
    return int(raw)


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    return None if key is None else check_key(key)


def request_fingerprint(body) -> str:
    return fingerprint(request.method, request.path, body)


def respond(outcome: Outcome):
    """The created resource; a replay of an Idempotency-Key says so in a header."""
    resp = jsonify(outcome.body)
    resp.status_code = outcome.status
    if outcome.location:
        resp.headers["Location"] = outcome.location
    if outcome.replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp


def idempotent(db, person: str, clock, fp: str, make: Callable[[], Outcome], fields: dict | None = None) -> Outcome:
    """Run a create once per Idempotency-Key (when the client sent one): a retry returns the
    first answer, a different body with the same key is a 422. `fields`: see Idempotency."""
    key = idempotency_key()
    if not key:
        return make()
    return Idempotency(db, person, clock, fields).run(key, fp, reserve=lambda: {}, perform=lambda _reserved: make())


def created(body, is_new: bool):
    """An upsert's answer: 201 when it created the document, 200 when it changed or kept one."""
    resp = jsonify(body)
    resp.status_code = 201 if is_new else 200
    return resp
