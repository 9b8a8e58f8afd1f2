"""Administration: the ACL page (Notes: File > Database > Access Control). Managers edit the ACL
document; validate_doc_update refuses anyone else's write, whatever the client."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from oms.core import rules
from oms.core.errors import Forbidden, InvalidInput

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


@bp.route("/acl", methods=["GET", "POST"])
@login_required
def acl():
    access = require_manager("open the ACL")
    db = services.person_db(access)
    doc, error = db.get("acl"), None
    if request.method == "POST":
        try:
            if request.form.get("rev") != doc["_rev"]:
                raise InvalidInput("someone changed the ACL since you opened it; reload and try again")
            doc["entries"] = form_to_entries(request.form)
            db.save(doc)  # as the Manager: the server checks the level again
            services.forget_acl()
            return redirect(url_for("admin.acl"), 303)
        except (InvalidInput, Forbidden) as exc:   # (Forbidden: the server's own reason, e.g. no Manager left)
            error = exc.reason
    return render_template("acl.html", doc=doc, error=error, levels=rules.acl()["levels"],
                           titles=rules.acl()["level_titles"], roles=rules.acl()["roles"],
                           types=ENTRY_TYPES), (400 if error else 200)
