"""The Flask extension object: ``TwitSocket(app)`` or ``twitsocket.init_app(app)``.

Modelled on Flask-SQLAlchemy 3: the extension object holds no per-app state; everything an
app needs lives in a :class:`~flask_twitsocket.state.TwitSocketState` stored in
``app.extensions["twitsocket"]``, so one extension object can serve several apps (tests,
app factories). The top layer: it imports the web routes and the CLI, which find the state
through :func:`~flask_twitsocket.state.current_state`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event

from .cli import twitsocket_cli
from .config import ConfigError, Settings, load_settings
from .state import TwitSocketState, current_state
from .web import create_blueprint

__all__ = ["TwitSocket", "TwitSocketState"]

log = logging.getLogger("flask_twitsocket")


class TwitSocket:
    """The live social wall as a Flask extension.

    :param app: the Flask app, or ``None`` to call :meth:`init_app` later.
    :param db: the host app's ``flask_sqlalchemy.SQLAlchemy``; by default the one already
        registered on the app, else one created for the extension.
    :param moderator_required: the host app's moderator check for the console at
        ``<prefix>/moderate``: called with no arguments during a request, it returns the
        moderator's name (or True) to let the request in, or a false value. Without it,
        ``TWITSOCKET_MODERATOR_PASSWORD`` is the (single) key; without either, the
        console refuses everyone. Also settable with the :meth:`moderator_check` decorator.
    """

    def __init__(self, app: Flask | None = None, db: SQLAlchemy | None = None,
                 moderator_required: Callable[[], Any] | None = None) -> None:
        self.db = db
        self.moderator_required = moderator_required
        if app is not None:
            self.init_app(app)

    def moderator_check(self, check: Callable[[], Any]) -> Callable[[], Any]:
        """Decorator (Flask-Login style) registering the moderator check.

        The same as passing it as ``moderator_required=``. It may be applied after
        ``init_app``: the check is read at request time. For example::

            @twitsocket.moderator_check
            def is_moderator():
                return current_user.is_authenticated and current_user.is_admin and (
                    current_user.name)
        """
        self.moderator_required = check
        return check

    def init_app(self, app: Flask, db: SQLAlchemy | None = None) -> TwitSocketState:
        """Register the extension on ``app``: read and validate every setting (once, here),
        then the blueprint and the CLI. Twice on one app is refused, as Flask-SQLAlchemy
        does: a second state would silently replace the first one's hub and settings."""
        if "twitsocket" in app.extensions:
            raise RuntimeError("A 'TwitSocket' instance has already been registered on this "
                               "Flask app. Import and use that instance instead.")
        settings = load_settings(app.config)
        if settings["MODERATOR_PASSWORD"] and not app.config.get("SECRET_KEY"):
            raise ConfigError("TWITSOCKET_MODERATOR_PASSWORD",
                              "needs the app's SECRET_KEY (the console keeps its login in "
                              "the session cookie)")
        db = db or self.db or _existing_db(app) or _create_db(app)
        state = TwitSocketState(app, settings, db)
        state.moderator_required = self._moderator_check
        app.extensions["twitsocket"] = state
        _configure_logging(settings)
        _tune_sqlite(state)
        app.config.setdefault(
            "SOCK_SERVER_OPTIONS",
            {"ping_interval": settings["PING_INTERVAL"], "max_message_size": 4096},
        )
        app.register_blueprint(create_blueprint(), url_prefix=settings["URL_PREFIX"])
        app.cli.add_command(twitsocket_cli)
        return state

    def _moderator_check(self, wall: str | None = None) -> Any:
        """Read at request time, so the decorator may be applied after ``init_app``. A
        check with a ``wall`` parameter receives the wall an action is for (so a site can
        give a room's volunteer only that room); None when it is for every wall."""
        check = self.moderator_required
        if check is None:
            return None
        if wall is not None and "wall" in inspect.signature(check).parameters:
            return check(wall=wall)
        return check()

    @staticmethod
    def state(app: Flask | None = None) -> TwitSocketState:
        """The state of ``app`` (default: the current app): ``app.extensions["twitsocket"]``."""
        return current_state(app)


def _existing_db(app: Flask) -> SQLAlchemy | None:
    return app.extensions.get("sqlalchemy")


def _create_db(app: Flask) -> SQLAlchemy:
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite:///twitsocket.sqlite3")
    db = SQLAlchemy()
    db.init_app(app)
    return db


def _tune_sqlite(state: TwitSocketState) -> None:
    """WAL lets the stream process write while web workers read; wait instead of failing."""
    engine = state.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


def _configure_logging(settings: Settings) -> None:
    """Send the extension's log to ``TWITSOCKET_LOGFILE`` too, as the original did."""
    logger = logging.getLogger("flask_twitsocket")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    path = settings["LOGFILE"]
    if path and not any(getattr(h, "baseFilename", None) == path for h in logger.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
