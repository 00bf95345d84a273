"""The `pulse` command: init, ingest, demo, serve and metric."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from pulse.access import write_keys
from pulse.ingest.contract import RejectedBatch
from pulse.ingest.files import read_chunks
from pulse.ingest.pipeline import ImportResult, ingest_chunks, message_chunks
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine, Query
from pulse.metrics.tables import TableQuery, evaluate_table, split_extras
from pulse.metrics.windows import GRAINS, parse_date
from pulse.settings import Settings, check_tz
from pulse.store.store import Store, connect

app = typer.Typer(help="Pulse: analytics for a credit-metered AI SaaS.", no_args_is_help=True)
err = Console(stderr=True)
out = Console()

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store: DuckDB path or postgresql:// URL (default $PULSE_DB)"),
]


def _settings(db: str | None, tz: str | None = None) -> Settings:
    base = Settings.from_env()
    return replace(base, db=db or base.db, tz=check_tz(tz) if tz else base.tz)


def _open(settings: Settings) -> Store:
    return connect(settings.db)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@app.command()
def init(db: DbOption = None) -> None:
    """Create (or upgrade) the store and print a new platform write key."""
    settings = _settings(db)
    store = _open(settings)
    key = write_keys.create(store, label="platform (pulse init)")
    out.print(f"store ready at {settings.db} (schema {store.schema_version()})")
    out.print(f"platform write key (shown once): [bold]{key}[/bold]")
    _print_first_admin(store)


def _import(store: Store, sources: list[tuple[str, Any]], total_bytes: int | None) -> ImportResult:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[messages]:,} messages"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("ingesting", total=total_bytes, messages=0)
        counted = {"messages": 0}

        def advance(messages: int, size: int) -> None:
            counted["messages"] += messages
            progress.update(task, advance=size, messages=counted["messages"])

        return ingest_chunks(store, sources, advance)


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="JSON Lines, CSV or Parquet files")],
    db: DbOption = None,
) -> None:
    """Import message files (all or nothing) and report what was stored."""
    for path in files:
        if not path.is_file():
            raise _fail(f"{path}: no such file")
    store = _open(_settings(db))
    total = sum(p.stat().st_size for p in files)
    try:
        sources = [(str(p), read_chunks(p)) for p in files]
        result = _import(store, sources, total)
    except RejectedBatch as exc:
        raise _fail(f"{exc} (nothing was stored)") from exc
    except ValueError as exc:
        raise _fail(f"{exc} (nothing was stored)") from exc
    out.print(f"stored {result.stored:,} messages ({result.duplicates:,} already stored)")


@app.command()
def demo(
    scale: Annotated[str, typer.Option(help="small, medium or large")] = "medium",
    seed: Annotated[int, typer.Option(help="random seed (same seed, same data)")] = 7,
    end: Annotated[
        str | None, typer.Option(help="last day of data, YYYY-MM-DD (default today)")
    ] = None,
    replace: Annotated[bool, typer.Option(help="rebuild even if the store has data")] = False,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve Pulse after")
    ] = True,
    host: str = "127.0.0.1",
    port: int = 8000,
    db: DbOption = None,
) -> None:
    """Build the realistic demo platform into the store, then serve Pulse."""
    from pulse.demo import SCALES, iter_messages

    if scale not in SCALES:
        raise _fail(f"scale: {scale!r} is not one of {', '.join(SCALES)}")
    settings = _settings(db)
    last = parse_date(end, "end") if end else datetime.now(UTC).date()
    if replace and not settings.db.startswith(("postgres://", "postgresql://")):
        for suffix in ("", ".wal"):
            Path(settings.db + suffix).unlink(missing_ok=True)
    store = _open(settings)
    if _has_data(store) and not replace:
        err.print("the store already has data: serving it (use --replace to rebuild the demo)")
    else:
        err.print(
            f"building the {scale} demo platform (seed {seed}, ending {last}) into {settings.db}"
        )
        started = datetime.now(UTC)
        result = _import(store, [("demo", message_chunks(iter_messages(scale, seed, last)))], None)
        seconds = (datetime.now(UTC) - started).total_seconds()
        err.print(f"stored {result.stored:,} messages in {seconds:.1f} s")
        key = write_keys.create(store, label="platform (pulse demo)")
        out.print(f"platform write key (shown once): [bold]{key}[/bold]")
    _print_first_admin(store)
    if serve_after:
        _serve(store, settings, host, port)


def _has_data(store: Store) -> bool:
    return bool(store.execute("SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) AS t")[0][0])


def _serve(store: Store, settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from pulse.api.app import create_app

    err.print(f"Pulse on http://{host}:{port} (API docs at /docs)")
    uvicorn.run(create_app(store, settings), host=host, port=port, log_level="warning")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, db: DbOption = None) -> None:
    """Serve the API (and its OpenAPI docs at /docs)."""
    settings = _settings(db)
    _serve(_open(settings), settings, host, port)


@app.command()
def metric(
    metric_id: Annotated[str | None, typer.Argument(metavar="ID", help="metric id")] = None,
    window: Annotated[
        str, typer.Option(help="last_30d, last_3m, last_12m, this_month, last_month or START..END")
    ] = "last_30d",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today, UTC)")
    ] = None,
    partner: Annotated[str | None, typer.Option(help="only this partner's data")] = None,
    by: Annotated[str | None, typer.Option(help="breakdown dimension")] = None,
    series: Annotated[str | None, typer.Option(help="day, week or month")] = None,
    cumulative: Annotated[bool, typer.Option(help="cumulate the series")] = False,
    compare: Annotated[
        str, typer.Option(help="previous (preceding window) or year (a year earlier)")
    ] = "previous",
    tz: Annotated[
        str | None, typer.Option(help="reporting time zone (default $PULSE_TZ or UTC)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON answer")] = False,
    list_all: Annotated[bool, typer.Option("--list", help="list every metric")] = False,
    db: DbOption = None,
) -> None:
    """Compute one metric (or list the catalog with --list)."""
    if list_all:
        _print_catalog(as_json)
        return
    if metric_id is None:
        raise _fail("ID: give a metric id, or --list")
    try:
        settings = _settings(db, tz)
        if series is not None and series not in GRAINS:
            raise ValueError(f"series: {series!r} is not one of {', '.join(GRAINS)}")
        CATALOG.get(metric_id)
        query = Query(
            metric=metric_id,
            as_of=parse_date(as_of, "as-of") if as_of else datetime.now(UTC).date(),
            window=window,
            partner=partner,
            by=by,
            series=series,  # type: ignore[arg-type]
            cumulative=cumulative,
            compare=compare,
            tz=settings.tz,
        )
        answer = Engine(_open(settings), CATALOG, settings.currency).evaluate(query)
    except (KeyError, ValueError) as exc:
        raise _fail(str(exc.args[0])) from exc
    if as_json:
        sys.stdout.write(json.dumps(answer, indent=2) + "\n")
        return
    _print_answer(answer)


def _print_catalog(as_json: bool) -> None:
    metrics = CATALOG.listed()
    if as_json:
        sys.stdout.write(json.dumps([m.as_dict() for m in metrics], indent=2) + "\n")
        return
    table = RichTable("id", "label", "unit", "health")
    for m in metrics:
        healthy = ", ".join(m.health.as_dict()["healthy"]) if m.health else ""  # type: ignore[arg-type]
        table.add_row(m.id, m.label, m.unit, healthy)
    out.print(table)


def _print_answer(answer: dict[str, Any]) -> None:
    window = answer["window"]
    out.print(
        f"[bold]{answer['label']}[/bold] ({answer['metric']}), {window['start']} .. {window['end']}"
    )
    change = answer["change_pct"]
    arrow = "" if change is None else ("▲" if change > 0 else "▼" if change < 0 else "→")
    out.print(
        f"  value {answer['value']}  previous {answer['previous']}  "
        f"change {'' if change is None else f'{change:+.1f} %'} {arrow}  status {answer['status']}"
    )
    if "rows" in answer:
        table = RichTable(answer["by"], "value", "previous", "change %")
        for row in answer["rows"]:
            table.add_row(
                str(row["key"]), str(row["value"]), str(row["previous"]), str(row["change_pct"])
            )
        out.print(table)
    if "series" in answer:
        table = RichTable("period", "value")
        for point in answer["series"]:
            table.add_row(point["period"], str(point["value"]))
        out.print(table)


@app.command("table")
def table_command(
    table_id: Annotated[str | None, typer.Argument(metavar="ID", help="table id")] = None,
    window: Annotated[
        str, typer.Option(help="last_30d, last_3m, last_12m, this_month, last_month or START..END")
    ] = "last_30d",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today, UTC)")
    ] = None,
    partner: Annotated[str | None, typer.Option(help="only this partner's data")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help="NAME=VALUE: a column filter or a table parameter"),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many rows")] = None,
    tz: Annotated[
        str | None, typer.Option(help="reporting time zone (default $PULSE_TZ or UTC)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON answer")] = False,
    list_all: Annotated[bool, typer.Option("--list", help="list every table")] = False,
    db: DbOption = None,
) -> None:
    """Show one table: segments and members, cohorts, funnels, leaderboards, heatmaps."""
    if list_all:
        tables = [t.as_dict() for t in CATALOG.tables.values()]
        if as_json:
            sys.stdout.write(json.dumps(tables, indent=2) + "\n")
            return
        listing = RichTable("id", "label", "columns")
        for t in CATALOG.tables.values():
            listing.add_row(t.id, t.label, ", ".join(c.name for c in t.columns))
        out.print(listing)
        return
    if table_id is None:
        raise _fail("ID: give a table id, or --list")
    try:
        settings = _settings(db, tz)
        pairs = {}
        for item in where or []:
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"where: {item!r} is not NAME=VALUE")
            pairs[name] = value
        params, filters = split_extras(CATALOG.table(table_id), pairs)
        query = TableQuery(
            table=table_id,
            as_of=parse_date(as_of, "as-of") if as_of else datetime.now(UTC).date(),
            window=window,
            partner=partner,
            tz=settings.tz,
            where=filters,
            params=params,
            limit=limit,
        )
        answer = evaluate_table(Engine(_open(settings), CATALOG, settings.currency), query)
    except (KeyError, ValueError) as exc:
        raise _fail(str(exc.args[0])) from exc
    if as_json:
        sys.stdout.write(json.dumps(answer, indent=2) + "\n")
        return
    window_text = f"{answer['window']['start']} .. {answer['window']['end']}"
    shown = RichTable(
        *[c["name"] for c in answer["columns"]], title=f"{answer['label']}, {window_text}"
    )
    for row in answer["rows"]:
        shown.add_row(*["" if v is None else str(v) for v in row.values()])
    out.print(shown)


# -- accounts, API keys and GDPR requests (access/) ----------------------------------------------

user_app = typer.Typer(help="Users who sign in to the dashboards.", no_args_is_help=True)
key_app = typer.Typer(help="API keys (read / write / export).", no_args_is_help=True)
customer_app = typer.Typer(help="GDPR requests about one customer.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="key")
app.add_typer(customer_app, name="customer")
CLI_ACTOR = "cli"
RoleOption = Annotated[
    str,
    typer.Option(help="platform_admin, executive, partner_manager, support, marketing, partner"),
]
PartnerOption = Annotated[
    str | None, typer.Option(help="partner id (required for, and only for, the partner role)")
]


def _print_first_admin(store: Store) -> None:
    from pulse.access import users

    created = users.ensure_first_admin(store)
    if created is not None:
        out.print(
            f"first admin (shown once): user [bold]{created[0]}[/bold] "
            f"password [bold]{created[1]}[/bold]"
        )


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="the log-in name")],
    role: RoleOption,
    partner: PartnerOption = None,
    password: Annotated[
        str | None, typer.Option(help="the password (default: a random one, printed once)")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a user; prints the generated password once unless --password is given."""
    import secrets

    from pulse.access import users

    chosen = password or secrets.token_urlsafe(12)
    try:
        users.add(_open(_settings(db)), username, chosen, role, partner_id=partner, actor=CLI_ACTOR)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"user {username} added ({role}{f', partner {partner}' if partner else ''})")
    if password is None:
        out.print(f"password (shown once): [bold]{chosen}[/bold]")


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """List users with their role, partner and state."""
    from pulse.access import users

    table = RichTable("user", "role", "partner", "created", "state")
    for user in users.listed(_open(_settings(db))):
        state = "disabled" if user.disabled_at else "active"
        table.add_row(
            user.username, user.role, user.partner_id or "", f"{user.created_at:%Y-%m-%d}", state
        )
    out.print(table)


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="the log-in name")], db: DbOption = None
) -> None:
    """Disable a user: its sessions end at once."""
    from pulse.access import users

    if not users.disable(_open(_settings(db)), username, actor=CLI_ACTOR):
        raise _fail(f"user: no active user {username!r}")
    out.print(f"user {username} disabled")


