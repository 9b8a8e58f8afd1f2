"""The one CSV writer of every export (the desk's views and searches, the API, the transfer page,
the CLI) and its reader's counterpart for imports.

A cell that starts like a formula (= + - @, a tab or a carriage return) is run by spreadsheets
when the file is opened, so it is written with a leading apostrophe, which spreadsheets show as
text (OWASP's advice on CSV injection). Numbers such as "-12.50" stay numbers. Reading a file
back (`read_cell`) takes that one apostrophe off again, so an exported file imports as it was."""
from __future__ import annotations

import csv
import io

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) and not _is_number(text) else text


def read_cell(text: str) -> str:
    """A cell as `safe_cell` was given it."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


class CsvLines:
    """Rows to CSV text, one string per row, every cell through `safe_cell` (streamed exports)."""

    def __init__(self):
        self.buf = io.StringIO()
        self.w = csv.writer(self.buf, lineterminator="\r\n")

    def __call__(self, values) -> str:
        self.w.writerow([safe_cell(v) for v in values])
        out = self.buf.getvalue()
        self.buf.seek(0)
        self.buf.truncate()
        return out
