"""Small checks of values that come from a client, shared by the domain services: text is text
(a number or an object is refused with a sentence, never turned into its repr and stored), and
JSON is the standard's JSON (no NaN or Infinity, which CouchDB cannot store), a count is a whole
number."""
from __future__ import annotations

import re

from .errors import InvalidInput

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