@key_app.command("create")
def key_create(
    role: RoleOption,
    scope: Annotated[
        list[str], typer.Option("--scope", help="read, write or export (repeat for several)")
    ],
    partner: PartnerOption = None,
    label: Annotated[str | None, typer.Option(help="what the key is for")] = None,
    db: DbOption = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from pulse.access import keys

    try:
        secret = keys.create(
            _open(_settings(db)),
            role=role,
            scopes=set(scope),
            partner_id=partner,
            label=label,
            actor=CLI_ACTOR,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"API key (shown once): [bold]{secret}[/bold]")


@key_app.command("list")
def key_list(
    revoked: Annotated[bool, typer.Option(help="include revoked keys")] = False,
    db: DbOption = None,
) -> None:
    """List API keys (id, prefix, role, partner, scopes, last use)."""
    from pulse.access import keys

    table = RichTable()
    table.add_column("id", no_wrap=True, min_width=12)  # what `pulse key revoke` takes
    for name in ("prefix", "role", "partner", "scopes", "label", "last used"):
        table.add_column(name)
    for key in keys.listed(_open(_settings(db)), include_revoked=revoked):
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        table.add_row(
            key.id,
            key.prefix,
            key.role,
            key.partner_id or "",
            ",".join(sorted(key.scopes)),
            key.label or "",
            used,
        )
    out.print(table)


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[str, typer.Argument(help="the key id")], db: DbOption = None
) -> None:
    """Revoke a key: refused from the next request on."""
    from pulse.access import keys

    if not keys.revoke(_open(_settings(db)), key_id, actor=CLI_ACTOR):
        raise _fail(f"key: no active key {key_id!r}")
    out.print(f"key {key_id} revoked")


