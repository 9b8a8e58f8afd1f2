"""Sign in with the staff directory (LDAP), sign out, and the guards for pages and the API."""
from __future__ import annotations

import functools

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from oms.acl import Access
from oms.directory import AuthError
from oms.errors import InvalidInput

from . import services
from .errors import problem

bp = Blueprint("auth", __name__)

MESSAGES = {
    "invalid_name": "User names are letters, digits and . _ @ - (at most 64).",
    # The same sentence for both, so the login page does not tell which user names exist.
    "unknown_user": "Wrong user name or password.",
    "wrong_password": "Wrong user name or password.",
    "unavailable": "The staff directory is not reachable; try again shortly.",
}


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        try:
            person = services.directory().authenticate(name, request.form.get("password", ""))
            access = services.sign_in(person)
            if access.level_index == 0:
                raise InvalidInput("You have No Access to the order database; ask a Manager.")
        except AuthError as exc:
            error = MESSAGES.get(getattr(exc, "code", ""), getattr(exc, "reason", str(exc)))
        except InvalidInput as exc:
            error = exc.reason
        else:
            session.clear()
            session["user"] = {"name": access.name, "display": person.display_name,
                               "level": access.level, "roles": list(access.roles)}
            nxt = request.args.get("next", "")
            # Only same-site paths: never an open redirect.
            return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for("desk.home"), 303)
        return render_template("login.html", error=error, username=name), 401
    return render_template("login.html", error=None, username="")


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"), 303)


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if services.current_access() is None:
            if request.headers.get("HX-Request"):
                resp = problem(401, "Your session ended; sign in again.")
                return resp
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def api_auth_required(view):
    """HTTP Basic with the staff directory credentials; a verified pair is cached for a minute."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        # Other ways in (API tokens, partner accounts) register in app.extensions["api_authenticators"]:
        # each returns None (not its kind of credentials), an Access, or a refusal response.
        for authenticate in current_app.extensions.get("api_authenticators", ()):
            result = authenticate(request)
            if result is None:
                continue
            if not isinstance(result, Access):
                return result
            if result.level_index == 0:
                return problem(403, "This client has No Access to the order database.")
            g.access = result
            return view(*args, **kwargs)
        auth = request.authorization
        if not auth or auth.type != "basic" or not auth.username:
            return _challenge("Send HTTP Basic credentials of the staff directory, or an API token as Bearer.")
        cache = services.current_app_ext("api_auth_cache")
        key = cache.key(auth.username, auth.password or "")
        access = cache.get(key)
        if access is None:
            try:
                person = services.directory().authenticate(auth.username, auth.password or "")
            except AuthError as exc:
                code = getattr(exc, "code", "")
                if code == "unavailable":
                    return problem(503, MESSAGES["unavailable"])
                return _challenge(MESSAGES.get(code, "Sign-in refused."))
            access = services.sign_in(person)
            cache.put(key, access)
        if access.level_index == 0:
            return problem(403, "You have No Access to the order database.")
        g.access = access
        return view(*args, **kwargs)
    return wrapped


def _challenge(detail: str):
    resp = problem(401, detail)
    from flask import make_response
    resp = make_response(resp)
    resp.headers["WWW-Authenticate"] = 'Basic realm="Order Desk", charset="UTF-8"'
    return resp
