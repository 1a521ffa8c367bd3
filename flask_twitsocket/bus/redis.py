"""Redis pub/sub as the wake-up bus: low latency across any number of workers and hosts.

Redis pub/sub is at-most-once: a message published while a subscriber is reconnecting is
gone for good. That is why only a *hint* travels here (the newest journal id, a few bytes)
and the journal table stays the source of truth: after every hint, after every reconnect
and at least every ``BUS_SAFETY_INTERVAL`` seconds the hub reads ``id > last_seen`` from
the database, so a dropped hint delays a post by a few seconds at worst and never loses it
(the rules are in :mod:`flask_twitsocket.bus.broker`).

Each web worker holds ONE subscription (in its hub thread) however many browsers it
serves; the stream process only publishes. redis-py's own retries are switched off:
a silent re-subscribe would hide the gap that the hub must catch up on.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ..config import Settings
from .broker import BrokerBus, close_quietly


class RedisBus(BrokerBus):
    """Publish journal ids on a Redis channel; wait for them in the hub thread."""

    name = "redis"

    def __init__(self, settings: Settings, url: str, **options: Any) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        super().__init__(settings, **options)
        self._errors = (redis.ConnectionError, redis.TimeoutError, OSError)
        common = {"socket_connect_timeout": 5, "socket_keepalive": True,
                  "retry": Retry(NoBackoff(), 0)}
        # Writers: short timeouts, so a Redis outage never holds up storing posts.
        self._publisher = redis.Redis.from_url(url, socket_timeout=2, **common)
        # The subscriber blocks in get_message(timeout), so no socket timeout; the health
        # check PING notices a half-open connection (a vanished host, a NAT timeout).
        # Named, so an operator's CLIENT LIST shows which worker holds which subscription.
        self._subscriber = redis.Redis.from_url(
            url, health_check_interval=15, client_name=f"twitsocket-sub-{os.getpid()}",
            **common)

    def _publish(self, payload: str) -> None:
        self._publisher.publish(self.channel, payload)

    def _open(self) -> Any:
        pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
        except Exception:
            close_quietly(pubsub)
            raise
        return pubsub

    def _receive(self, subscription: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        # get_message returns None early for subscribe confirmations and health-check
        # pongs, so wait out the rest of the timeout before saying "nothing came".
        while subscription.get_message(timeout=max(0.0, deadline - time.monotonic())) is None:
            if time.monotonic() >= deadline or self._closed.is_set():
                return False
        while subscription.get_message(timeout=0.0):
            pass  # a burst of hints needs one read of the journal, not one each
        return True

    def close(self) -> None:
        super().close()
        close_quietly(self._publisher)
        close_quietly(self._subscriber)