@customer_app.command("delete")
def customer_delete(
    customer_id: Annotated[str, typer.Argument(metavar="ID", help="the customer id")],
    db: DbOption = None,
) -> None:
    """Erase a customer's personal data and record `customer_deleted`."""
    from pulse.access import gdpr

    try:
        counts = gdpr.delete_customer(_open(_settings(db)), customer_id, actor=CLI_ACTOR)
    except gdpr.UnknownCustomer as exc:
        raise _fail(f"customer: nothing is stored about {customer_id!r}") from exc
    out.print(
        f"customer {customer_id} deleted: {counts['traits_erased']} traits erased, "
        f"{counts['messages_scrubbed']} messages scrubbed"
    )


@customer_app.command("export")
def customer_export(
    customer_id: Annotated[str, typer.Argument(metavar="ID", help="the customer id")],
    db: DbOption = None,
) -> None:
    """Print everything stored about a customer as JSON."""
    from pulse.access import gdpr

    try:
        data = gdpr.export_customer(_open(_settings(db)), customer_id, actor=CLI_ACTOR)
    except gdpr.UnknownCustomer as exc:
        raise _fail(f"customer: nothing is stored about {customer_id!r}") from exc
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


# -- targets (SPEC §3 "Targets") -----------------------------------------------------------------

