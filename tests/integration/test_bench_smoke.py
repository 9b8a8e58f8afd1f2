"""The benchmarks run (at tiny sizes) and end with one JSON object of ratios. No timing is
asserted here: figures belong to `make bench`."""
import json
import os
import subprocess
import sys


def test_make_bench_runs_at_tiny_sizes_and_prints_every_ratio():
    env = {**os.environ, "OMS_BENCH_SIZE": "tiny"}
    proc = subprocess.run([sys.executable, "-m", "bench"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    ratios = json.loads(last)
    from bench.__main__ import MEASURES
    assert ratios and all(isinstance(v, float) and v >= 0 for v in ratios.values()), ratios
    expected = {"intake_api_vs_raw_writes", "intake_drafts_vs_raw_writes", "import_vs_raw_bulk_docs",
                "availability_p95_vs_raw_view"}
    assert expected <= set(ratios) and len(MEASURES) >= 3, sorted(ratios)
    from bench.__main__ import SCRIPTS
    for name in SCRIPTS:
        assert any(k.startswith(name + ".") for k in ratios), f"{name} reported nothing"


def test_the_partner_replication_bench_runs_at_tiny_size_and_reports_its_ratio():
    env = {**os.environ, "OMS_BENCH_SIZE": "tiny"}
    proc = subprocess.run([sys.executable, "-m", "bench", "bench_replication"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ratios = json.loads(proc.stdout.strip().splitlines()[-1])
    ratio = ratios["bench_replication.ratio_partner_vs_raw_subset"]
    assert isinstance(ratio, float) and ratio > 0
    assert "partner replication vs raw subset" in proc.stdout
