"""The `oms` command line."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

import click

from oms.core.config import Settings


@click.group()
def main():
    """Order Desk: order management in the style of Lotus Notes, on CouchDB."""
    logging.basicConfig(level=os.environ.get("OMS_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--demo", is_flag=True, help="Seed the demo customers, stock and orders (once).")
# One process by default: its threads' concurrent writes share requests to the database (group
# commit, placement passes), which a second process would split; measured on a 2-core machine with
# the embedded server (bench/README.md): more orders per second, drafts and placed orders alike.
@click.option("--workers", default=1, show_default=True,
              help="Web worker processes (each with 8 threads); more only when the app, not the database, is the limit.")
@click.option("--agents/--no-agents", default=True, show_default=True,
              help="Run the agents' scheduler (escalation, expiry, reminders, mail, webhooks) beside the app.")
def serve(demo, workers, agents):
    """Start everything (embedded CouchDB and directory unless COUCHDB_URL / LDAP_URL are set)
    and serve the web app under gunicorn. Ctrl-C stops everything it started."""
    from oms.devstack import runtime
    from oms.devstack.seed import seed

    # A service manager stops us with SIGTERM (a closed terminal sends SIGHUP): stop the way Ctrl-C
    # does, so the embedded servers, gunicorn and the scheduler go with us instead of living on.
    def stop(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    stack = web = watcher = scheduler = None
    try:
        stack = runtime.start(Settings.from_env())
        s = stack.settings
        if demo:
            seed(stack.server(), s, progress=click.echo)
            from oms.devstack.partner_demo import seed_partners
            seed_partners(stack.server(), s, progress=click.echo)
        from replication.watcher import Watcher  # partners' refused changes, conflicts that merge by themselves
        watcher = Watcher(stack.server(), s).start()
        click.echo(f"Order Desk on http://{s.host}:{s.port}  (demo people: sally, carl, wanda, sam, "
                   "bill, mia, rita; partners alice@acme, gus@globex at /partner/login; password demo)")
        # gunicorn runs as our child, not in this process: its master reaps every child it sees,
        # which would steal the embedded servers' exit status from their supervisor.
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"{s.host}:{s.port}", "--workers", str(workers),
             "--worker-class", "gthread", "--threads", "8", "--timeout", "60", "--graceful-timeout", "5",
             "--access-logfile", "-", "webapp.wsgi:app"],
            env={**os.environ, **s.to_env()})
        from .operations import write_runtime
        write_runtime(s)  # so `oms import/export/agents` find these servers
        if agents:  # like the Domino server's agent manager; a child process, stopped with us
            scheduler = subprocess.Popen([sys.executable, "-m", "oms.cli", "agents", "schedule"],
                                         env={**os.environ, **s.to_env()})
        web.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):   # a second signal must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        click.echo("stopping ...")
        if watcher:
            watcher.stop()
        if web and web.poll() is None:
            web.terminate()
            web.wait(15)
        if scheduler and scheduler.poll() is None:
            scheduler.terminate()
            scheduler.wait(15)
        if stack:
            stack.close()


@main.command()
def deploy():
    """Push the design documents, _security and the ACL seed (idempotent)."""
    from couch_design.deploy import deploy as do_deploy
    from oms.store.couch import CouchServer
    s = Settings.from_env()
    if not s.couchdb_url:
        sys.exit("COUCHDB_URL is not set (oms serve starts and deploys the embedded server itself)")
    outcome = do_deploy(CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password).admin(s.db_name), namespace=s.namespace)
    for k, v in outcome.items():
        click.echo(f"{k}: {v}")


@main.command("seed")
def seed_cmd():
    """Seed demo data into COUCHDB_URL (needs LDAP_URL for the demo people's groups)."""
    from oms.devstack.seed import seed
    from oms.store.couch import CouchServer
    s = Settings.from_env()
    if not s.couchdb_url or not s.secret_key:
        sys.exit("COUCHDB_URL and SECRET_KEY must be set (oms serve --demo seeds the embedded server)")
    seed(CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password), s, progress=click.echo)


@main.group()
def feed():
    """Feeds from the CRM and the WMS (JSON or CSV), applied as the system identity."""


def _system_agent():
    from oms.fulfilment.handoffs import SystemIdentity
    from oms.identity import people
    from oms.store.couch import CouchServer
    from oms.store.numbers import NumberAllocator
    s = Settings.from_env()
    if not s.couchdb_url or not s.secret_key:
        sys.exit("COUCHDB_URL and SECRET_KEY must be set (the system identity's password derives from SECRET_KEY)")
    server = CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password)
    entries = server.admin(s.db_name).get("acl")["entries"]
    access, db = people.as_system(server, s.secret_key, s.db_name, entries, s.namespace)
    return SystemIdentity(access, db, NumberAllocator())


def _report(report: dict) -> None:
    for k, v in report.items():
        if k == "errors":
            for e in v:
                click.echo(f"  row {e['row']} ({e.get('id') or e.get('sku')}): {e['reason']}", err=True)
        elif k == "served":
            click.echo(f"backorders served: {len(v)} line(s), {sum(x['qty'] for x in v)} unit(s)")
        else:
            click.echo(f"{k}: {v}")
    if report.get("errors"):
        click.echo(f"{len(report['errors'])} row(s) not taken", err=True)


@feed.command("customers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def feed_customers(path):
    """Upsert customer profiles by their CRM id (idempotent: re-running changes nothing)."""
    from oms.interchange.feeds import parse
    agent = _system_agent()
    rows = parse(open(path, "rb").read(), "application/json" if path.endswith(".json") else "text/csv", key="customers")
    with click.progressbar(length=len(rows), label="customers") as bar:
        report = agent.customers.import_rows(rows, progress=lambda n: bar.update(n - bar.pos))
        bar.update(len(rows) - bar.pos)
    _report(report.as_dict())


@feed.command("stock")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def feed_stock(path):
    """Apply stock counts (on_hand) and receipts (received); receipts serve backorders in
    priority order."""
    from oms.interchange.feeds import import_stock, parse
    agent = _system_agent()
    rows = parse(open(path, "rb").read(), "application/json" if path.endswith(".json") else "text/csv", key="stock")
    with click.progressbar(length=len(rows), label="stock") as bar:
        report = import_stock(rows, agent.stock, agent, progress=lambda n: bar.update(n - bar.pos))
        bar.update(len(rows) - bar.pos)
    _report(report.as_dict())

from replication.cli import replicate  # noqa: E402  (`oms replicate ...`)

main.add_command(replicate)

from .operations import register as _register_integration  # noqa: E402  (import, export, agents, tokens, webhooks)

_register_integration(main)

if __name__ == "__main__":
    main()
