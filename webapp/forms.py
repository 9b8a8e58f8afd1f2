"""The order entry form read as the domain's input, and the domain's answers placed back on it:
rows of lines (line-N-sku, -qty, -unit_price, -description), amounts typed the way the
person's locale writes numbers, and each message of InvalidInput.fields beside its field.
Knows no Flask: the routes hand in the form and what the request says about the locale."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

LINE_FIELDS = ("sku", "description", "qty", "unit_price")
LINE_KEY = re.compile(r"line-(\d{1,4})-(sku|description|qty|unit_price)")
# The order's own fields the entry form carries, besides the customer and its lines.
ORDER_FIELDS = ("ship_to", "customer_po", "requested_date", "promised_date", "shipping", "notes", "currency")
# Fields a message may stand beside; any other key of InvalidInput.fields shows at the top.
MESSAGE_FIELDS = frozenset(("customer", "lines", "status", *ORDER_FIELDS))

# Languages that write a decimal comma (CLDR), by primary language subtag; the locales in
# POINT_LOCALES write a point although their language writes a comma elsewhere.
COMMA_LANGUAGES = frozenset(
    "af az be bg bs ca cs da de el es et eu fi fo fr gl hr hu hy id is it ka kk ky lb lt lv mk mn nb nl nn "
    "no pl pt ro ru sk sl sq sr sv tr uk uz vi".split())
POINT_LOCALES = frozenset(("de-ch", "de-li", "it-ch", "es-mx", "es-us", "es-419", "es-pr"))


def decimal_comma(language_tag: str | None) -> bool:
    """Whether people of this locale (an Accept-Language tag such as "de-DE") write 4,20 for
    four euros twenty; "en", an unknown tag or none: a point."""
    tag = (language_tag or "").strip().lower().replace("_", "-")
    if not tag or tag == "*":
        return False
    if tag in POINT_LOCALES or "-".join(tag.split("-")[:2]) in POINT_LOCALES:
        return False
    return tag.split("-")[0] in COMMA_LANGUAGES


# A comma locale groups thousands with a point, a space (also the no-break kinds) or an
# apostrophe; one kind throughout (the backreference), three digits per group.
_COMMA_AMOUNT = re.compile(r"([+-]?)(\d{1,3}(?:([.\u00a0\u202f '\u2019])\d{3})(?:\3\d{3})*|\d*),(\d*)")
_POINT_AMOUNT = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+)\.(\d*)")


def plain_amount(text: str | None, comma: bool) -> str:
    """An amount as typed, written the way the domain reads it ("1234.50").

    With a decimal comma: "4,20" -> "4.20", "1.234,50" -> "1234.50", "1 234,5" -> "1234.5".
    With a decimal point: "1,234.50" -> "1234.50". Anything else comes back as typed (stripped),
    so the domain refuses it in its own words beside the field: "4,20" where the locale writes
    a point, and "1.234" or "4,200" alone, which read one way in one locale and another way in
    the other, are never guessed at."""
    typed = (text or "").strip()
    if comma:
        m = _COMMA_AMOUNT.fullmatch(typed)
        if m and (m[2] or m[4]):
            whole = re.sub(r"[^0-9]", "", m[2]) or "0"
            return f"{m[1]}{whole}.{m[4]}" if m[4] else f"{m[1]}{whole}"
        return typed
    m = _POINT_AMOUNT.fullmatch(typed)
    if m:
        whole = m[2].replace(",", "")
        return f"{m[1]}{whole}.{m[3]}" if m[3] else f"{m[1]}{whole}"
    return typed


def blank_row() -> dict:
    return dict.fromkeys(LINE_FIELDS, "")


def is_filled(row: dict) -> bool:
    return any(row.get(f) for f in LINE_FIELDS)


@dataclass
class EntryForm:
    """What the order entry form holds: its rows in the order they stand on the page (blank
    ones too), the order's fields as typed, and how this person writes decimals."""
    rows: list[dict] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    comma: bool = False
    status: str = "draft"

    @classmethod
    def read(cls, form, comma: bool = False) -> "EntryForm":
        found: dict[int, dict] = {}
        for key in form.keys():
            m = LINE_KEY.fullmatch(key)
            if m:
                found.setdefault(int(m[1]), blank_row())[m[2]] = (form.get(key) or "").strip()
        values = {f: (form.get(f) or "").strip() for f in ("customer", "customer_q", *ORDER_FIELDS)}
        # Place order (action=submit) submits; the partner form and older clients say submit_now.
        submit = form.get("action") == "submit" or bool(form.get("submit_now"))
        return cls([found[i] for i in sorted(found)], values, comma, "submitted" if submit else "draft")

    def filled(self) -> list[int]:
        """The indexes of the rows that hold anything: the order's lines, in this order."""
        return [i for i, row in enumerate(self.rows) if is_filled(row)]

    def compact(self, at_least: int = 0) -> "EntryForm":
        """The filled rows first, then blank ones up to `at_least` rows: so that the domain's
        line N is the form's row N when the page is drawn again."""
        rows = [dict(self.rows[i]) for i in self.filled()]
        rows += [blank_row() for _ in range(at_least - len(rows))]
        return EntryForm(rows, dict(self.values), self.comma, self.status)

    def to_input(self) -> dict:
        """The same input the JSON API takes (oms.ordering.orders.new_order)."""
        lines = []
        for i in self.filled():
            row = self.rows[i]
            lines.append({"sku": row["sku"], "qty": row["qty"],
                          "unit_price": plain_amount(row["unit_price"], self.comma),
                          "description": row["description"]})
        data = {"customer": self.values.get("customer", ""), "lines": lines, "status": self.status}
        for f in ORDER_FIELDS:
            if self.values.get(f):
                data[f] = plain_amount(self.values[f], self.comma) if f == "shipping" else self.values[f]
        return data

    def as_form_values(self) -> dict:
        """The rows as line-N-* form values, numbered as they stand now (for the availability panel)."""
        out = dict(self.values)
        for i, row in enumerate(self.rows):
            out.update({f"line-{i}-{f}": row[f] for f in LINE_FIELDS})
        return out


