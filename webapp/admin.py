"""Administration: the ACL page (Notes: File > Database > Access Control). Managers edit the ACL
document; validate_doc_update refuses anyone else's write, whatever the client."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from oms.core import rules
from oms.core.errors import Forbidden, InvalidInput
from oms.identity import acl as acl_rules
from oms.identity.acl import Access

from . import services
from .auth import login_required, require_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")

ENTRY_TYPES = ("person", "group", "default")


def form_to_entries(form) -> list[dict]:
    levels, known_roles = rules.acl()["levels"], rules.acl()["roles"]
    entries, i = [], 0
    while f"name-{i}" in form:
        name = form.get(f"name-{i}", "").strip()
        if name and not form.get(f"delete-{i}"):
            kind, level = form.get(f"type-{i}", "group"), form.get(f"level-{i}", "")
            roles = [r.strip() for r in form.get(f"roles-{i}", "").split(",") if r.strip()]
            if kind not in ENTRY_TYPES:
                raise InvalidInput(f"entry {name}: type must be one of {', '.join(ENTRY_TYPES)}")
            if level not in levels:
                raise InvalidInput(f"entry {name}: level must be one of {', '.join(levels)}")
            unknown = [r for r in roles if r not in known_roles]
            if unknown:
                raise InvalidInput(f"entry {name}: unknown role {unknown[0]}; roles are {', '.join(known_roles)}")
            entries.append({"name": name, "type": kind, "level": level, "roles": roles})
        i += 1
    if not any(e["type"] == "default" for e in entries):
        raise InvalidInput("the ACL needs a -Default- entry (type default)")
    return entries


def _said(access: Access) -> str:
    title = rules.acl()["level_titles"][access.level]
    return f"{title} with {', '.join(access.roles)}" if access.roles else f"{title} with no roles"


def own_change(name: str, groups, before: list[dict], after: list[dict]) -> tuple[str, str] | None:
    """(what the person asks to confirm, the answer that confirms exactly this change) when the
    new entries change the signed-in person's own access; None when they do not."""
    old, new = acl_rules.resolve(before, name, groups), acl_rules.resolve(after, name, groups)
    if (old.level, set(old.roles)) == (new.level, set(new.roles)):
        return None
    sentence = f"This changes your own access from {_said(old)} to {_said(new)}."
    if not new.at_least("manager"):
        sentence += " You will no longer be able to open this page or change the ACL."
    return sentence, f"{new.level}|{','.join(sorted(new.roles))}"


@bp.route("/acl", methods=["GET", "POST"])
@login_required
def acl():
    access = require_manager("open the ACL")
    db = services.person_db(access)
    doc, error, confirm = db.get("acl"), None, None
    if request.method == "POST":
        try:
            if request.form.get("rev") != doc["_rev"]:
                raise InvalidInput("someone changed the ACL since you opened it; reload and try again")
            before, entries = doc["entries"], form_to_entries(request.form)
            doc["entries"] = entries   # what was typed stays on the page, whatever is said of it
            problem = acl_rules.keeps_required_level(entries)
            if problem:
                raise InvalidInput(problem)
            groups = (session.get("user") or {}).get("groups", ())
            change = own_change(access.name, groups, before, entries)
            if change and request.form.get("confirm_own") != change[1]:
                confirm = change   # asked first; nothing is written until the person says yes
            else:
                db.save(doc)  # as the Manager: the server checks the level again
                services.forget_acl()
                if change and not acl_rules.resolve(entries, access.name, groups).at_least("manager"):
                    flash("The ACL is saved. Your own access changed: the ACL page is a Manager's.")
                    return redirect(url_for("desk.home"), 303)
                return redirect(url_for("admin.acl"), 303)
        except (InvalidInput, Forbidden) as exc:   # (Forbidden: the server's own reason, e.g. no Manager left)
            error = exc.reason
    return render_template("acl.html", doc=doc, error=error, confirm=confirm, levels=rules.acl()["levels"],
                           titles=rules.acl()["level_titles"], roles=rules.acl()["roles"],
                           types=ENTRY_TYPES), (400 if error else 200)
