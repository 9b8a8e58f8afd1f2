"""Order Desk web app: Flask application factory (flaskr style)."""
from __future__ import annotations

import os

from flask import Flask

from oms.core.config import Settings


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    """`settings` (or the environment) name the CouchDB and LDAP servers; `test_config` overrides
    Flask config keys."""
    app = Flask(__name__)
    from .api.support import StrictJSONProvider
    app.json = StrictJSONProvider(app)  # no NaN/Infinity in request bodies
    settings = settings or Settings.from_env()
    secret = settings.secret_key or os.environ.get("SECRET_KEY")
    if not secret:
        raise RuntimeError("SECRET_KEY is not set (oms serve --demo generates one)")
    app.config.from_mapping(
        SECRET_KEY=secret,
        OMS_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("OMS_SECURE_COOKIES", "0") == "1",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    if test_config:
        app.config.from_mapping(test_config)

    from . import admin, auth, automation, customers, desk, errors, filters, notifications, orders, security
    from . import services, stock, tokens, transfer
    from .api import orders as api_orders  # the rest of /api/v1, and /api/openapi.json
    from .api import v1 as api
    from .api import wms  # noqa: F401 (adds the CRM and WMS routes to api.bp)
    from .api import catalog as api_catalog  # noqa: F401 (adds the catalog routes and the quote to api.bp)
    from . import billing, catalog, documents, printing, review
    from .api import billing as api_billing  # noqa: F401 (adds invoices and payments to api.bp)
    from .api import review as api_review  # noqa: F401 (adds the performance review to api.bp)
    services.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(stock.bp)
    app.register_blueprint(customers.bp)
    app.register_blueprint(catalog.bp)           # products and price lists
    app.register_blueprint(billing.bp)           # invoices, credit notes, payments, returns
    app.register_blueprint(documents.bp)         # confirmation, packing slip, pick list
    app.register_blueprint(printing.bp)          # the printed documents' stylesheet
    app.register_blueprint(api_orders.docs_bp)   # /api/openapi.json
    app.register_blueprint(automation.bp)        # webhooks, the agents' log
    app.register_blueprint(tokens.bp)
    app.register_blueprint(transfer.bp)          # the import and export pages
    app.register_blueprint(notifications.bp)
    app.register_blueprint(review.bp)             # the performance Review
    # Other ways into the API besides staff Basic auth: each returns None (not mine), an Access
    # or a refusal response. The partner accounts (replication) append theirs here.
    app.extensions.setdefault("api_authenticators", []).append(tokens.bearer_authenticator)
    app.extensions["mirrored_tokens"] = set()
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    security.csrf.exempt(api.bp)  # the API takes HTTP Basic only, never the session cookie
    from . import partners, replication  # partner pages and API, replication pages
    partners.init_app(app)
    replication.init_app(app)
    return app
