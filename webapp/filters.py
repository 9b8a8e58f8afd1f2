"""Jinja filters for view columns and the order page."""
from __future__ import annotations

from oms.core import rules
from oms.core.display import money, when


def status_title(status):
    return rules.workflow()["states"].get(status, {}).get("title", status)


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
    app.add_template_filter(when)
    app.add_template_filter(status_title)
    app.add_template_global(cell)
