"""Document shapes from rules/schema.json: the same checks, in the same order and with the same
sentences, as couch_design/oms/lib/schema.js, so the app can answer 400 before writing."""
from __future__ import annotations

import json
import re

from . import rules


def pattern(doc_type: str, path: str) -> re.Pattern:
    """The rulebook's pattern for one field (rules/schema.json), for code that checks a value
    before it is part of a document: one pattern, the one validate_doc_update applies."""
    return re.compile(rules.schema()[doc_type][path]["pattern"])


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
    rules_in_order, all_fine = _compiled(doc_type)
    if all_fine(doc):
        return None
    for rule in rules_in_order:
        problem = rule(doc)
        if problem:
            return problem
    return None


def check_interpreted(doc: dict, doc_type: str) -> str | None:
    """check() read straight from the rulebook, step by step: the reference the compiled rules
    are tested against (tests/unit/test_schema_parity.py)."""
    for path, spec in rules.schema().get(doc_type, {}).items():
        def visit(shown, value, parent_missing, spec=spec):
            if value is None:
                if spec.get("required") and not parent_missing:
                    return _required(shown, spec)
                return None
            return _check_value(shown, value, spec)

        problem = _walk(doc, path, visit)
        if problem:
            return problem
    return None


def _required(shown: str, spec: dict) -> str:
    example = f", e.g. {_js(spec['example'])}" if "example" in spec else ""
    return f"{shown} is required{example}"


# ------------------------------------------------------------------ compiled rules
# Every order the app builds or changes is checked here, an import checks thousands: walking the
# rulebook's paths afresh for each (split, recurse, name each path) cost ~60 us an order. So each
# document type's rules are compiled once, twice over:
# - one generated function that answers only "all fine" (the common case), testing each value
#   inline and walking each array once for all its rules; when it cannot tell, it says no;
# - then, only for a document that is not plainly fine, each path in the rulebook's order, whose
#   values meet the same fast tests and otherwise _check_value: every sentence is the interpreter's.
_COMPILED: dict[tuple[int, str], tuple] = {}


def _compiled(doc_type: str) -> tuple:
    table = rules.schema()
    key = (id(table), doc_type)
    compiled = _COMPILED.get(key)
    if compiled is None:
        specs = table.get(doc_type, {})
        compiled = _COMPILED[key] = ([_compile(path, spec) for path, spec in specs.items()], _generate(specs))
    return compiled


def _condition(spec: dict, v: str, env: dict) -> str:
    """A Python expression true only where _check_value finds nothing wrong with `v`."""
    t, parts = spec["type"], []
    if t in ("integer", "number"):
        parts.append(f"type({v}) is int" if t == "integer" else f"type({v}) in (int, float)")
        if "min" in spec:
            parts.append(f"{v} >= {spec['min']!r}")
        if "max" in spec:
            parts.append(f"{v} <= {spec['max']!r}")
    elif t == "string":
        parts.append(f"type({v}) is str")
        if "min_length" in spec:
            parts.append(f"len({v}) >= {spec['min_length']!r}")
        if "max_length" in spec:
            parts.append(f"len({v}) <= {spec['max_length']!r}")
        if "pattern" in spec:
            name = f"_re{len(env)}"
            env[name] = re.compile(spec["pattern"]).search
            parts.append(f"{name}({v}) is not None")
        if spec.get("enum") == "workflow.states":
            env["_states"] = rules.workflow()["states"]
            parts.append(f"{v} in _states")
    elif t == "array":
        parts.append(f"type({v}) is list")
        if spec.get("min_items") is not None:
            parts.append(f"len({v}) >= {spec['min_items']!r}")
        if "max_items" in spec:
            parts.append(f"len({v}) <= {spec['max_items']!r}")
    elif t == "object":
        parts.append(f"type({v}) is dict")
    else:
        parts.append("False")
    return " and ".join(parts)


