"""``flask twitsocket lister``: put everyone who posted about the event on an X list.

Only original posts count (a retweet is not a contribution). Each account added is
remembered in ``twitsocket_list_members``, so a rerun (cron) spends its rate-limited calls
on newcomers only. A 429 is waited out until X's ``x-rate-limit-reset``; the list's member
limit (5,000 on X) ends the run with a message rather than an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import click
import tweepy
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from .config import Settings, require
from .models import ListMember, Post
from .x_client import OAUTH_KEYS, XClient

NETWORK = "x"
#: X's member limit per list.
MAX_MEMBERS = 5000
log = logging.getLogger("flask_twitsocket.lister")


@dataclass
class ListerResult:
    added: int = 0
    already: int = 0
    full: bool = False

    def summary(self) -> str:
        text = f"Added {self.added} members ({self.already} already on the list)"
        if self.full:
            text += f"; the list is full (X allows {MAX_MEMBERS} members), so the rest wait"
        return text


def candidates(engine: Engine) -> tuple[list[tuple[str, str]], int]:
    """(author_id, username) of original posters not yet added, and how many were."""
    with Session(engine) as session:
        added = set(session.scalars(select(ListMember.author_id)
                                    .where(ListMember.network == NETWORK)))
        rows = session.execute(
            select(Post.author_id, func.max(Post.author_username))
            .where(Post.network == NETWORK, Post.is_retweet.is_(False))
            .group_by(Post.author_id).order_by(Post.author_id)).all()
    return [(author, name) for author, name in rows if author not in added], len(added)


def is_list_full(error: tweepy.HTTPException) -> bool:
    """X answers 403 with a message about the member limit when the list is full."""
    text = " ".join(error.api_messages).lower()
    return error.response.status_code == 403 and any(
        word in text for word in ("limit", "maximum", "full"))


class Lister:
    def __init__(self, settings: Settings, engine: Engine,
                 sleep: Callable[[float], object] = time.sleep) -> None:
        require(settings, "X_LIST_ID", *OAUTH_KEYS)
        self.settings = settings
        self.engine = engine
        self.client = XClient.from_settings(settings)
        self.list_id = settings["X_LIST_ID"]
        self.sleep = sleep

    def run(self) -> ListerResult:
        todo, already = candidates(self.engine)
        result = ListerResult(already=already)
        room = MAX_MEMBERS - already
        if room <= 0:
            result.full = True
            return result
        with click.progressbar(todo[:room], label="Adding posters to the X list",
                               file=click.get_text_stream("stderr")) as bar:
            for author_id, username in bar:
                try:
                    self._add(author_id)
                except tweepy.Forbidden as error:
                    if not is_list_full(error):
                        raise
                    result.full = True
                    break
                self._remember(author_id, username)
                result.added += 1
        result.full = result.full or len(todo) > room
        return result

    def _add(self, author_id: str) -> None:
        while True:
            try:
                self.client.add_list_member(self.list_id, author_id, user_auth=True)
                return
            except tweepy.TooManyRequests as error:
                reset = error.reset_time or time.time() + 60
                wait = max(reset - time.time(), 1.0) * self.settings["BACKOFF_SCALE"]
                log.warning("Rate limited by X; waiting %.1f s", wait)
                self.sleep(wait)

    def _remember(self, author_id: str, username: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(ListMember(network=NETWORK, author_id=author_id, username=username,
                                   added_at=datetime.now(timezone.utc)))
