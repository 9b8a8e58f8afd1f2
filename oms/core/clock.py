"""Time as the agents and imports see it: an injectable clock (a callable returning an aware UTC
datetime), so tests fix time instead of sleeping, and ISO strings as the documents store them."""
from __future__ import annotations

import datetime as dt
from typing import Callable

Clock = Callable[[], dt.datetime]
UTC = dt.timezone.utc


def system() -> dt.datetime:
    return dt.datetime.now(UTC)


def utcnow() -> str:
    """Now, as the documents store it ('2026-11-25T10:00:00Z'): the default clock of the services."""
    return dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fixed(when: str | dt.datetime) -> Clock:
    """A clock stopped at `when` (tests; `oms agents run --now`)."""
    at = parse(when) if isinstance(when, str) else when
    return lambda: at


def iso(when: dt.datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str) -> dt.datetime:
    """'2026-11-25T10:00:00Z' (or with an offset, or a date) -> aware UTC datetime."""
    text = text.strip()
    if len(text) == 10:
        text += "T00:00:00Z"
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def iso_clock(clock: Clock) -> Callable[[], str]:
    """The same clock as the ISO strings OrderService(clock=...) takes."""
    return lambda: iso(clock())
