"""Small checks of values that come from a client, shared by the domain services: text is text
(a number or an object is refused with a sentence, never turned into its repr and stored), and
JSON is the standard's JSON (no NaN or Infinity, which CouchDB cannot store), a count is a whole
number."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import Conflict, InvalidInput

# Numbers from a client are ASCII digits: int() and Decimal() also read other scripts' digits
# ("١٢") and underscores ("1_000"), which no invoice or spreadsheet would show back the same.
PLAIN_WHOLE = re.compile(r"[+-]?[0-9]+")
PLAIN_AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def optional_text(value, where: str, max_length: int | None = None, example: str | None = None) -> str | None:
    """None or blank -> None; text -> stripped; anything else -> InvalidInput."""
    if value is None:
        return None
    if not isinstance(value, str):
        like = f' like "{example}"' if example else ""
        raise InvalidInput(f"{where} must be text{like}, not {value!r}"[:300])
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(f"{where} may hold at most {max_length} characters")
    return value or None


def no_constants(name: str):
    """json.loads(..., parse_constant=no_constants): NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON number")


def whole_number(value, where: str, low: int = 0) -> int:
    """A count from a feed or an import file ("12", 12): a whole number from `low`, or InvalidInput
    with a sentence that names the field."""
    if isinstance(value, bool):
        raise InvalidInput(f"{where} must be a whole number from {low}")
    try:
        text = str(value).strip()
        if not PLAIN_WHOLE.fullmatch(text):
            raise ValueError
        n = int(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where} must be a whole number from {low}, not {value!r}") from None
    if n < low:
        raise InvalidInput(f"{where} must be a whole number from {low}, not {n}")
    return n


@dataclass
class FeedReport:
    """What a feed of upserts did (customers, products): counts, and each bad row with its number
    and reason."""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)   # [{row, id, reason}]

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": self.errors}


def upsert_rows(rows, upsert, row_id, id_field: str, progress=None) -> FeedReport:
    """A feed applied row by row: `upsert(row_id(row), row)` -> (outcome, doc); good rows go in,
    each bad row (InvalidInput, or a document that kept changing) is reported with its number
    and reason; the same feed again changes nothing."""
    report = FeedReport()
    for n, row in enumerate(rows, start=1):
        try:
            outcome, _ = upsert(row_id(row), row)
            setattr(report, outcome, getattr(report, outcome) + 1)
        except (InvalidInput, Conflict) as exc:
            report.errors.append({"row": n, "id": str(row.get(id_field, "")) if isinstance(row, dict) else "",
                                  "reason": exc.reason})
        if progress and n % 100 == 0:
            progress(n)
    return report
