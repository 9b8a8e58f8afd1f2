"""Order intake through the API (validation, numbering, priority, VDU) with 8 concurrent clients,
against raw single-document writes of the same orders to the same server, in the same run."""
from __future__ import annotations

import copy
import threading
import time

import requests

from oms import people

from .common import Report, app_server, fresh_stack, size

CLIENTS = 8


def _run_clients(n_per_client: int, work) -> float:
    """Start CLIENTS threads each doing `work(session, i)` n times; returns operations/s."""
    errors = []

    def client(k):
        s = requests.Session()
        try:
            for i in range(n_per_client):
                work(s, k * n_per_client + i)
        except Exception as exc:  # a benchmark must not hide failures
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return CLIENTS * n_per_client / elapsed


def run(report: Report) -> None:
    n = size(250, 10)
    with fresh_stack() as stack:
        s = stack.settings
        server = stack.server()
        admin = server.admin(s.db_name)
        admin.save({"_id": "customer:C0001", "type": "customer", "name": "Acme Ltd", "currency": "EUR"})
        body = {"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 3, "unit_price": "4.50"},
                                               {"sku": "GAD-310", "qty": 1, "unit_price": "39.90"}]}
        with app_server(s) as url:
            # warm up: sign-in (LDAP bind + _users mirror) and view/index caches
            requests.post(url + "/api/v1/orders", json=body, auth=("sally", "demo")).raise_for_status()

            def app_work(session, i):
                r = session.post(url + "/api/v1/orders", json=body, auth=("sally", "demo"), timeout=30)
                assert r.status_code == 201, r.text

            app_rate = _run_clients(n // CLIENTS or 1, app_work)

        # raw: the same order documents, PUT straight to the server as the same person (same VDU)
        template = admin.get(admin.all_docs(start_key="order:", end_key="order:\ufff0", limit=1)["rows"][0]["id"])
        auth = ("sally", people.couch_password(s.secret_key, "sally"))
        base = f"{s.couchdb_url}/{s.db_name}/"

        def raw_work(session, i):
            doc = copy.deepcopy(template)
            doc.pop("_rev")
            number = f"SO-9{i:05d}"
            doc.update(_id=f"order:{number}", number=number)
            r = session.put(base + doc["_id"], json=doc, auth=auth, timeout=30)
            assert r.status_code == 201, r.text

        raw_rate = _run_clients(n // CLIENTS or 1, raw_work)
    report.line("intake_api_vs_raw_writes", app_rate, raw_rate, "orders/s", app_rate / raw_rate, ">= 0.5")


if __name__ == "__main__":
    r = Report()
    run(r)
    r.finish()
