"""How many console logins one client may try: a limit shared by every worker, taken first.

The limit lives in the database (``twitsocket_login_attempts``), which every worker and
process of a site shares — the bus's Redis is optional, the database is always there.
Each attempt *takes a slot before the password is checked*, with one atomic
``INSERT … ON CONFLICT DO UPDATE SET attempts = attempts + 1 … RETURNING attempts``: of a
burst of 100 concurrent guesses only the first ``LOGIN_FAILURES`` get a slot, so the
(deliberately slow) password hash is computed at most that many times per window. A right
password gives its slot back, so only failures count.

Windows are fixed (``LOGIN_WINDOW`` seconds, aligned to the epoch): an attacker gets at
most twice the limit across a window boundary, in exchange for a single-row atomic
update. Rows of past windows are deleted whenever an address opens a new window, so the
table holds at most the addresses seen in the current and the previous window.

Addresses come from :func:`client_address` (through the trusted proxies); an IPv6 client
is counted by its /64, the block one subscriber is given, so that it cannot hop through
its own 2**64 addresses.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from ..models import LoginAttempt

ATTEMPTS = LoginAttempt.__table__


def limiter_key(address: str) -> str:
    """What the limit counts: the address, or its /64 for IPv6 (one subscriber's block)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Slot:
    """One login attempt's place in its address's window."""

    key: str
    window_start: int
    attempts: int
    limit: int
    #: Seconds until the window ends (what a refused client should wait).
    retry_after: int

    @property
    def admitted(self) -> bool:
        return self.attempts <= self.limit


class LoginLimiter:
    """``take`` a slot for an address before checking its password; ``give_back`` on
    success. Stateless apart from its settings: any number of instances, in any number
    of processes, share the database's counts."""

    def __init__(self, engine: Engine, limit: int, window: int) -> None:
        self.engine = engine
        self.limit = limit
        self.window = window

    def take(self, address: str, now: float | None = None) -> Slot:
        now = time.time() if now is None else now
        start = int(now // self.window) * self.window
        key = limiter_key(address)
        with self.engine.begin() as conn:
            attempts = conn.execute(_count_attempt(conn, key, start)).scalar_one()
        if attempts == 1:  # a new window for this address: forget the past ones
            self._prune(start)
        retry = max(1, math.ceil(start + self.window - now))
        return Slot(key, start, attempts, self.limit, retry)

    def give_back(self, slot: Slot) -> None:
        """The password was right: the attempt does not count against the address."""
        with self.engine.begin() as conn:
            conn.execute(update(ATTEMPTS)
                         .where(ATTEMPTS.c.address == slot.key,
                                ATTEMPTS.c.window_start == slot.window_start,
                                ATTEMPTS.c.attempts > 0)
                         .values(attempts=ATTEMPTS.c.attempts - 1))

    def _prune(self, current_start: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(ATTEMPTS).where(ATTEMPTS.c.window_start < current_start))


def _count_attempt(conn: Connection, key: str, start: int):
    """The atomic upsert: one more attempt for (key, window), returning the new count."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ATTEMPTS).values(address=key, window_start=start, attempts=1)
    return statement.on_conflict_do_update(
        index_elements=[ATTEMPTS.c.address, ATTEMPTS.c.window_start],
        set_={"attempts": ATTEMPTS.c.attempts + 1},
    ).returning(ATTEMPTS.c.attempts)
