"""The one error of moderation's actions, in its own module so that every action module
(:mod:`.actions`, :mod:`.wall_rules`, :mod:`.wall_admin`) can raise it."""

from __future__ import annotations


class ModerationError(Exception):
    """An action that cannot be done as asked; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
