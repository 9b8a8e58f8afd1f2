"""`oms import`, `oms export`, `oms agents run|schedule`, `oms tokens ...`, `oms webhooks ...`.

They talk to COUCHDB_URL with SECRET_KEY (like `oms seed`); without COUCHDB_URL they use the
servers a running `oms serve` started (it leaves their addresses in OMS_DATA_DIR/runtime.json).
Imports, exports and agents act as the system identity (oms-agent, an ordinary ACL entry), or as
a person named with --as (their level and roles from the directory and the ACL); issuing tokens
and registering webhooks are operator tasks done with the CouchDB admin credentials."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from oms.core.config import Settings

RUNTIME_FILE = "runtime.json"


def write_runtime(settings: Settings) -> Path:
    """Called by `oms serve`: where its servers are, for the other commands (mode 0600)."""
    path = Path(settings.data_dir) / RUNTIME_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(settings.to_env()))
    return path


def settings() -> Settings:
    s = Settings.from_env()
    if not s.couchdb_url:
        path = Path(s.data_dir) / RUNTIME_FILE
        if not path.exists():
            sys.exit("COUCHDB_URL is not set and no `oms serve` is running here (no data/runtime.json)")
        s = Settings.from_env({**json.loads(path.read_text())})
    if not s.secret_key:
        sys.exit("SECRET_KEY must be set")
    return s


def _identity(s: Settings, as_name: str | None):
    """(Access, Database, server) of the acting identity."""
    from oms.identity import acl, people
    from oms.store.couch import CouchServer
    server = CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password)
    entries = server.admin(s.db_name).get("acl")["entries"]
    if not as_name:
        access, db = people.as_system(server, s.secret_key, s.db_name, entries, s.namespace)
        return access, db, server
    from oms.identity.directory import Directory
    if not s.ldap_url:
        sys.exit("--as needs LDAP_URL (the person's groups come from the directory)")
    person = Directory(s.ldap_url, s.ldap_base_dn, s.ldap_bind_dn, s.ldap_bind_password).lookup(as_name)
    if person is None:
        sys.exit(f"{as_name} is not in the directory")
    access = acl.resolve(entries, person.name, person.groups)
    if access.level_index == 0:
        sys.exit(f"{as_name} has No Access")
    people.mirror(server, s.secret_key, access, namespace=s.namespace)
    return access, people.open_as(server, s.secret_key, s.db_name, access.name, s.namespace), server


def register(main: click.Group) -> None:
    main.add_command(import_cmd)
    main.add_command(export_cmd)
    main.add_command(agents)
    main.add_command(tokens_group)
    main.add_command(webhooks_group)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["orders", "customers", "stock"]), help="What the file holds (else told from it).")
@click.option("--as", "as_name", metavar="NAME", help="Import as this person (default: the system identity).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_cmd(path: Path, kind, as_name, as_json):
    """Import orders, customers or stock from a CSV, JSON, XML or DXL file, with a progress bar and
    a summary; bad rows are listed with their line and reason. Safe to run again."""
    from oms.interchange.formats import format_from_name
    from oms.interchange.importing import import_bytes
    from oms.interchange.pipeline import ImportContext
    from oms.interchange.records import ImportRefused
    from oms.store.numbers import NumberAllocator
    s = settings()
    access, db, _ = _identity(s, as_name)
    try:
        fmt = format_from_name(path.name)
    except ImportRefused as exc:
        sys.exit(exc.reason)
    with click.progressbar(length=1, label=f"importing {path.name}", show_pos=True, file=sys.stderr) as bar:
        def progress(done, total):
            bar.length = max(total, 1)
            bar.update(done - bar.pos)
        directory = None
        if s.ldap_url:   # DXL: Notes names -> our people by the directory's display names
            from oms.identity.directory import Directory
            directory = Directory(s.ldap_url, s.ldap_base_dn, s.ldap_bind_dn, s.ldap_bind_password)
        ctx = ImportContext(db=db, access=access, numbers=NumberAllocator(), progress=progress, directory=directory)
        try:
            report = import_bytes(ctx, path.read_bytes(), fmt, kind, filename=path.name)
        except ImportRefused as exc:
            click.echo("", err=True)
            sys.exit(f"{path.name}: {exc.reason}")
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(f"{path.name} as {access.name}: {report.summary()}")
        for p in sorted(report.problems, key=lambda p: p.line):
            click.echo(f"  line {p.line}{f' ({p.ref})' if p.ref else ''}: {p.reason}")
        for u in report.unmapped:
            click.echo(f"  not mapped: {u['where']}: {u['what']}")
    sys.exit(1 if report.problems else 0)


@click.command("export")
@click.argument("view", default="all_orders")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xml", "dxl"]), default="csv", show_default=True)
@click.option("--shape", type=click.Choice(["rows", "orders"]), default="rows", show_default=True,
              help="rows: the view's columns; orders: whole orders in the import format.")
@click.option("--numbers", help="Only these orders (comma-separated numbers).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--as", "as_name", metavar="NAME", help="Export what this person may read (default: the system identity).")
def export_cmd(view, fmt, shape, numbers, out, as_name):
    """Export a view (or a selection of orders) as CSV, JSON or XML, streaming."""
    from oms.core.errors import InvalidInput
    from oms.interchange.exporting import export, write_to
    from views import catalog
    s = settings()
    access, db, _ = _identity(s, as_name)
    vd = catalog.get(view)
    if vd is None or not vd.may_open(access):
        sys.exit(f"no view {view!r} for {access.name}; one of {', '.join(v.name for v in catalog.visible_to(access))}")
    try:
        stream = export(db, access, vd, fmt, shape, [n.strip() for n in numbers.split(",")] if numbers else None)
        if out:
            with open(out, "wb") as f:
                n = write_to(stream, f)
            click.echo(f"{n:,} bytes to {out}", err=True)
        else:
            write_to(stream, sys.stdout.buffer)
    except InvalidInput as exc:
        sys.exit(exc.reason)


@click.group()
def agents():
    """The server's agents (escalation, expiry, reminders, mail, outbox, webhooks)."""


