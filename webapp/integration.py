"""The integration pieces of the web app, set up from one line in create_app: the rest of /api/v1
(api_orders), /api/openapi.json, API tokens (Bearer), the import/export pages, notifications,
webhooks and the agents' log; and the error mapping for idempotency and refused files."""
from __future__ import annotations

from flask import current_app

from oms.idempotency import KeyMismatch
from oms.importing import ImportContext, ImportRefused

from . import api_orders, services  # noqa: F401  (api_orders adds its routes to api.bp on import)
from .errors import problem


def init_app(app) -> None:
    from . import automation, notifications, tokens, transfer
    app.register_blueprint(api_orders.docs_bp)
    app.register_blueprint(automation.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(transfer.bp)
    app.register_blueprint(notifications.bp)
    # Other ways into the API besides staff Basic auth: each returns None (not mine), an Access
    # or a refusal response. The partner accounts (replication) append theirs here.
    app.extensions.setdefault("api_authenticators", []).append(tokens.bearer_authenticator)
    app.extensions["mirrored_tokens"] = set()

    @app.errorhandler(KeyMismatch)
    def key_mismatch(exc):
        return problem(422, exc.reason)

    @app.errorhandler(ImportRefused)
    def refused(exc):
        return problem(400, exc.reason)


def import_context(access, progress=None) -> ImportContext:
    return ImportContext(db=services.person_db(access), access=access, numbers=current_app.extensions["numbers"],
                         progress=progress, directory=services.directory())