target_app = typer.Typer(help="Metric targets per month, quarter or year.", no_args_is_help=True)
app.add_typer(target_app, name="target")


@target_app.command("set")
def target_set(
    metric_id: Annotated[str, typer.Argument(metavar="METRIC", help="metric id")],
    period: Annotated[str, typer.Argument(help="YYYY-MM, YYYY-Qn or YYYY")],
    value: Annotated[str, typer.Argument(help="the target, in the metric's unit")],
    db: DbOption = None,
) -> None:
    """Set (or replace) a metric's target for a period."""
    from pulse.metrics import targets

    try:
        target = targets.set_target(_open(_settings(db)), CATALOG, metric_id, period, value)
    except (KeyError, ValueError) as exc:
        raise _fail(str(exc.args[0])) from exc
    out.print(f"target {target.metric} {target.period} = {target.value:g}")


@target_app.command("list")
def target_list(
    metric_id: Annotated[str | None, typer.Option("--metric", help="only this metric")] = None,
    period: Annotated[str | None, typer.Option(help="only this period")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    db: DbOption = None,
) -> None:
    """List the stored targets."""
    from pulse.metrics import targets

    try:
        periods = None if period is None else [targets.parse_period(period).text]
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    found = targets.list_targets(_open(_settings(db)), metric_id, periods)
    if as_json:
        sys.stdout.write(json.dumps([t.as_dict() for t in found], indent=2) + "\n")
        return
    listing = RichTable("metric", "period", "target")
    for t in found:
        listing.add_row(t.metric, t.period, f"{t.value:g}")
    out.print(listing)


@target_app.command("import")
def target_import(
    path: Annotated[Path, typer.Argument(metavar="FILE.csv", help="columns metric,period,value")],
    db: DbOption = None,
) -> None:
    """Import targets from a CSV file, all or nothing."""
    from pulse.metrics import targets

    if not path.is_file():
        raise _fail(f"{path}: no such file")
    try:
        count = targets.import_csv(
            _open(_settings(db)), CATALOG, path.read_text(encoding="utf-8-sig")
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"{path}: {exc} (nothing was stored)") from exc
    out.print(f"stored {count} targets")


@target_app.command("delete")
def target_delete(
    metric_id: Annotated[str, typer.Argument(metavar="METRIC", help="metric id")],
    period: Annotated[str, typer.Argument(help="YYYY-MM, YYYY-Qn or YYYY")],
    db: DbOption = None,
) -> None:
    """Remove a metric's target for a period."""
    from pulse.metrics import targets

    try:
        removed = targets.delete_target(_open(_settings(db)), metric_id, period)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if not removed:
        raise _fail(f"target: none for {metric_id} in {period}")
    out.print(f"removed target {metric_id} {period}")


# -- exports, reports, alerts (src/pulse/exports, reports, alerts) ---------------------------------


@app.command("export")
def export_command(
    name: Annotated[
        str, typer.Argument(help="a table id, partner_list, transaction_log, …, or page:SLUG")
    ],
    format: Annotated[str, typer.Option("--format", help="csv, xlsx or pdf")] = "csv",
    window: Annotated[str, typer.Option(help="last_30d, …, or START..END")] = "last_30d",
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    partner: Annotated[str | None, typer.Option(help="only this partner's data")] = None,
    experience: Annotated[str | None, typer.Option(help="page:experiences: one experience")] = None,
    kpis: Annotated[str | None, typer.Option(help="PDF: metric ids shown as KPIs")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="file (default stdout)")] = None,
    db: DbOption = None,
) -> None:
    """Export a table or one of seed 001's named exports, or a dashboard page as PDF
    (`page:admin`, `page:partner`, `page:experiences`, `page:program`; every section). Written
    to the audit log."""
    from pulse.access import audit
    from pulse.exports.page import page_slug, render_page_pdf
    from pulse.exports.pdf import render_pdf
    from pulse.exports.sources import ExportRequest, exportable, resolve
    from pulse.exports.writers import csv_chunks, write_xlsx
    from pulse.metrics.windows import parse_window
    from pulse.web.pages import find_page
    from pulse.web.scope import Scope

    if format not in ("csv", "xlsx", "pdf"):
        raise _fail(f"format: {format!r} is not csv, xlsx or pdf")
    slug = page_slug(name)
    page = find_page(slug) if slug is not None else None
    if slug is not None and page is None:
        raise _fail(f"export: unknown dashboard page {slug!r}")
    if page is not None and format != "pdf":
        raise _fail(f"{name}: a page exports as pdf only (--format pdf)")
    if page is None and not exportable(name):
        raise _fail(f"export: unknown table or export {name!r}")
    settings = _settings(db)
    store = _open(settings)
    try:
        request = ExportRequest(
            name,
            parse_date(as_of, "as-of") if as_of else datetime.now(UTC).date(),
            window,
            partner,
            settings.tz,
            settings.currency,
        )
        parse_window(window, request.as_of)  # a bad window fails before the file is opened
        sink = out_file.open("wb") if out_file else sys.stdout.buffer
        try:
            if page is not None:
                wanted = Scope(
                    window=window,
                    as_of=request.as_of,
                    tz=settings.tz,
                    as_of_given=True,
                    partner=partner,
                    experience=experience,
                )
                sink.write(render_page_pdf(store, page, wanted, settings.currency))
            elif format == "csv":
                for piece in csv_chunks(resolve(store, request)):
                    sink.write(piece)
            elif format == "xlsx":
                write_xlsx([resolve(store, request)], sink, settings.tz)
            else:
                ids = [k for k in (kpis or "").split(",") if k]
                sink.write(render_pdf(store, [request], ids, title=f"Pulse — {name}"))
        finally:
            if out_file:
                sink.close()
    except (KeyError, ValueError) as exc:
        raise _fail(str(exc.args[0] if isinstance(exc, KeyError) else exc)) from exc
    detail = {"format": format, "window": window, "as_of": request.as_of, "partner": partner}
    if page is not None:
        detail |= {"experience": experience, "sections": [s.name for s in page.sections]}
    audit.record(store, actor="cli", action="export", target=name, detail=detail)
    if out_file:
        err.print(f"wrote {out_file}")


