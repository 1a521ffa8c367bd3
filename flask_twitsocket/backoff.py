"""Growing waits between reconnects: sources, the stream runner and the broker bus share it.

A leaf module on its own, so that the bus (low in the layers) and the sources (above it)
both use it without one importing the other.
"""

from __future__ import annotations

import random


class Backoff:
    """Growing waits between reconnects, reset after a connection works.

    ``linear`` adds ``step`` each time (network errors); otherwise the wait doubles (HTTP
    errors). A little jitter keeps many walls from reconnecting in lock-step.
    """

    def __init__(self, first: float, limit: float, linear: bool = False,
                 jitter: float = 0.1) -> None:
        self.first, self.limit, self.linear, self.jitter = first, limit, linear, jitter
        self.attempts = 0

    def next(self) -> float:
        self.attempts += 1
        if self.linear:
            wait = self.first * self.attempts
        else:
            wait = self.first * 2 ** (self.attempts - 1)
        wait = min(wait, self.limit)
        return wait * (1 + random.uniform(0, self.jitter))

    def reset(self) -> None:
        self.attempts = 0
