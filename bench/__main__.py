"""`make bench`: every benchmark against a fresh embedded server (or COUCHDB_URL), each printing
the app's figure, the raw server's figure measured in the same run, and the ratio; the last line
is one JSON object with every ratio. OMS_BENCH_SIZE=tiny runs them at smoke-test sizes."""
from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys

from .common import Report, size

MEASURES = ["bench_intake", "bench_import", "bench_availability"]
# Benchmarks that run as their own script (argparse) and end with one JSON line: their "ratio*"
# figures join the report under "<name>.<figure>".
SCRIPTS = {
    "bench_views": lambda: ["--orders", str(size(100_000, 1_500)), "--repeat", str(size(20, 2))],
    "bench_reservation": lambda: ["--rounds", str(size(3, 1)), "--raw", str(size(500, 50))],
    "bench_export": lambda: ["--orders", str(size(100_000, 500))],
    "bench_replication": lambda: ["--orders", str(size(100_000, 300))],
    "bench_review": lambda: ["--orders", str(size(100_000, 300)), "--repeat", str(size(20, 2))],
}


def run_script(name: str, report: Report) -> None:
    proc = subprocess.run([sys.executable, "-m", f"bench.{name}", *SCRIPTS[name]()], capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed: {proc.stderr[-2000:]}")
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    for key, value in last.items():
        if key.startswith("ratio") and isinstance(value, (int, float)):
            report.ratios[f"{name}.{key}"] = float(value)
    for fmt, figures in (last.get("exports") or {}).items():  # export: memory, not a ratio
        report.ratios[f"{name}.{fmt}.peak_rss_growth_mb"] = float(figures["peak_rss_growth_mb"])


def main(argv: list[str]) -> int:
    names = argv or [*MEASURES, *SCRIPTS]
    report = Report()
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"server {os.environ.get('COUCHDB_URL') or 'embedded PouchDB Server 4.2.0'}", flush=True)
    for name in names:
        if name in SCRIPTS:
            run_script(name, report)
        else:
            importlib.import_module(f"bench.{name}").run(report)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
