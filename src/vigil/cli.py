"""`vigil ...`: parse the command line, call one library function, print the result."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from vigil import export as exporter
from vigil import pipeline
from vigil.engine import ENGINES, EngineOptions
from vigil.ingest import IngestOptions
from vigil.model import Problem
from vigil.store import EventFilter, Store, url_for

err = Console(stderr=True)


def _console() -> Console:
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    return console


def _date(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (use YYYY-MM-DD)") from exc


db_option = click.option(
    "--db",
    envvar="VIGIL_DATABASE_URL",
    help="SQLite file or database URL (default: the user data directory).",
)


def filter_options(f):
    for opt in reversed(
        [
            click.option(
                "--from", "date_from", callback=_date, help="Events on or after this date (YYYY-MM-DD)."
            ),
            click.option("--to", "date_to", callback=_date, help="Events on or before this date."),
            click.option(
                "--governorate", "--admin1", "governorate", help="First-level division, any spelling."
            ),
            click.option("--type", "event_type", help="ACLED event type or sub-event type."),
            click.option("--actor", help="Text in actor1 or actor2 (claimant or relay for claims)."),
            click.option("--min-fatalities", type=click.IntRange(min=0), help="At least this many dead."),
            click.option("--limit", type=click.IntRange(min=1), help="At most this many rows."),
            click.option(
                "--reviewed",
                type=click.Choice(["all", "only", "unreviewed"]),
                default="all",
                show_default=True,
                help="Events: all, only those a reviewer confirmed or edited, or those never reviewed.",
            ),
            click.option("--include-rejected", is_flag=True, help="Events: also those a reviewer rejected."),
            click.option("--machine", is_flag=True, help="Events: the values as extracted, reviews ignored."),
        ]
    ):
        f = opt(f)
    return f


def _filter(**kw) -> EventFilter:
    return pipeline.event_filter(**kw)


@click.group()
@click.version_option(package_name="vigil")
def main() -> None:
    """vigil: news reports about violence against civilians, turned into a sourced event dataset."""


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@db_option
@click.option("--published", callback=_date, help="Publication date for inputs whose metadata gives none.")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--max-bytes", default=IngestOptions().max_bytes, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--reconcile/--no-reconcile", default=True, show_default=True, help="Update incidents afterwards."
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="local",
    show_default=True,
    help="Where extraction runs: this process, or a Dask cluster.",
)
@click.option(
    "--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:8786); default: a local cluster."
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes of the local Dask cluster.",
)
def ingest(inputs, db, published, batch_size, max_bytes, reconcile, engine, scheduler, workers) -> None:
    """Read articles (files, directories, feeds, JSON Lines, '-' for stdin), extract and store them."""
    store = Store.open(url_for(db))
    options = IngestOptions(published=published, max_bytes=max_bytes)
    engine_options = EngineOptions(name=engine, scheduler=scheduler, workers=workers)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task("ingesting", total=None)

        def tick(item) -> None:
            bar.advance(task)
            if isinstance(item, Problem):
                bar.console.print(f"[yellow]skipped[/] {item.source}: {item.reason}", highlight=False)

        report = pipeline.ingest(
            list(inputs),
            store=store,
            options=options,
            stdin=sys.stdin.buffer,
            batch_size=batch_size,
            progress=tick,
            engine_options=engine_options,
        )
    err.print(
        f"documents read: {report.read}  stored: {report.stored}  duplicates: {report.duplicates}  "
        f"skipped: {len(report.skipped)}  events: {report.events}  claims: {report.claims}",
        highlight=False,
    )
    for p in report.skipped:
        err.print(f"  skipped {p.source}: {p.reason}", highlight=False, soft_wrap=True)
    if reconcile:
        _print_reconcile(pipeline.reconcile(store))
    store.close()
    sys.exit(1 if report.failed else 0)


def _print_reconcile(r) -> None:
    err.print(
        f"incidents: {r.incidents}  created: {r.created}  changed: {r.changed}  merged away: {r.removed}"
        f"  (from {r.documents} new documents)",
        highlight=False,
    )


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--published", callback=_date, help="Publication date for inputs whose metadata gives none.")
@click.option("--indent", type=int, default=None, help="Pretty-print each JSON object.")
def extract(inputs, published, indent) -> None:
    """Extract without storing: one JSON object per document on stdout, in input order (gold shape)."""
    failed = False
    for item in pipeline.extract_json(
        list(inputs), options=IngestOptions(published=published), stdin=sys.stdin.buffer
    ):
        if isinstance(item, Problem):
            failed = True
            err.print(f"skipped {item.source}: {item.reason}", highlight=False)
            continue
        click.echo(json.dumps(item, ensure_ascii=False, indent=indent))
    sys.exit(1 if failed else 0)


@main.command()
@db_option
@filter_options
@click.option(
    "--format", "fmt", type=click.Choice(["table", *exporter.FORMATS]), default="table", show_default=True
)
def events(db, fmt, **kw) -> None:
    """The stored events, filtered."""
    with Store.open(url_for(db)) as store:
        records = store.events(_filter(**kw))
    if fmt != "table":
        exporter.write(records, fmt, sys.stdout)
        return
    table = Table(title=f"{len(records)} events", show_lines=False)
    for col in (
        "id",
        "dates",
        "type",
        "governorates",
        "location",
        "dead",
        "actor1",
        "actor2",
        "victims",
        "document",
    ):
        table.add_column(col, overflow="fold")
    for r in records:
        e = r.event
        dates = _dates(e.date.start, e.date.end)
        table.add_row(
            e.id,
            dates,
            f"{e.event_type}\n{e.sub_event_type}",
            ", ".join(e.admin1),
            e.location or "",
            _toll(e.fatalities, e.fatalities_low, e.fatalities_high),
            e.actor1 or "",
            e.actor2 or "",
            e.victim_group or "",
            r.document.name,
        )
    _console().print(table)


@main.command()
@db_option
@filter_options
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
def claims(db, fmt, **kw) -> None:
    """The stored casualty claims, filtered (actor matches claimant or relay)."""
    with Store.open(url_for(db)) as store:
        records = store.claims(_filter(**kw))
    if fmt == "jsonl":
        for r in records:
            click.echo(json.dumps(pipeline.claim_json(r), ensure_ascii=False))
        return
    table = Table(title=f"{len(records)} claims")
    for col in (
        "id",
        "claimant",
        "via",
        "count",
        "qualifier",
        "what",
        "scope",
        "period",
        "governorates",
        "document",
    ):
        table.add_column(col, overflow="fold")
    for r in records:
        c = r.claim
        table.add_row(
            c.id,
            c.claimant,
            c.via or "",
            f"{c.count:,}",
            c.qualifier,
            f"{c.killed_or_injured} {c.category}" + (f" ({c.victim_group})" if c.victim_group else ""),
            c.scope,
            _dates(c.period.start, c.period.end),
            ", ".join(c.admin1),
            r.document.name,
        )
    _console().print(table)


@main.command()
@click.argument("event_id")
@db_option
def show(event_id, db) -> None:
    """One event with every field's evidence, highlighted in its sentences."""
    with Store.open(url_for(db)) as store:
        record = store.event(event_id)
    if record is None:
        err.print(f"no event {event_id!r} in the store")
        sys.exit(1)
    console = _console()
    view = pipeline.event_view(record)
    console.print(f"[bold]{view.title}[/]", highlight=False)
    for name, value in view.fields:
        console.print(f"  {name:<18} {value}", highlight=False)
    console.print(f"\n[bold]document[/] {view.document}", highlight=False)
    for sentence in view.sentences:
        line = Text("  > ")
        line.append(sentence.text)
        for start, end, _label in sentence.marks:
            line.stylize("bold reverse", 4 + start, 4 + end)
        console.print(line)
    console.print("\n[bold]evidence[/]")
    for ev in view.evidence:
        console.print(f"  {ev.field:<14} [{ev.start}:{ev.end}] {ev.text!r}  ({ev.rule})", highlight=False)
    for c in view.claims:
        console.print(f"  claim {c}", highlight=False)


