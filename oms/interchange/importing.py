"""Importing a file: the entry points of the web pages, the API and `oms import`. CSV, JSON and
XML files are read into records (formats.py, xmlformat.py) and applied by the pipeline
(pipeline.py); a DXL export from Notes has an import of its own (dxl.py)."""
from __future__ import annotations

from oms.store.idempotency import Idempotency, Outcome

from . import dxl
from .formats import read_records
from .pipeline import ImportContext, Report, apply_records, keep_report


def import_bytes(ctx: ImportContext, data: bytes, fmt: str, kind: str | None = None,
                 filename: str = "") -> Report:
    """Import one file's bytes. Raises ImportRefused (nothing written) for an unreadable file."""
    if fmt == "dxl":
        return dxl.import_dxl(ctx, data, filename=filename)
    records = read_records(data, fmt, kind)
    report = Report(format=fmt, kind=kind or "", filename=filename)
    apply_records(ctx, records, report)
    keep_report(ctx, report)
    return report


def import_once(ctx: ImportContext, data: bytes, fmt: str, kind: str | None, key: str, fp: str) -> Report:
    """An API import with an Idempotency-Key: a retry returns the first report."""
    def perform(_reserved) -> Outcome:
        return Outcome(200, import_bytes(ctx, data, fmt, kind, filename="api upload").as_dict())

    outcome = Idempotency(ctx.db, ctx.access.name, ctx.clock).run(key, fp, reserve=dict, perform=perform)
    return _StoredReport(outcome.body)


class _StoredReport:
    def __init__(self, body: dict):
        self.body = body

    def as_dict(self) -> dict:
        return self.body
