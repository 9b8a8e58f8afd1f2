"""Document shapes from rules/schema.json: the same checks, in the same order and with the same
sentences, as couch_design/oms/lib/schema.js, so the app can answer 400 before writing."""
from __future__ import annotations

import json
import re

from . import rules


def _kind(v) -> str:
    if v is None:
        return "missing"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _js(v) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _num(v) -> str:
    # Whole numbers only reach here (out-of-range integers); beyond 1e15 Python and JavaScript
    # print floats differently, so neither echoes them.
    return str(int(v)) if abs(v) < 1e15 else "a number that large"


def _describe(spec: dict) -> str:
    t = spec["type"]
    if t == "integer":
        return ("a whole number" + (f" from {spec['min']}" if "min" in spec else "")
                + (f" to {spec['max']}" if "max" in spec else ""))
    if t == "string":
        return "text" + (f" like {_js(spec.get('example', spec.get('pattern')))}" if "pattern" in spec else "")
    return ("an " if t in ("array", "object") else "a ") + t


def _check_value(path: str, value, spec: dict) -> str | None:
    kind, t = _kind(value), spec["type"]
    if not (kind == t or (t == "number" and kind == "integer")):
        example = f", e.g. {_js(spec['example'])}" if "example" in spec and t != "string" else ""
        return f"{path} must be {_describe(spec)}{example}"
    if t in ("integer", "number"):
        if ("min" in spec and value < spec["min"]) or ("max" in spec and value > spec["max"]):
            return f"{path} must be {_describe(spec)}, not {_num(value)}"
    if t == "string":
        if "min_length" in spec and len(value) < spec["min_length"]:
            return f"{path} must not be empty"
        if "max_length" in spec and len(value) > spec["max_length"]:
            return f"{path} must be at most {spec['max_length']} characters"
        if "pattern" in spec and not re.search(spec["pattern"], value):
            return f"{path} must be {_describe(spec)}, not {_js(value)}"
        if spec.get("enum") == "workflow.states" and value not in rules.workflow()["states"]:
            return f"{path} must be one of {', '.join(rules.workflow()['states'])}, not {_js(value)}"
    if t == "array":
        n = spec.get("min_items")
        if n is not None and len(value) < n:
            return f"{path} needs at least {n} item{'s' if n > 1 else ''}"
        if "max_items" in spec and len(value) > spec["max_items"]:
            return f"{path} may hold at most {spec['max_items']} items"
    return None


def _walk(doc, path: str, visit):
    steps = path.split(".")

    def go(node, i, shown):
        if i == len(steps):
            return visit(shown, node, False)
        if not isinstance(node, (dict, list)):
            return visit(shown + "." + ".".join(steps[i:]) if shown else path, None, True)
        step = steps[i]
        is_array = step.endswith("[]")
        name = step[:-2] if is_array else step
        nxt = (node.get(name) if isinstance(node, dict) else None) if name else node
        here = (f"{shown}.{name}" if shown else name) if name else shown
        if not is_array:
            return go(nxt, i + 1, here)
        if not isinstance(nxt, list):
            return None
        for k, item in enumerate(nxt):
            problem = go(item, i + 1, f"{here}[{k}]")
            if problem:
                return problem
        return None

    return go(doc, 0, "")


def check(doc: dict, doc_type: str) -> str | None:
    """The first problem with `doc` as a sentence, or None."""
    for path, spec in rules.schema().get(doc_type, {}).items():
        def visit(shown, value, parent_missing, spec=spec):
            if value is None:
                if spec.get("required") and not parent_missing:
                    example = f", e.g. {_js(spec['example'])}" if "example" in spec else ""
                    return f"{shown} is required{example}"
                return None
            return _check_value(shown, value, spec)

        problem = _walk(doc, path, visit)
        if problem:
            return problem
    return None


def check_order_sums(doc: dict) -> str | None:
    net = qty = 0
    for i, line in enumerate(doc["lines"]):
        want = line["qty"] * line["unit_price_cents"]
        if line["amount_cents"] != want:
            return f"lines[{i}].amount_cents must be qty x unit_price_cents = {want}, not {line['amount_cents']}"
        net += line["amount_cents"]
        qty += line["qty"]
    if doc["totals"]["net_cents"] != net:
        return f"totals.net_cents must be the sum of the lines = {net}, not {doc['totals']['net_cents']}"
    if doc["totals"]["qty"] != qty:
        return f"totals.qty must be the sum of the quantities = {qty}, not {doc['totals']['qty']}"
    if doc.get("_id") != "order:" + doc["number"]:
        return f'_id must be "order:" + number = {_js("order:" + doc["number"])}'
    return None


def order_problem(doc: dict) -> str | None:
    return check(doc, "order") or check_order_sums(doc)
