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
def ingest(inputs, db, published, batch_size, max_bytes) -> None:
    """Read articles (files, directories, feeds, JSON Lines, '-' for stdin), extract and store them."""
    store = Store.open(url_for(db))
    options = IngestOptions(published=published, max_bytes=max_bytes)
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
        )
    err.print(
        f"documents read: {report.read}  stored: {report.stored}  duplicates: {report.duplicates}  "
        f"skipped: {len(report.skipped)}  events: {report.events}  claims: {report.claims}",
        highlight=False,
    )
    for p in report.skipped:
        err.print(f"  skipped {p.source}: {p.reason}", highlight=False, soft_wrap=True)
    store.close()
    sys.exit(1 if report.failed else 0)


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
        table = Table(title=f"{r.kind}: {r.source} ({r.n_items} items, {len(r.errors)} errors)")
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


if __name__ == "__main__":
    main()