def _generate(specs: dict):
    """All of a type's rules as one function doc -> True when none finds a problem (False: maybe
    one does). Paths become a tree: a value's own rule, its fields, its items ("name[]")."""
    tree: dict = {"spec": None, "fields": {}, "items": None}
    for path, spec in specs.items():
        node = tree
        for step in path.split("."):
            name = step[:-2] if step.endswith("[]") else step
            if not name:
                return lambda doc: False   # a path the generator does not model: ask the rules
            node = node["fields"].setdefault(name, {"spec": None, "fields": {}, "items": None})
            if step.endswith("[]"):
                if node["items"] is None:
                    node["items"] = {"spec": None, "fields": {}, "items": None}
                node = node["items"]
        node["spec"] = spec
    env: dict = {}
    lines = ["def all_fine(v0):"]
    count = [0]

    def emit(node: dict, v: str, depth: int) -> None:
        pad = "    " * depth
        spec = node["spec"]
        if spec is not None:
            if spec.get("required"):
                lines.append(f"{pad}if {v} is None: return False")
            lines.append(f"{pad}if {v} is not None and not ({_condition(spec, v, env)}): return False")
        if node["fields"]:
            lines.append(f"{pad}if {v} is not None:")
            lines.append(f"{pad}    if type({v}) is not dict: return False")
            for name, child in node["fields"].items():
                count[0] += 1
                c = f"v{count[0]}"
                lines.append(f"{pad}    {c} = {v}.get({name!r})")
                emit(child, c, depth + 1)
        if node["items"]:
            count[0] += 1
            it = f"v{count[0]}"
            lines.append(f"{pad}if {v} is not None:")
            lines.append(f"{pad}    if type({v}) is not list: return False")
            lines.append(f"{pad}    for {it} in {v}:")
            emit(node["items"], it, depth + 2)
            lines.append(f"{pad}        pass")

    lines.append("    if type(v0) is not dict: return False")
    emit({**tree, "spec": None}, "v0", 1)
    lines.append("    return True")
    exec(compile("\n".join(lines), f"<schema rules {id(specs)}>", "exec"), env)
    return env["all_fine"]


def _fast(spec: dict):
    """_condition as a function of one value."""
    env: dict = {}
    return eval(f"lambda v: {_condition(spec, 'v', env)}", env)


def _compile(path: str, spec: dict):
    """One rulebook path as a function doc -> problem | None, with _walk's meaning."""
    steps = tuple((s[:-2] if s.endswith("[]") else s, s.endswith("[]")) for s in path.split("."))
    n, required, fine = len(steps), bool(spec.get("required")), _fast(spec)

    def shown(indices: tuple) -> str:   # the path as _walk names it, built only for a problem
        out, k = "", 0
        for name, is_array in steps:
            if name:
                out = f"{out}.{name}" if out else name
            if is_array:
                out, k = f"{out}[{indices[k]}]", k + 1
        return out

    def go(node, i: int, indices: tuple):
        if i == n:
            if node is None:
                return _required(shown(indices), spec) if required else None
            return None if fine(node) else _check_value(shown(indices), node, spec)
        if not isinstance(node, (dict, list)):
            return None   # under a missing or scalar parent: the parent's own rule speaks
        name, is_array = steps[i]
        nxt = (node.get(name) if isinstance(node, dict) else None) if name else node
        if not is_array:
            return go(nxt, i + 1, indices)
        if not isinstance(nxt, list):
            return None
        for k, item in enumerate(nxt):
            problem = go(item, i + 1, indices + (k,))
            if problem:
                return problem
        return None

    if not any(is_array for _, is_array in steps):   # the common case: a plain dotted path
        names = tuple(name for name, _ in steps)

        def plain(doc):
            node = doc
            for name in names:
                if not isinstance(node, (dict, list)):
                    return None
                node = (node.get(name) if isinstance(node, dict) else None) if name else node
            if node is None:
                return _required(shown(()), spec) if required else None
            return None if fine(node) else _check_value(shown(()), node, spec)
        return plain
    return lambda doc: go(doc, 0, ())


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