@main.command("export")
@db_option
@filter_options
@click.option("--format", "fmt", type=click.Choice(exporter.FORMATS), required=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout)."
)
def export_cmd(db, fmt, output, **kw) -> None:
    """Export events as ACLED or UCDP columns, GeoJSON, CSV or lossless JSON Lines."""
    with Store.open(url_for(db)) as store:
        records = store.events(_filter(**kw))
    if output is None:
        n = exporter.write(records, fmt, sys.stdout)
    else:
        with output.open("w", encoding="utf-8", newline="") as out:
            n = exporter.write(records, fmt, out)
    err.print(f"{n} events exported as {fmt}", highlight=False)


def _dates(start, end) -> str:
    if start is None:
        return "undated"
    return start.isoformat() if end in (None, start) else f"{start.isoformat()}..{end.isoformat()}"


def _toll(n: int, low: int | None, high: int | None) -> str:
    if high is not None and high != n:
        return f"{n:,} ({low:,}-{high:,})"
    return f"{n:,}"


@main.command("eval")
@click.option(
    "--gold", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Directory of *.gold.json."
)
@click.option(
    "--articles",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Where the gold articles are (default: ../corpus and ../seeds beside the gold directory).",
)
@click.option(
    "--acled", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="ACLED CSV export."
)
@click.option(
    "--ucdp", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="UCDP-AEC JSON Lines."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many items per answer key.")
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), help="Write the full JSON report here."
)
@click.option(
    "--check-floors", is_flag=True, help="Exit 1 when a score is below its floor in eval_floors.yaml."
)
def eval_cmd(gold, articles, acled, ucdp, limit, report, check_floors) -> None:
    """Score the extractor against answer keys (default: the three dev keys in ../shared)."""
    from vigil import eval as evaluation

    keys = [
        (kind, path) for kind, path in (("gold", gold), ("acled", acled), ("ucdp", ucdp)) if path is not None
    ]
    try:
        reports = evaluation.run(keys, out=report, limit=limit, articles=articles, floors=check_floors)
    except evaluation.SharedMissing as exc:
        err.print(f"{exc}; name the keys with --gold, --acled or --ucdp", highlight=False)
        sys.exit(2)
    console = _console()
    for r in reports:
        bounds = {f.name: f for f in r.floors}
        table = Table(title=f"{r.kind}: {r.n_items} items, {len(r.errors)} errors", caption=r.source)
        for col in ("score", "value", "n/d", *(["floor"] if check_floors else [])):
            table.add_column(col, justify="left" if col == "score" else "right")
        for s in r.scores:
            f = bounds.get(s.name)
            value = f"[red]{s.value:.4f}[/]" if f and not f.ok else f"{s.value:.4f}"
            floor = (
                [("" if f is None else f"{'≥' if f.higher_is_better else '≤'} {f.bound:.2f}")]
                if check_floors
                else []
            )
            table.add_row(s.name, value, f"{s.numerator}/{s.denominator}", *floor)
        console.print(table)
        for p in r.errors:
            err.print(f"  error {p.source}: {p.reason}", highlight=False, soft_wrap=True)
    if report is not None:
        err.print(f"report written to {report}", highlight=False)
    misses = [m for r in reports for m in r.below_floor]
    for m in misses:
        side = "below its floor" if m.higher_is_better else "above its ceiling"
        value = "missing" if m.value is None else f"{m.value:.4f}"
        err.print(f"{m.kind}.{m.name} = {value}, {side} {m.bound:.2f}", highlight=False)
    if misses:
        sys.exit(1)


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--tiles", help="Online map tile URL template, offered as a base layer that is off by default.")
def serve(db, host, port, tiles) -> None:
    """Serve the HTTP API and the dashboard (http://HOST:PORT/, API docs at /docs)."""
    from vigil import api

    api.serve(db, host=host, port=port, tiles=tiles)


