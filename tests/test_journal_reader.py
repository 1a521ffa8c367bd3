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


def postgres_only(app):
    if app.extensions["twitsocket"].engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (run with TWITSOCKET_TEST_DATABASE_URL=postgresql…)")


def test_the_reader_reads_what_the_journal_holds_in_order(app):
    store = app.extensions["twitsocket"].store
    app.extensions["twitsocket"].hub.stop()
    read = store.journal_reader()
    try:
        assert read(0, 100) == []
        ingest(app, x_post(1, text="#python"), x_post(2, text="#devconf26 #python"))
        ingest(app, x_post(3, text="#devconf26"))
        entries = read(0, 100)
        assert entries == store.journal_entries_with_walls_after(0, 100)
        assert [tuple(entry) for entry in entries] == entries  # plain tuples, as before
        assert read(entries[1][0], 2) == entries[2:4]
        assert read(entries[-1][0], 100) == []
    finally:
        read.close()


def test_on_postgres_the_kept_connection_is_never_idle_in_a_transaction(app):
    postgres_only(app)
    state = app.extensions["twitsocket"]
    state.hub.stop()
    read = state.store.journal_reader()
    ingest(app, x_post(1, text="#python"))
    assert read(0, 100)
    with state.engine.connect() as conn:
        states = conn.execute(text(
            "SELECT state FROM pg_stat_activity WHERE query LIKE :read"),
            {"read": READ}).scalars().all()
    read.close()
    assert states == ["idle"]


def test_on_postgres_the_reader_comes_back_after_its_connection_was_dropped(app):
    postgres_only(app)
    state = app.extensions["twitsocket"]
    state.hub.stop()
    read = state.store.journal_reader()
    ingest(app, x_post(1, text="#python"))
    first = read(0, 100)
    with state.engine.connect() as conn:  # what a server restart does to it
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE query LIKE :read"), {"read": READ})
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error; the hub logs it
        read(0, 100)
    ingest(app, x_post(2, text="#python"))
    assert read(0, 100)[:len(first)] == first
    assert len(read(first[-1][0], 100)) > 0
    read.close()


def test_on_postgres_closing_gives_back_a_connection_that_is_not_in_autocommit(app):
    postgres_only(app)
    state = app.extensions["twitsocket"]
    state.hub.stop()
    read = state.store.journal_reader()
    read(0, 100)
    read.close()
    pooled = [state.engine.raw_connection() for _ in range(state.engine.pool.checkedin())]
    try:
        assert pooled  # the reader's connection is back in the pool
        assert [each.driver_connection.autocommit for each in pooled] == [False] * len(pooled)
    finally:
        for each in pooled:
            each.close()
