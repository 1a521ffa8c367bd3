"""``init-db`` / ``upgrade-db``, ``stream``, ``top`` and ``lister``."""

from __future__ import annotations

import logging
import threading

import click
from flask.cli import with_appcontext

from ..config import ConfigError
from ..migrations import upgrade
from ..moderation import hide_config_banned
from ..pipeline import IngestStats
from ..sources import NOTHING_CONFIGURED, REGISTRY, configured, source_class
from ..state import TwitSocketState, build_ingestor, current_state
from ..store.sources import save_status
from ..stream import ALL_SOURCES_STOPPED, Chores, DatabaseDown, StreamRunner, stop_on_signals
from .group import show_logs, twitsocket_cli

log = logging.getLogger("flask_twitsocket.cli")


def _fail(error: ConfigError) -> None:
    raise click.ClickException(f"Configuration error: {error}")


@twitsocket_cli.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the extension's tables, or bring them to the newest schema (safe to re-run;
    also run it once per release, before restarts). ``upgrade-db`` is the same command."""
    state = current_state()
    done = upgrade(state.engine)
    click.echo(f"Tables ready in {state.engine.url.render_as_string(hide_password=True)}: "
               f"{done}")


#: The same command under the name operators use at an upgrade (both names are public).
twitsocket_cli.add_command(init_db, "upgrade-db")


@twitsocket_cli.command("stream")
@click.option("--source", "source_names", multiple=True,
              type=click.Choice(list(REGISTRY)),
              help="Source to run (repeatable). Default: every configured source.")
@with_appcontext
def stream(source_names: tuple[str, ...]) -> None:
    """Follow the networks and feed the wall until stopped (SIGTERM or Ctrl-C).

    Without ``--source`` it runs every configured network; with none configured it stops
    at once (status 1) and stores nothing."""
    show_logs()
    state = current_state()
    settings = state.settings
    stop = threading.Event()
    names = list(source_names) or configured(settings)
    if not names:
        raise click.ClickException(NOTHING_CONFIGURED)
    state.refresh_walls(force=True)  # the console's walls too, when the table has them
    try:
        sources = [source_class(name)(settings, stop, state.walls) for name in names]
        for source in sources:
            source.check()
    except ConfigError as error:
        _fail(error)
    state.create_tables()
    bus = state.bus
    hidden, journal_id = hide_config_banned(state.store, settings["BANNED_USERS"])
    if hidden:
        bus.notify(journal_id)
        log.info("Hid %d stored posts by users in TWITSOCKET_BANNED_USERS", hidden)
    if len(state.config_walls) > 1 or len(state.walls) > 1:  # what the links refer to
        state.store.record_walls(state.config_walls)
        if state.refresh_walls(force=True):
            for source in sources:  # not started yet: they just take the walls
                source.walls_changed(state.walls)
        log.info("Walls: %s", ", ".join(state.walls))
    ingestor = build_ingestor(state, bus)
    stop_on_signals(stop)
    log.info("Streaming from %s into %s (bus: %s)", ", ".join(names),
             state.engine.url.render_as_string(hide_password=True), bus.name)
    runner = StreamRunner(sources, ingestor, stop,
                          database_down_exit=settings["DATABASE_DOWN_EXIT"])
    runner.chores = _chores(state, runner)
    try:
        stats = runner.run()
    except DatabaseDown as error:  # exit non-zero: systemd restarts the stream
        log.error("Stream stopped: %s", error)
        raise click.ClickException(f"Stream stopped: {error}") from None
    finally:
        bus.close()
    log.info("Stopped: %s", _summary(stats))
    click.echo(f"Stream stopped: {_summary(stats)}")
    if runner.all_stopped_for_good():
        raise click.exceptions.Exit(ALL_SOURCES_STOPPED)


def _chores(state: TwitSocketState, runner: StreamRunner) -> Chores:
    """The stream's periodic work: status rows for /health, top lists without cron."""
    def refresh_top() -> None:
        users, posts = state.store.refresh_top(100)
        log.debug("Top lists refreshed: %d users, %d posts", users, posts)

    def check_walls() -> None:
        """Walls created, edited or archived in the console: the store routes new posts
        by them (``refresh_walls``) and each source follows their tracking."""
        if state.refresh_walls():
            log.info("The walls changed: %s", ", ".join(state.walls))
            for source in runner.sources:
                source.walls_changed(state.walls)

    return Chores(runner.sources, lambda: runner.stats,
                  lambda reports, counters: save_status(state.engine, reports, counters),
                  refresh_top, state.settings["TOP_INTERVAL"], check_walls)


def _summary(stats: IngestStats) -> str:
    return (f"{stats.stored} stored, {stats.duplicates} duplicates, {stats.malformed} "
            f"malformed, {stats.banned} banned, {stats.edited} edited, {stats.deleted} deleted"
            + (f", {stats.held} held for moderation" if stats.held else "")
            + (f", {stats.blocked} blocked" if stats.blocked else ""))


@twitsocket_cli.command("top")
@click.option("--limit", default=100, show_default=True, help="How many users and posts.")
@with_appcontext
def top(limit: int) -> None:
    """Refresh the cached top users and top posts."""
    state = current_state()
    state.create_tables()
    users, posts = state.store.refresh_top(limit)
    click.echo(f"Top lists refreshed: {users} users, {posts} posts")


@twitsocket_cli.command("lister")
@with_appcontext
def lister() -> None:
    """Add everyone who posted about the event (not retweets) to TWITSOCKET_X_LIST_ID."""
    import tweepy

    from ..x_lister import Lister

    show_logs()
    state = current_state()
    state.create_tables()
    try:
        result = Lister(state.settings, state.engine).run()
    except ConfigError as error:
        _fail(error)
    except tweepy.HTTPException as error:
        raise click.ClickException(
            f"X refused to add list members (HTTP {error.response.status_code}): "
            f"{'; '.join(error.api_messages)}") from None
    click.echo(result.summary())