@main.group()
def token() -> None:
    """Tokens for the API's write endpoints (adding documents, reviewing events)."""


@token.command("create")
@click.argument("name")
@db_option
def token_create(name, db) -> None:
    """Create a token for reviewer NAME and print it; it is shown only this once."""
    from vigil.store import review

    with Store.open(url_for(db)) as store:
        try:
            secret = review.create_token(store, name)
        except review.TokenError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(secret)
    err.print(f"token for {name!r} created; it is not stored and cannot be shown again", highlight=False)


@token.command("list")
@db_option
def token_list(db) -> None:
    """The tokens created so far (names and dates, never the tokens)."""
    from vigil.store import review

    with Store.open(url_for(db)) as store:
        tokens = review.list_tokens(store)
    table = Table(title=f"{len(tokens)} tokens")
    for col in ("name", "created", "revoked"):
        table.add_column(col)
    for t in tokens:
        revoked = t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else ""
        table.add_row(t.name, t.created_at.isoformat(timespec="seconds"), revoked)
    _console().print(table)


@token.command("revoke")
@click.argument("name")
@db_option
def token_revoke(name, db) -> None:
    """Revoke NAME's active token."""
    from vigil.store import review

    with Store.open(url_for(db)) as store:
        revoked = review.revoke_token(store, name)
    if not revoked:
        raise click.ClickException(f"no active token named {name!r}")
    err.print(f"token {name!r} revoked", highlight=False)


