"""The shipped Alembic migrations produce exactly the models' schema, on SQLite and on
PostgreSQL (``TWITSOCKET_TEST_DATABASE_URL``), and keep out of the host app's way.

When a test here fails after a change to ``models.py``: write the missing revision with
``python -m flask_twitsocket.migrations revision -m "what changed"`` and review it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, inspect, text

from flask_twitsocket import migrations
from flask_twitsocket.models import metadata

HOST = MetaData()
HOST_POSTS = Table("blog_posts", HOST, Column("id", Integer, primary_key=True))
HOST_VERSIONS = Table("alembic_version", HOST, Column("version_num", Integer))


def reset(engine: Engine) -> None:
    metadata.drop_all(engine)
    HOST.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {migrations.VERSION_TABLE}"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    reset(engine)
    yield engine
    reset(engine)
    engine.dispose()


def drift(engine: Engine, target: MetaData = metadata) -> list:
    with engine.connect() as connection:
        return migrations.drift(connection, target)


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return migrations.current_revision(connection)


def test_migrations_produce_exactly_the_models_schema(engine):
    migrations.upgrade(engine)
    assert drift(engine) == [], (
        "models.py and the migrations disagree: add a revision with "
        "`python -m flask_twitsocket.migrations revision -m '...'`")
    assert revision_of(engine) == migrations.head()


def test_the_comparison_notices_a_model_change(engine):
    """The test above can fail: a column the revisions lack is reported."""
    migrations.upgrade(engine)
    changed = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["twitsocket_posts"].append_column(Column("language", Integer))
    differences = drift(engine, changed)
    assert [d[0] for d in differences] == ["add_column"]
    assert differences[0][3].name == "language"


def test_one_head_and_every_revision_downgrades_cleanly(engine):
    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    assert len(scripts.get_heads()) == 1, "branched history: merge the heads"
    migrations.upgrade(engine)
    with engine.begin() as connection:
        command.downgrade(migrations.alembic_config(connection), "base")
    assert not set(inspect(engine).get_table_names()) & set(metadata.tables)
    migrations.upgrade(engine)
    assert drift(engine) == []


def test_init_db_leaves_the_host_apps_tables_and_alembic_alone(engine, run_cli):
    HOST.create_all(engine)
    with engine.begin() as connection:
        connection.execute(HOST_VERSIONS.insert().values(version_num=42))
        connection.execute(HOST_POSTS.insert().values(id=1))
    first = run_cli("init-db")
    second = run_cli("upgrade-db")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "already up to date" in second.stdout
    with engine.connect() as connection:
        assert connection.execute(HOST_VERSIONS.select()).all() == [(42,)]
        assert connection.execute(HOST_POSTS.select()).all() == [(1,)]
    assert revision_of(engine) == migrations.head()
    assert drift(engine) == []


def test_tables_made_before_migrations_are_adopted(engine, run_cli):
    metadata.create_all(engine)  # what `init-db` did before the migrations existed
    result = run_cli("init-db")
    assert result.returncode == 0, result.stderr
    assert "adopted existing tables" in result.stdout
    assert revision_of(engine) == migrations.head()


def test_a_managed_database_whose_tables_were_dropped_is_rebuilt(engine):
    migrations.upgrade(engine)
    metadata.drop_all(engine)
    migrations.upgrade(engine)
    assert drift(engine) == []