@agents.command("run")
@click.option("--only", multiple=True, help="Run only these agents (repeatable).")
@click.option("--now", "now", help="Pretend it is this time (ISO, UTC), e.g. 2026-12-01T07:00:00Z.")
def agents_run(only, now):
    """Run the agents once and print what each touched."""
    from oms import agents as ag
    from oms.core import clock
    s = settings()
    ctx = ag.context_from_settings(s, clock.fixed(now) if now else clock.system)
    for name in only:
        if name not in ag.AGENTS:
            sys.exit(f"unknown agent {name!r}; one of {', '.join(ag.AGENTS)}")
    for doc in ag.run_once(ctx, list(only) or None):
        _print_run(doc)


@agents.command("schedule")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between looks at the schedule.")
@click.option("--iterations", type=int, help="Stop after this many looks (default: run until stopped).")
def agents_schedule(interval, iterations):
    """Run each agent when it is due (rules/agents.json), in a loop. Several schedulers may run:
    each agent's turn is claimed with a conflicting write, so it runs once."""
    from oms import agents as ag
    s = settings()
    ctx = ag.context_from_settings(s)
    click.echo(f"agents scheduler: looking every {interval:g} s (Ctrl-C stops)", err=True)
    try:
        ag.schedule(ctx, interval, iterations, on_run=_print_run)
    except KeyboardInterrupt:
        pass


def _print_run(doc: dict) -> None:
    click.echo(f"{doc['started_at']} {doc['agent']:<10} touched {len(doc.get('touched', []))}, "
               f"errors {len(doc.get('errors', []))}  ({doc['_id']})")
    for t in doc.get("touched", [])[:20]:
        click.echo(f"    {t['id']}: {t['what']}")
    for e in doc.get("errors", []):
        click.echo(f"    ERROR {e.get('id') or ''}: {e['reason']}")
    for n in doc.get("notes", []):
        click.echo(f"    note: {n}")


@click.group("tokens")
def tokens_group():
    """API tokens for integrations (issued with the admin credentials, as an operator)."""


def _admin(s: Settings):
    from oms.identity.acl import Access
    from oms.store.couch import CouchServer
    server = CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password)
    return server, server.admin(s.db_name), Access("oms-cli", "manager", ())


@tokens_group.command("issue")
@click.argument("client")
@click.option("--level", default="author", show_default=True)
@click.option("--role", "roles", multiple=True, help="A role like [Sales] (repeatable).")
@click.option("--note", default="")
def tokens_issue(client, level, roles, note):
    """Issue a token for CLIENT; it is printed once, only its hash is kept."""
    from oms.core.errors import InvalidInput
    from oms.identity import tokens
    s = settings()
    server, db, by = _admin(s)
    try:
        token, doc = tokens.issue(db, server, s.secret_key, by, client, level, roles, note, namespace=s.namespace)
    except InvalidInput as exc:
        sys.exit(exc.reason)
    click.echo(f"token for {doc['identity']} ({doc['level']} {' '.join(doc['roles'])}); shown once:", err=True)
    click.echo(token)


@tokens_group.command("list")
def tokens_list():
    from oms.identity import tokens
    s = settings()
    _, db, _ = _admin(s)
    for t in tokens.list_tokens(db):
        state = f"revoked {t['revoked_at']}" if t.get("revoked_at") else "active"
        click.echo(f"{t['_id'][9:]}  {t['identity']:<20} {t['level']:<8} {' '.join(t['roles']):<24} {state}")


@tokens_group.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id):
    from oms.identity import tokens
    s = settings()
    server, db, by = _admin(s)
    doc = tokens.revoke(db, server, s.secret_key, token_id, by, namespace=s.namespace)
    click.echo(f"revoked {doc['_id'][9:]} ({doc['identity']})")


@click.group("webhooks")
def webhooks_group():
    """Webhooks that receive order events."""


@webhooks_group.command("add")
@click.argument("url")
@click.option("--event", "events", multiple=True, default=["order.*"], show_default=True)
@click.option("--reader", "readers", multiple=True, help="Principals whose restricted orders it may hear of.")
def webhooks_add(url, events, readers):
    from oms.agents import webhooks
    from oms.core.errors import InvalidInput
    s = settings()
    _, db, by = _admin(s)
    try:
        doc = webhooks.register(db, by.name, url, events, readers)
    except InvalidInput as exc:
        sys.exit(exc.reason)
    click.echo(f"{doc['_id']} -> {doc['url']} ({', '.join(doc['events'])}); signing secret: {doc['secret']}")


@webhooks_group.command("list")
def webhooks_list():
    from oms.agents import webhooks
    s = settings()
    _, db, _ = _admin(s)
    for h in webhooks.list_hooks(db):
        click.echo(f"{h['_id']}  {'on ' if h.get('active', True) else 'off'}  {h['url']}  {', '.join(h['events'])}")


@webhooks_group.command("off")
@click.argument("hook_id")
def webhooks_off(hook_id):
    from oms.agents import webhooks
    s = settings()
    _, db, _ = _admin(s)
    webhooks.deactivate(db, hook_id)
    click.echo(f"{hook_id} turned off")
