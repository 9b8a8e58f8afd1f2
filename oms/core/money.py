"""Money and quantities as the documents hold them: amounts in whole cents (no floats in a
total), counts as whole numbers; read from what a person or a client sends, with a sentence
that names the field when it is not one."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import InvalidInput
from .inputs import PLAIN_AMOUNT, PLAIN_WHOLE


def to_cents(value, where: str, maximum: int = 10_000_000) -> int:
    """'12.50', 12.5 or 12 -> 1250; refuses negatives, more than 2 decimals, amounts above
    `maximum` and non-numbers."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput(f"{where} is required, e.g. \"12.50\"")
    text = str(value).strip()
    # Decimal() also reads other scripts' digits ("١٢") and underscores ("1_000"): an amount
    # typed or sent is plain digits with an optional point, as on an invoice.
    if isinstance(value, str) and not PLAIN_AMOUNT.fullmatch(text):
        raise InvalidInput(f"{where} must be an amount like \"12.50\", not {value!r}")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{where} must be an amount like \"12.50\", not {value!r}") from None
    # Bound before quantize: a huge value (1e26) would overflow Decimal's precision there.
    if not d.is_finite() or d < 0 or d > maximum or d != d.quantize(Decimal("0.01")):
        raise InvalidInput(f"{where} must be an amount of 0 or more (at most {maximum:,}) with at most 2 decimals, "
                           f"like \"12.50\", not {value!r}")
    return int(d * 100)


def to_qty(value, where: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{where} must be a whole number from 1, e.g. 3")
    try:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        if isinstance(value, str) and not PLAIN_WHOLE.fullmatch(value.strip()):
            raise ValueError
        q = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where} must be a whole number from 1, e.g. 3, not {value!r}") from None
    return q


def format_cents(cents: int | None) -> str:
    return "" if cents is None else f"{cents / 100:,.2f}"
