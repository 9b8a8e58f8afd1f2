"""Domain errors -> HTTP. Pages get a readable page, /api gets a JSON problem document
(status, title, detail); nobody ever sees a stack trace."""
from __future__ import annotations

import logging

from flask import jsonify, make_response, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from oms.core.errors import InvalidInput
from oms.interchange.records import ImportRefused
from oms.store.couch import CouchError, Unauthorized
from oms.store.idempotency import KeyMismatch

log = logging.getLogger(__name__)

# An order form kept through a new sign-in: its fields, at most this many (the form's own limit of
# lines times its fields, with room to spare).
KEEP_MOST = 5000
TITLES = {400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Too large", 415: "Unsupported media type",
          422: "Unprocessable", 429: "Too many requests", 500: "Server error", 503: "Service unavailable"}


def problem(status: int, detail: str, **extra):
    """The response for an error, shaped for who asked (API client or person)."""
    title = TITLES.get(status, "Error")
    if request.path.startswith("/api/"):
        resp = jsonify({"type": "about:blank", "status": status, "title": title, "detail": detail, **extra})
        resp.status_code = status
        resp.mimetype = "application/problem+json"
    else:
        template = "_error_fragment.html" if request.headers.get("HX-Request") else "error.html"
        resp = render_template(template, status=status, title=title, detail=detail), status
    if status == 503:
        resp = make_response(resp)
        resp.headers["Retry-After"] = "5"
    return resp


def init_app(app) -> None:
    @app.errorhandler(InvalidInput)
    def invalid(exc):
        # Every problem by the field it belongs to, so a client can show each beside its field.
        extra = {"errors": [{"field": k, "message": v} for k, v in exc.fields.items()]} if exc.fields else {}
        return problem(400, exc.reason, **extra)

    @app.errorhandler(KeyMismatch)
    def key_mismatch(exc):
        return problem(422, exc.reason)

    @app.errorhandler(ImportRefused)
    def refused(exc):
        return problem(400, exc.reason)

    @app.errorhandler(CSRFError)
    def csrf(exc):
        if (request.method == "POST" and request.path == url_for("orders.new") and not session.get("user")
                and not request.headers.get("HX-Request")):
            # The session ended while the order was being typed: sign in again, keep what was typed.
            # (With a session alive, a missing token is a forged request: refused below.)
            kept = [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"][:KEEP_MOST]
            return render_template("login.html", error=None, username="", kept=kept, next_path=request.path), 401
        return problem(400, "The form expired or was not sent by this site (CSRF check failed); reload and try again.")

    @app.errorhandler(CouchError)
    def couch(exc):
        if isinstance(exc, Unauthorized):
            # Our mirrored CouchDB identity was refused: the person must sign in again.
            return problem(401, "Your session is no longer valid; sign in again.")
        if exc.status >= 500:
            log.warning("database unavailable: %s", exc.reason)
            return problem(503, "The order database is not reachable right now; try again in a moment.")
        return problem(exc.status, exc.reason)

    @app.errorhandler(HTTPException)
    def http(exc):
        return problem(exc.code or 500, exc.description or TITLES.get(exc.code, "Error"))

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(500, "Something went wrong on our side; it has been logged.")
