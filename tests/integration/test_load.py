"""Load: 50 concurrent clients for a while (OMS_LOAD_SECONDS, default 6 in CI; 60 for the full
run), mixed creates, view pages and transitions over real HTTP against the app under gunicorn.
No server errors; latency percentiles are printed (figures go to bench/README.md, not asserts)."""
import os
import random
import threading
import time
from collections import defaultdict

import requests

from bench.common import app_server, percentile

CLIENTS = 50
SECONDS = float(os.environ.get("OMS_LOAD_SECONDS", "6"))
ORDER = {"customer": "C0004", "lines": [{"sku": "SPR-010", "qty": 5, "unit_price": "0.80"}]}


def test_fifty_clients_mixed_work_without_a_server_error(settings, seeded):
    latencies, statuses, errors = defaultdict(list), defaultdict(int), []
    with app_server(settings) as url:
        deadline = time.monotonic() + SECONDS

        def client(k):
            s = requests.Session()
            rnd = random.Random(k)
            mine = []
            try:
                while time.monotonic() < deadline:
                    op = rnd.choice(["create", "create", "view", "transition"])
                    t0 = time.perf_counter()
                    if op == "create" or (op == "transition" and not mine):
                        op = "create"
                        r = s.post(url + "/api/v1/orders", json=ORDER, auth=("sally", "demo"), timeout=60)
                        if r.status_code == 201:
                            mine.append(r.json()["number"])
                    elif op == "view":
                        r = s.get(url + "/api/v1/orders/" + (mine[-1] if mine else "SO-000001"),
                                  auth=("rita", "demo"), timeout=60)
                    else:
                        number = mine.pop(0)
                        r = s.post(f"{url}/api/v1/orders/{number}/actions", json={"action": "submit"},
                                   auth=("sally", "demo"), timeout=60)
                    latencies[op].append((time.perf_counter() - t0) * 1000)
                    statuses[(op, r.status_code)] += 1
            except Exception as exc:
                errors.append(repr(exc))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SECONDS + 120)
    for op, values in sorted(latencies.items()):
        print(f"{op:<10} n={len(values):5d} p50={percentile(values, 50):7.1f} ms  p95={percentile(values, 95):7.1f} ms"
              f"  p99={percentile(values, 99):7.1f} ms")
    assert not errors, errors[:3]
    assert len(latencies["create"]) > CLIENTS
    server_errors = {k: v for k, v in statuses.items() if k[1] >= 500}
    assert not server_errors, server_errors
    unexpected = {k: v for k, v in statuses.items() if k[1] not in (200, 201)}
    assert not unexpected, unexpected
