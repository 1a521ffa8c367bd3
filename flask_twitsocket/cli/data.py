"""``export``, ``purge`` and ``backup``: the wall's data, kept or deleted on purpose.

An event's posts are worth keeping (a JSON-lines export replays into any wall, a CSV
opens in a spreadsheet) and worth deleting afterwards (people's posts, kept no longer
than needed). Both run beside a running stream: export reads in chunks, purge is one
transaction, the SQLite backup uses the online backup API.
"""

from __future__ import annotations

import csv
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO

import click
from flask.cli import with_appcontext

from ..serialise import dumps
from ..state import current_state
from ..store.lifecycle import (
    CSV_FIELDS,
    backup_sqlite,
    count_posts,
    csv_row,
    export_records,
    purge,
)
from .group import twitsocket_cli


def _date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@twitsocket_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="jsonl replays with --source replay; csv is for "
                                      "spreadsheets.")
@click.option("--since", help="Only posts created on or after this date (YYYY-MM-DD).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@with_appcontext
def export(fmt: str, since: str | None, output: Path | None) -> None:
    """Write every stored post, oldest first, with a progress bar on stderr."""
    state = current_state()
    moment = _date(since)
    total = count_posts(state.engine, moment)
    out: IO[str] = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        writer = csv.DictWriter(out, CSV_FIELDS) if fmt == "csv" else None
        if writer:
            writer.writeheader()
        with click.progressbar(export_records(state.engine, moment), length=total,
                               label="Exporting", file=sys.stderr) as records:
            for record in records:
                if writer:
                    writer.writerow(csv_row(record))
                else:
                    out.write(dumps(record) + "\n")
    finally:
        if output:
            out.close()
    click.echo(f"Exported {total} posts", err=True)


@twitsocket_cli.command("purge")
@click.option("--older-than", "days", type=click.FloatRange(min=0), required=True,
              help="Delete posts created more than this many days ago.")
@click.option("--raw-only", is_flag=True,
              help="Keep the posts; only blank their raw network payloads.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def purge_command(days: float, raw_only: bool, yes: bool) -> None:
    """Delete old posts (with their pins, top-list rows and journal entries); tombstones
    stay at least a week, so a network's re-delivery never brings a deleted post back."""
    state = current_state()
    cut = datetime.now(timezone.utc) - timedelta(days=days)
    what = "blank the raw payloads of" if raw_only else "delete"
    if not yes:
        click.confirm(f"{what.capitalize()} every post created before "
                      f"{cut:%Y-%m-%d %H:%M} UTC?", abort=True, err=True)
    done = purge(state.engine, cut, raw_only=raw_only)
    click.echo("Purged: " + ", ".join(f"{count} {kind}" for kind, count in done.items()))


@twitsocket_cli.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(destination: Path) -> None:
    """Copy a SQLite database consistently while the wall runs (PostgreSQL: pg_dump)."""
    state = current_state()
    try:
        pages = backup_sqlite(state.engine, destination)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up {pages} pages to {destination}")