@main.command("reconcile")
@db_option
def reconcile_cmd(db) -> None:
    """Fold documents not yet reconciled into incidents (ingest does this unless --no-reconcile)."""
    with Store.open(url_for(db)) as store:
        _print_reconcile(pipeline.reconcile(store))


@main.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option(
    "--reviewed",
    type=click.Choice(["all", "only"]),
    default="all",
    show_default=True,
    help="only: the incidents a merge decision is about.",
)
def incidents(db, fmt, reviewed) -> None:
    """Incidents across documents: members, parent and children, tolls per category."""
    with Store.open(url_for(db)) as store:
        views = pipeline.incident_views(store, reviewed=reviewed)
    if fmt == "jsonl":
        for v in views:
            click.echo(json.dumps(pipeline.incident_json(v), ensure_ascii=False))
        return
    table = Table(title=f"{len(views)} incidents")
    for col in (
        "id",
        "dates",
        "type",
        "governorates",
        "sources",
        "dead (low/best/high)",
        "parent",
        "children",
    ):
        table.add_column(col, overflow="fold")
    for v in views:
        i = v.incident
        total = next((t for t in i.tolls if t.category == "total"), None)
        table.add_row(
            i.id,
            _dates(i.date.start, i.date.end),
            f"{i.event_type}\n{i.sub_event_type or ''}",
            ", ".join(i.admin1),
            str(len(i.sources)),
            f"{total.low}/{total.best}/{total.high}" if total else "",
            i.parent_id or "",
            str(len(i.children)),
        )
    _console().print(table)


@main.command()
@click.argument("incident_id")
@db_option
@click.option("--history", is_flag=True, help="Every version: what changed and which document caused it.")
@click.option("--explain", is_flag=True, help="Why the mentions were merged: each link with its score.")
def incident(incident_id, db, history, explain) -> None:
    """One incident: members, tolls with each claimant's running total, and optionally history and links."""
    from vigil.store import incidents as stored

    with Store.open(url_for(db)) as store:
        found = stored.get(store, incident_id)
        versions = stored.history(store, incident_id)
        views = {v.incident.id: v for v in pipeline.incident_views(store)} if found else {}
    if found is None and not versions:
        err.print(f"no incident {incident_id!r} in the store")
        sys.exit(1)
    console = _console()
    if found is not None:
        data = pipeline.incident_json(views[incident_id])
        console.print(
            f"[bold]{incident_id}[/] {found.event_type} / {found.sub_event_type}",
            highlight=False,
            markup=False,
        )
        console.print(
            f"  dates {_dates(found.date.start, found.date.end)}  governorates {', '.join(found.admin1)}",
            markup=False,
        )
        console.print(
            f"  parent {found.parent_id or '-'}  children {', '.join(found.children) or '-'}", markup=False
        )
        for m in data["members"]:
            console.print(f"  member {m['event_id']}  {m['source']}", highlight=False, markup=False)
        for d in views[incident_id].reviews:
            what = f"{d.action} {d.event_id}" if d.event_id else d.action
            console.print(
                f"  review {d.version} {what} by {d.reviewer} ({d.created_at:%Y-%m-%d %H:%M}): {d.reason}",
                highlight=False,
                markup=False,
            )
        for t in data["tolls"]:
            console.print(
                f"  toll {t['category']}: low {t['low']} best {t['best']} high {t['high']}",
                highlight=False,
                markup=False,
            )
            for line in t["claimants"]:
                points = ", ".join(
                    f"{p['date'] or '?'} {p['count']:,} ({p['status']})" for p in line["history"]
                )
                console.print(f"    {line['claimant']}: {points}", highlight=False, markup=False)
    if history:
        console.print("[bold]history[/]")
        for v in versions:
            review = v.detail.get("review") if isinstance(v.detail, dict) else None
            cause = (
                f"review {review['version']} by {review['reviewer']}: {review['reason']}"
                if review
                else f"caused by {', '.join(v.doc_ids)}"
            )
            console.print(f"  v{v.version} {', '.join(v.kinds)}  {cause}", highlight=False, markup=False)
            console.print(f"     {json.dumps(v.detail, ensure_ascii=False)}", highlight=False, markup=False)
    if explain and found is not None:
        console.print("[bold]links[/] (score = sum of parts; linked at >= threshold)")
        for link in found.links:
            parts = ", ".join(f"{k} {v:+.2f}" for k, v in link.parts)
            console.print(
                f"  {link.a} ~ {link.b}: {link.score:.2f}  [{parts}]", highlight=False, markup=False
            )
        if found.parent_id:
            console.print(
                f"  nested in {found.parent_id} (fit {found.parent_score})", highlight=False, markup=False
            )


