"""The hub's journal reader (``PostStore.journal_reader``): the same entries as the store's
query, through a connection it keeps — which on PostgreSQL must never sit idle in a
transaction, must come back after the server dropped it, and must go back to the pool as
the pool's other users expect it."""

from __future__ import annotations

import json

import pytest
from conftest import x_post
from sqlalchemy import text

from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor

READ = "SELECT id, kind, payload, walls FROM twitsocket_journal WHERE id >%"


@pytest.fixture
def app_config():
    return {"TWITSOCKET_WALLS": {"main": {"track_keywords": ["#devconf26"]},
                                 "room-a": {"track_keywords": ["#python"]}}}


def ingest(app, *events):
    build_ingestor(app.extensions["twitsocket"]).ingest(
        [RawEvent("x", json.dumps(event)) for event in events])


@pytest.fixture
def read(app):
    """A reader of the app's journal, the hub's thread stopped (its own reader closed)."""
    app.extensions["twitsocket"].hub.stop()
    reader = app.extensions["twitsocket"].store.journal_reader()
    yield reader
    reader.close()


@pytest.fixture
def on_postgres(app):
    state = app.extensions["twitsocket"]
    if state.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (run with TWITSOCKET_TEST_DATABASE_URL=postgresql…)")
    return state


def readers(state, what: str) -> list:
    """``what`` of this database's connections whose last query was the reader's."""
    with state.engine.connect() as conn:
        return conn.execute(text(
            f"SELECT {what} FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND query LIKE :read"), {"read": READ}).scalars().all()


def test_the_reader_reads_what_the_journal_holds_in_order(app, read):
    store = app.extensions["twitsocket"].store
    assert read(0, 100) == []
    ingest(app, x_post(1, text="#python"), x_post(2, text="#devconf26 #python"))
    ingest(app, x_post(3, text="#devconf26"))
    entries = read(0, 100)
    assert entries == store.journal_entries_with_walls_after(0, 100)
    assert [tuple(entry) for entry in entries] == entries  # plain tuples, as before
    assert read(entries[1][0], 2) == entries[2:4]
    assert read(entries[-1][0], 100) == []


def test_on_postgres_the_kept_connection_is_never_idle_in_a_transaction(app, on_postgres,
                                                                       read):
    ingest(app, x_post(1, text="#python"))
    assert read(0, 100)
    assert readers(on_postgres, "state") == ["idle"]


def test_on_postgres_the_reader_comes_back_after_its_connection_was_dropped(app, on_postgres,
                                                                          read):
    ingest(app, x_post(1, text="#python"))
    first = read(0, 100)
    assert readers(on_postgres, "pg_terminate_backend(pid)") == [True]  # as a restart does
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error; the hub logs it
        read(0, 100)
    ingest(app, x_post(2, text="#python"))
    assert read(0, 100)[:len(first)] == first
    assert len(read(first[-1][0], 100)) > 0


def test_on_postgres_closing_gives_back_a_connection_that_is_not_in_autocommit(on_postgres,
                                                                             read):
    read(0, 100)
    read.close()
    engine = on_postgres.engine
    pooled = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
    try:
        assert pooled  # the reader's connection is back in the pool
        assert [each.driver_connection.autocommit for each in pooled] == [False] * len(pooled)
    finally:
        for each in pooled:
            each.close()
