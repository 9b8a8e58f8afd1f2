"""Sign in with the staff directory (LDAP), sign out, and the guards for pages and the API."""
from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, request, session, url_for

from oms.core.errors import InvalidInput
from oms.identity.acl import Access
from oms.identity.directory import AuthError

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


def _throttle():
    return services.current_app_ext("throttle")


def sign_in_wait(name: str) -> int:
    """Seconds this name must wait before trying again from this request's address (0: go on).
    Every way in asks it first: the staff's and the partners' sign-in pages and Basic auth."""
    return _throttle().retry_after(_throttle().keys(name, request.remote_addr))


def sign_in_outcome(name: str, ok: bool) -> None:
    keys = _throttle().keys(name, request.remote_addr)
    (_throttle().succeeded if ok else _throttle().failed)(keys)


def too_many(wait: int, page=None):
    """The answer to a sign-in that must wait: 429 with Retry-After, as a page or a problem."""
    if page is None:
        resp = make_response(problem(429, f"Too many failed sign-ins; retry in {wait} s."))
    else:
        resp = make_response(page, 429)
    resp.headers["Retry-After"] = str(wait)
    return resp


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        wait = sign_in_wait(name)
        if wait:
            return too_many(wait, render_template("login.html", username=name, error=wait_sentence(wait)))
        try:
            person = services.directory().authenticate(name, request.form.get("password", ""))
            access = services.sign_in(person)
            if access.level_index == 0:
                raise InvalidInput("You have No Access to the order database; ask a Manager.")
        except AuthError as exc:
            if getattr(exc, "code", "") != "unavailable":
                sign_in_outcome(name, False)
            error = MESSAGES.get(getattr(exc, "code", ""), getattr(exc, "reason", str(exc)))
        except InvalidInput as exc:
            error = exc.reason
        else:
            sign_in_outcome(name, True)
            services.start_session(person, access)
            kept = [(k[len("keep:"):], v) for k, v in request.form.items(multi=True) if k.startswith("keep:")]
            if kept and request.args.get("next") == url_for("orders.new"):
                from .entry import restored_entry   # the order typed before the session ended
                return restored_entry(kept)
            return redirect(_same_site(request.args.get("next", "")) or url_for("desk.home"), 303)
        kept = [(k[len("keep:"):], v) for k, v in request.form.items(multi=True) if k.startswith("keep:")]
        return render_template("login.html", error=error, username=name, kept=kept), 401
    return render_template("login.html", error=None, username="")


def wait_sentence(wait: int) -> str:
    return (f"Too many failed sign-ins; try again in {wait} seconds." if wait < 120
            else f"Too many failed sign-ins; try again in {wait // 60} minutes.")


def _same_site(path: str) -> str | None:
    """Only a path on this site: never an open redirect. Browsers read /\\host as //host and drop
    tabs and line breaks from a URL (so "/\\t/host" is //host too), and a line break in a header
    is refused by the server, so anything but printable ASCII after one leading slash is refused."""
    if (path.startswith("/") and not path.startswith("//") and "\\" not in path
            and ":" not in path.split("?")[0] and path.isascii() and path.isprintable() and " " not in path):
        return path
    return None


@bp.post("/logout")
def logout():
    services.end_session()
    return redirect(url_for("auth.login"), 303)


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if services.current_access() is None:
            if request.headers.get("HX-Request"):
                return problem(401, "Your session ended; sign in again.")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def require_manager(what: str) -> Access:
    """The signed-in person's access, or a 403 saying who may `what` (pages only Managers open)."""
    access = services.current_access()
    if not access.at_least("manager"):
        abort(403, f"As {access.level_title} you may not {what}; Managers may.")
    return access


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
            wait = sign_in_wait(auth.username)
            if wait:
                return too_many(wait)
            try:
                person = services.directory().authenticate(auth.username, auth.password or "")
            except AuthError as exc:
                code = getattr(exc, "code", "")
                if code == "unavailable":
                    return problem(503, MESSAGES["unavailable"])
                sign_in_outcome(auth.username, False)
                return _challenge(MESSAGES.get(code, "Sign-in refused."))
            sign_in_outcome(auth.username, True)
            access = services.sign_in(person)
            cache.put(key, access)
        if access.level_index == 0:
            return problem(403, "You have No Access to the order database.")
        g.access = access
        return view(*args, **kwargs)
    return wrapped


def _challenge(detail: str):
    resp = make_response(problem(401, detail))
    resp.headers["WWW-Authenticate"] = 'Basic realm="Order Desk", charset="UTF-8"'
    return resp