@main.command("review-incident")
@click.argument("incident_id")
@click.option("--confirm", is_flag=True, help="Its members belong together: keep them together.")
@click.option(
    "--reject", "reject", metavar="EVENT_ID", help="This member is not the incident the others are."
)
@click.option("--reason", required=True, help="Why (recorded with the decision).")
@click.option("--reviewer", required=True, help="Who decides (as a token name would say).")
@db_option
def review_incident_cmd(incident_id, confirm, reject, reason, reviewer, db) -> None:
    """Confirm incident INCIDENT_ID or reject one of its members; the incidents are regrouped at once."""
    from vigil.store import incidents as stored

    if confirm == bool(reject):
        raise click.UsageError("give either --confirm or --reject EVENT_ID")
    with Store.open(url_for(db)) as store:
        try:
            report = pipeline.review_incident(
                store,
                incident_id,
                action="confirm" if confirm else "reject",
                event_id=reject,
                reason=reason,
                reviewer=reviewer,
            )
        except stored.UnknownIncident:
            raise click.ClickException(f"no incident {incident_id!r} in the store") from None
        except stored.IncidentReviewError as exc:
            raise click.ClickException(str(exc)) from None
    d = report.decision
    err.print(
        f"review {d.version}: {d.action} {incident_id}{' ' + d.event_id if d.event_id else ''} "
        f"(incidents created {report.created}, changed {report.changed}, merged away {report.removed})",
        highlight=False,
        markup=False,
    )
    for event_id, holder in report.incidents.items():
        click.echo(f"{event_id}\t{holder}")


@main.command("alerts")
@db_option
@click.option("--as-of", callback=_date, help="Last day of the window (default: the latest incident date).")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Watch rules (YAML).",
)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the alerts as JSON."
)
@click.option("--webhook", help="POST the alerts as JSON to this URL.")
def alerts_cmd(db, as_of, rules_file, json_out, webhook) -> None:
    """Governorates (and victim groups) whose violence against civilians rises above their baseline."""
    try:
        with Store.open(url_for(db)) as store:
            raised = pipeline.alerts(
                store, as_of=as_of, rules_file=rules_file, json_out=json_out, webhook=webhook
            )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    console = _console()
    console.print(f"{len(raised)} alerts", highlight=False)
    for a in raised:
        console.print(
            f"- {a.rule} {a.area}{' / ' + a.victim_group if a.victim_group else ''}: {a.explanation}",
            markup=False,
        )
        for b in a.behind:
            console.print(f"    {b.date} {b.incident_id} {', '.join(b.admin1)} dead {b.dead}", markup=False)


@main.command("watch")
@click.argument(
    "sources_file", metavar="SOURCES.yaml", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@db_option
@click.option("--once", is_flag=True, help="Poll every source once, fetch what is new, and exit.")
@click.option(
    "--rounds", type=click.IntRange(min=1), help="Stop after this many rounds (default: run until stopped)."
)
@click.option("--status", "show_status", is_flag=True, help="Show each source's health and exit.")
@click.option(
    "--alerts-rules",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Watch rules (YAML) evaluated after each round.",
)
@click.option(
    "--alerts-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the current alerts in this file.",
)
@click.option("--webhook", help="POST new alerts as JSON to this URL.")
def watch_cmd(sources_file, db, once, rounds, show_status, rules_file, alerts_json, webhook) -> None:
    """Poll feeds and sitemaps, store new articles, update incidents and alerts (JSON logs on stderr)."""
    from vigil import watch

    sys.exit(
        watch.command(
            sources_file,
            db=db,
            once=once,
            rounds=rounds,
            show_status=show_status,
            rules_file=rules_file,
            alerts_json=alerts_json,
            webhook=webhook,
        )
    )


if __name__ == "__main__":
    main()
