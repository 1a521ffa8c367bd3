"""Redis pub/sub as the bus, against the real Redis at 127.0.0.1:6379 (see bus_contract)."""

from __future__ import annotations

from bus_contract import *  # noqa: F403  (the shared contract runs here, on Redis)
from bus_contract import broker_fixtures
from conftest import x_post
from scaleout import kill_redis_subscriptions

broker_url, dead_broker_url, kill_subscriptions = broker_fixtures(
    "redis_url", "redis://127.0.0.1:{port}/0", kill_redis_subscriptions)


def test_the_hint_is_the_journal_id(redis_url, channel, writer):
    import redis

    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    try:
        writer(x_post(1, text="x" * 10_000))
        message = None
        for _ in range(50):
            message = pubsub.get_message(timeout=0.2)
            if message:
                break
        assert message is not None, "no hint was published"
        assert message["data"].isdigit() and int(message["data"]) >= 1
    finally:
        pubsub.close()
        client.close()