def form_to_input(form, decimal_comma: bool = False) -> dict:
    """The order form's fields (line-N-sku...) as the same input the API takes. Used by the new
    order, amend and partner forms; blank rows are left out."""
    return EntryForm.read(form, decimal_comma).to_input()


_LINE_MESSAGE_KEY = re.compile(r"lines\[(\d+)\](?:\.(\w+))?")


def messages_by_field(reason: str, fields: dict | None, rows: list[int]) -> tuple[dict[str, str], list[str]]:
    """InvalidInput (reason, fields) as (messages by form field, messages for the top of the page).

    `rows`: the form row of each line sent (EntryForm.filled()), since the domain numbers the
    lines it was sent and blank rows were left out: "lines[1].qty" of rows [0, 3] is beside
    line-3-qty, and its "Line 2: ..." is said as "Line 4: ..."."""
    if not fields:
        return {}, [reason]
    beside, top = {}, []
    for key, message in fields.items():
        m = _LINE_MESSAGE_KEY.fullmatch(key)
        if m and int(m[1]) < len(rows):
            i, row = int(m[1]), rows[int(m[1])]
            message = renumbered(message, i + 1, row + 1)
            where = f"line-{row}-{m[2]}" if m[2] in LINE_FIELDS else f"line-{row}"
            beside[where] = message
        elif key in MESSAGE_FIELDS:
            beside[key] = message
        else:
            top.append(message)
    return beside, top


def renumbered(message: str, sent: int, shown: int) -> str:
    """A domain message about line `sent`, said of the form's row `shown`."""
    prefix = f"Line {sent}"
    if sent == shown or not message.startswith(prefix) or message[len(prefix):][:1].isdigit():
        return message
    return f"Line {shown}{message[len(prefix):]}"


def tax_rate_words(rate_bp: int | None) -> str:
    """1900 -> "19%", 550 -> "5.5%"."""
    if rate_bp is None:
        return ""
    return f"{rate_bp / 100:g}%"


# -- forms with a row per line of a document (credit notes, returns): "qty-3", "reason-3" ...

def line_rows(form, lines: list[dict], fields: tuple[str, ...] = ()) -> list[dict]:
    """The lines the form names a quantity for: {line, qty, and each of `fields`}, in line order."""
    rows = []
    for l in lines:
        qty = (form.get(f"qty-{l['line']}") or "").strip()
        if qty not in ("", "0"):
            rows.append({"line": l["line"], "qty": qty, **{f: form.get(f"{f}-{l['line']}") for f in fields}})
    return rows


def line_field(key: str, rows: list[dict]) -> str:
    """The form's field for a problem the service names of row i: "lines[1].qty" -> "qty-<its line>"."""
    if key.startswith("lines[") and "]" in key:
        i, name = int(key[6:key.index("]")]), (key.split("].", 1)[1] if "]." in key else "qty")
        return f"{name}-{rows[i]['line']}" if i < len(rows) else "lines"
    return key
