"""The sources' status and the stream's ingest totals, shared through the database.

The stream process is the only one that knows how its sources fare, and web workers (any
number, any host) are the ones asked — by ``<prefix>/health``, the console and the
metrics. So the stream process upserts one row per source (and its ingest totals) every
few seconds, and every worker reads the same rows. The tables are the store's (see
:mod:`flask_twitsocket.models`); nobody else writes them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..models import SourceStatus, StreamCounter
from .tables import now

STATUS = SourceStatus.__table__
COUNTERS = StreamCounter.__table__
_TIMES = ("last_event_at", "last_error_at", "started_at")


def _moment(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


def _upsert(conn: Any, table: Any, key: str, row: dict[str, Any]) -> None:
    """Insert the row, or update every column of the existing one (both dialects)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**row)
    excluded = statement.excluded
    update = statement.on_conflict_do_update(
        index_elements=[key], set_={column: excluded[column] for column in row
                                    if column != key})
    conn.execute(update)


def save_status(engine: Engine, reports: Iterable[Mapping[str, Any]],
                counters: Mapping[str, int]) -> None:
    """Write the sources' reports (``Source.report()``) and the ingest totals, at once."""
    stamp, pid = now(), os.getpid()
    with engine.begin() as conn:
        for report in reports:
            row = dict(report)
            for name in _TIMES:
                row[name] = _moment(row.get(name)) or (stamp if name == "started_at" else None)
            _upsert(conn, STATUS, "source", {**row, "updated_at": stamp, "pid": pid})
        for name, value in counters.items():
            _upsert(conn, COUNTERS, "name", {"name": name, "value": int(value),
                                             "updated_at": stamp})


def _aware(value: datetime | None) -> datetime | None:
    """SQLite keeps no zone; the store writes UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def read_status(engine: Engine) -> list[dict[str, Any]]:
    """Every source's last report, by name; empty when no stream ever ran (or the table is
    missing on a database not upgraded yet)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(STATUS).order_by(STATUS.c.source)).mappings().all()
    except SQLAlchemyError:
        return []
    return [{key: _aware(value) if isinstance(value, datetime) else value
             for key, value in row.items()} for row in rows]


def read_counters(engine: Engine) -> dict[str, int]:
    """The stream process's ingest totals as last saved (``{}`` if none)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(COUNTERS.c.name, COUNTERS.c.value)).all()
    except SQLAlchemyError:
        return {}
    return {name: int(value) for name, value in rows}
