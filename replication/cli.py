"""`oms replicate ...`: partners, offline sites, status, and the watcher. Needs COUCHDB_URL with
admin credentials (COUCHDB_USER/PASSWORD) and SECRET_KEY, like `oms deploy`; `oms serve`
prints the embedded server's URL."""
from __future__ import annotations

import sys

import click

from oms.core.config import Settings
from oms.core.errors import InvalidInput
from oms.store.couch import CouchError


def _context() -> tuple:
    from oms.store.couch import CouchServer
    s = Settings.from_env()
    if not s.couchdb_url or not s.couchdb_user or not s.secret_key:
        sys.exit("COUCHDB_URL, COUCHDB_USER/COUCHDB_PASSWORD and SECRET_KEY must be set "
                 "(`oms serve` prints the embedded server's URL)")
    return CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password), s


def _run(fn):
    try:
        return fn()
    except InvalidInput as exc:
        sys.exit(f"error: {exc.reason}")
    except CouchError as exc:
        sys.exit(f"error: {exc.reason}")


def _print(outcome: dict) -> None:
    for k, v in outcome.items():
        click.echo(f"  {k}: {v}")


@click.group()
def replicate():
    """Partner databases, offline sites, replication status."""


@replicate.group()
def partner():
    """A partner's own database, its people and its replications."""


@partner.command("add")
@click.argument("partner_id")
@click.option("--title", help="The partner's name as people read it.")
def partner_add(partner_id, title):
    """Create (or repair) PARTNER_ID's database, security and continuous replications."""
    from .partners import Partners
    server, s = _context()
    _print(_run(lambda: Partners(server, s, progress=click.echo).add(partner_id, title)))


@partner.command("person")
@click.argument("partner_id")
@click.argument("name")
@click.option("--level", default="author", show_default=True, help="reader, depositor or author.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def partner_person(partner_id, name, level, password_stdin):
    """Add NAME (like alice@PARTNER_ID) to the partner's people, in CouchDB _users."""
    from .partners import Partners
    server, s = _context()
    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    click.echo(_run(lambda: Partners(server, s, progress=click.echo).add_person(partner_id, name, password, level)))


@partner.command("list")
def partner_list():
    """The partners and their databases."""
    from .partners import Partners, database_name
    server, s = _context()
    for p in _run(lambda: Partners(server, s).list()):
        click.echo(f"{p['id']:<16} {database_name(p['id'], s.namespace):<24} {p.get('title', '')}")


@replicate.command("site")
@click.option("--to", "to_url", required=True,
              help="The branch server and database, with its admin: http://admin:secret@branch:5984/orders")
@click.option("--name", help="The site's name (default: from the host).")
@click.option("--block", default=100_000, show_default=True, help="Order numbers reserved for the site.")
@click.option("--centre", "centre_url", help="The centre's address as the branch reaches it (default COUCHDB_URL).")
def site(to_url, name, block, centre_url):
    """Make a full two-way replica of the central database on a branch office's server."""
    from . import sites
    server, s = _context()
    _print(_run(lambda: sites.setup(server, s, to_url, name, block, progress=click.echo, centre_url=centre_url)))


@replicate.command("status")
def status():
    """Each replication: state, last checkpoint, pending changes, errors."""
    from .status import overview
    server, s = _context()
    data = _run(lambda: overview(server, s))
    click.echo(f"server: {data['server']}")
    rows = data["partners"] + data["sites"]
    if not rows:
        click.echo("no replications yet (oms replicate partner add ID / oms replicate site --to URL)")
    for st in rows:
        click.echo(f"{st.id:<32} {st.state:<12} checkpoint {st.checkpoint or '-':<8} "
                   f"pending {st.pending if st.pending is not None else '?':<6} "
                   f"failures {st.failures if st.failures is not None else '-'}")
        for e in st.errors:
            click.echo(f"    ! {e}")


@replicate.command("watch")
@click.option("--once", is_flag=True, help="One round, then exit.")
@click.option("--interval", default=2.0, show_default=True)
def watch(once, interval):
    """Run the replication watcher: record partners' refused changes, merge conflicts by themselves."""
    import time

    from .watcher import Watcher
    server, s = _context()
    watcher = Watcher(server, s, interval)
    while True:
        out = _run(watcher.run_once)
        for k in ("rejections", "merged", "dropped"):
            if out[k]:
                click.echo(f"{k}: {len(out[k])}")
        for doc_id, why in out["person"].items():
            click.echo(f"needs a person: {doc_id}: {why}")
        if once:
            return
        time.sleep(interval)
