"""PostgreSQL LISTEN/NOTIFY as the bus, against the real PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

from bus_contract import *  # noqa: F403  (the shared contract runs here, on PostgreSQL)
from bus_contract import broker_fixtures
from conftest import x_post
from scaleout import kill_postgres_listeners

from flask_twitsocket.bus.postgres import libpq_url

broker_url, dead_broker_url, kill_subscriptions = broker_fixtures(
    "postgres_url", "postgresql://postgres@127.0.0.1:{port}/test", kill_postgres_listeners)


def test_the_payload_is_the_journal_id_even_for_a_huge_post(postgres_url, channel, writer):
    """NOTIFY stops at 8000 bytes; a 20,000-character post must not come near it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as listener:
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        writer(x_post(1, text="é" * 20_000))
        hints = list(listener.notifies(timeout=10, stop_after=1))
    assert len(hints) == 1
    assert hints[0].payload.isdigit() and len(hints[0].payload) <= 20