@app.command("report")
def report_command(
    name: Annotated[str | None, typer.Argument(help="report name (see --list)")] = None,
    send: Annotated[bool, typer.Option("--send", help="send now")] = False,
    to: Annotated[list[str] | None, typer.Option("--to", help="e-mail address")] = None,
    webhook: Annotated[list[str] | None, typer.Option("--webhook", help="webhook URL")] = None,
    experience: Annotated[str | None, typer.Option(help="per-experience reports")] = None,
    partner: Annotated[str | None, typer.Option(help="only this partner's data")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="last day (default yesterday)")
    ] = None,
    list_all: Annotated[bool, typer.Option("--list", help="list the reports")] = False,
    db: DbOption = None,
) -> None:
    """Send a report now (to --to / --webhook, or else to its subscribers), or print it."""
    from pulse.reports.catalog import REPORTS
    from pulse.reports.run import last_complete_day, preview, run_report

    if list_all or name is None:
        for report in REPORTS.values():
            out.print(f"{report.id:20} {report.cadence:9} {report.label}")
        return
    settings = _settings(db)
    store = _open(settings)
    try:
        day = parse_date(as_of, "as-of") if as_of else last_complete_day()
        if not send:
            rendered = preview(store, settings, name, day, experience=experience, partner=partner)
            sys.stdout.write(rendered.text)
            return
        results = run_report(
            store, settings, name, day, to or [], webhook or [], experience, partner
        )
    except (KeyError, ValueError) as exc:
        raise _fail(str(exc.args[0] if isinstance(exc, KeyError) else exc)) from exc
    sys.stdout.write(json.dumps(results, indent=2) + "\n")
    if any(r["failed"] for r in results):
        raise typer.Exit(code=1)


@app.command("alerts")
def alerts_command(
    evaluate: Annotated[bool, typer.Option("--evaluate", help="run the rules now")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    db: DbOption = None,
) -> None:
    """List alerts (with --evaluate: run the rules first and notify what fires)."""
    from pulse.alerts import state
    from pulse.reports.run import check_alerts

    settings = _settings(db)
    store = _open(settings)
    if evaluate:
        if as_of:
            day = parse_date(as_of, "as-of")
            state.evaluate(store, day, tz=settings.tz, currency=settings.currency)
        else:
            check_alerts(store, settings)
    for alert in state.list_alerts(store, active_only=True):
        out.print(f"{alert['severity']:12} {alert['rule']:24} {alert['message']}")


@app.command()
def worker(db: DbOption = None) -> None:
    """Run the scheduler alone: reports at their times, alert rules every few minutes."""
    import time

    from pulse.reports.schedule import build_scheduler

    settings = _settings(db)
    scheduler = build_scheduler(_open(settings), settings)
    scheduler.start()
    err.print("Pulse worker: " + ", ".join(job.id for job in scheduler.get_jobs()))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        scheduler.shutdown()


if __name__ == "__main__":
    app()
