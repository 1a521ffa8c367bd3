"""Alembic environment for the extension's own tables (never the host app's).

Run through :mod:`flask_twitsocket.migrations` (``flask twitsocket upgrade-db``), which
hands over an open connection in ``config.attributes["connection"]``. The version table
is ``twitsocket_alembic_version`` and only tables of the extension's ``MetaData`` are
compared, so this history lives beside a host app's own Alembic (Flask-Migrate) without
either one seeing, dropping or stamping the other's tables.
"""

from __future__ import annotations

from alembic import context

from flask_twitsocket.migrations import context_options

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run these migrations with `flask twitsocket upgrade-db`, "
                       "not the alembic command")
context.configure(connection=connection, **context_options())
with context.begin_transaction():
    context.run_migrations()
