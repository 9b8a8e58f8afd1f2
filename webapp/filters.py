"""Jinja filters for view columns and the order page."""
from __future__ import annotations

from oms.core import rules
from oms.core.display import money, when


# History entries that are not workflow steps, in the desk's words.
ACTION_WORDS = {"create": "Created", "edit": "Edited", "import": "Imported"}


def action_title(action):
    """A history entry's action as the desk says it: the step's title ("hold_credit" -> "Put on
    credit hold"), never the rulebook's internal name."""
    t = next((t for t in rules.workflow()["transitions"] if t["name"] == action), None)
    if t is not None:
        return t["title"]
    if isinstance(action, str) and action.startswith("notes: "):
        return action[len("notes: "):]
    return ACTION_WORDS.get(action, str(action).replace("_", " ").capitalize())


def state_open(status):
    return bool(rules.workflow()["states"].get(status, {}).get("open"))


def status_title(status):
    return rules.workflow()["states"].get(status, {}).get("title", status)


def amounts(values: dict | None) -> str:
    """Values per currency (cents), as a view's category sums write them: "EUR 1,234.50 · GBP 80.00"."""
    return " · ".join(f"{cur} {money(cents)}".strip() for cur, cents in sorted((values or {}).items()))


def cell(row_value: dict, column: dict):
    v = row_value.get(column["field"])
    fmt = column.get("format")
    if fmt == "money":
        return money(v)
    if fmt == "datetime":
        return when(v)
    if fmt == "status":
        return status_title(v)
    return "" if v is None else v


def init_app(app) -> None:
    app.add_template_filter(money)
    app.add_template_filter(amounts)
    app.add_template_filter(when)
    app.add_template_filter(status_title)
    app.add_template_filter(action_title)
    app.add_template_filter(state_open)
    app.add_template_global(cell)
