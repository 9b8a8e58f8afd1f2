"""`make bench`: every benchmark against a fresh embedded server (or COUCHDB_URL), each printing
the app's figure, the raw server's figure measured in the same run, and the ratio; the last line
is one JSON object with every ratio. OMS_BENCH_SIZE=tiny runs them at smoke-test sizes."""
from __future__ import annotations

import importlib
import platform
import os
import sys

from .common import Report

MEASURES = ["bench_intake"]


def main(argv: list[str]) -> int:
    names = argv or MEASURES
    report = Report()
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"server {os.environ.get('COUCHDB_URL') or 'embedded PouchDB Server 4.2.0'}", flush=True)
    for name in names:
        importlib.import_module(f"bench.{name}").run(report)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
