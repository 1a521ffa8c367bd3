"""The extension object, its registration, and start-up validation of every setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_twitsocket import ConfigError, TwitSocket, config


def test_init_app_registers_the_extension(tmp_path):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/a.db"
    twitsocket = TwitSocket()
    state = twitsocket.init_app(app)
    assert app.extensions["twitsocket"] is state
    assert state.settings["URL_PREFIX"] == "/twitsocket"
    assert "twitsocket" in app.blueprints


def test_uses_the_host_apps_sqlalchemy(tmp_path):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/host.db"
    db = SQLAlchemy(app)
    state = TwitSocket(app).state(app)
    assert state.db is db


def test_creates_its_own_sqlalchemy_when_the_host_has_none(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))
    TwitSocket(app)
    state = app.extensions["twitsocket"]
    assert isinstance(state.db, SQLAlchemy)
    state.create_tables()
    assert (tmp_path / "twitsocket.sqlite3").exists()


def refused(tmp_path, key: str, value: object) -> tuple[Flask, ConfigError]:
    """An app configured with one bad value, and the error its TwitSocket(app) raised."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/a.db"
    app.config[key] = value
    with pytest.raises(ConfigError) as error:
        TwitSocket(app)
    return app, error.value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TWITSOCKET_TRACK_USERS", ["alice"]),
        ("TWITSOCKET_URL_PREFIX", "no-slash"),
        ("TWITSOCKET_REPLAY_RATE", 0),
        ("TWITSOCKET_REPLAY_LOOP", "maybe"),
        ("TWITSOCKET_WEBSOCKET_URL", "http://example.com/ws"),
        ("TWITSOCKET_BROKER_URL", "amqp://localhost"),
        ("TWITSOCKET_BACKOFF_SCALE", -1),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_key(tmp_path, key, value):
    _, error = refused(tmp_path, key, value)
    assert error.key == key
    assert key in str(error)


def test_comma_separated_strings_are_lists(tmp_path):
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/a.db",
                      TWITSOCKET_TRACK_KEYWORDS="#devconf26, devconf",
                      TWITSOCKET_TRACK_USERS="12, 1234567890123456789")
    settings = TwitSocket(app).state(app).settings
    assert settings["TRACK_KEYWORDS"] == ("#devconf26", "devconf")
    assert settings["TRACK_USERS"] == ("12", "1234567890123456789")


def test_url_prefix_moves_every_route(tmp_path):
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/a.db",
                      TWITSOCKET_URL_PREFIX="/wall")
    TwitSocket(app).state(app).create_tables()
    client = app.test_client()
    assert client.get("/wall/api/tweets").status_code == 200
    assert client.get("/twitsocket/api/tweets").status_code == 404


def test_cli_reports_a_bad_setting_by_name(run_cli):
    result = run_cli("stream", "--source", "replay",
                     env={"TWITSOCKET_REPLAY_FILE": "/nonexistent/recording.jsonl"})
    assert result.returncode != 0
    assert "TWITSOCKET_REPLAY_FILE" in result.stderr


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TWITSOCKET_MASTODON_URL", "ftp://mastodon.example"),
        ("TWITSOCKET_MASTODON_POLL_INTERVAL", "soon"),
        ("TWITSOCKET_BLUESKY_JETSTREAM_URL", "https://jetstream.example"),
        ("TWITSOCKET_BLUESKY_ENABLED", "perhaps"),
        ("TWITSOCKET_X_API_URL", "api.x.example"),
        ("TWITSOCKET_X_STALL_TIMEOUT", 0),
        ("TWITSOCKET_REPLAY_RETIME", "maybe"),
        ("TWITSOCKET_MAX_CLIENTS", "lots"),
        ("TWITSOCKET_MAX_CLIENTS", None),
        ("TWITSOCKET_TRUSTED_PROXY_HOPS", 11),
        ("TWITSOCKET_FALLBACK", "sometimes"),
        ("TWITSOCKET_MODERATION", "later"),
        ("TWITSOCKET_MODERATION_DELAY", -5),
        ("TWITSOCKET_BROKER_CHANNEL", 5),
        ("TWITSOCKET_BUS_SAFETY_INTERVAL", "never"),
    ],
)
def test_a_bad_value_of_a_key_only_one_part_reads_stops_init_app(tmp_path, key, value):
    """Keys read only by a source, the bus, the web routes or moderation are validated at
    init_app too, not when (or if) that part first runs."""
    app, error = refused(tmp_path, key, value)
    assert error.key == key
    assert "twitsocket" not in app.extensions


def test_cli_stops_on_a_bad_setting_of_a_source_it_does_not_run(run_cli):
    """A fresh process that never imports the Mastodon source still refuses its bad URL."""
    result = run_cli("top", env={"TWITSOCKET_MASTODON_URL": "ftp://mastodon.example"})
    assert result.returncode != 0
    assert "TWITSOCKET_MASTODON_URL" in result.stderr
    assert "must start with http:// or https://" in result.stderr


def test_init_app_twice_on_one_app_is_refused(tmp_path):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/a.db"
    twitsocket = TwitSocket(app)
    state = app.extensions["twitsocket"]
    for again in (twitsocket, TwitSocket()):
        with pytest.raises(RuntimeError, match="already been registered"):
            again.init_app(app)
    assert app.extensions["twitsocket"] is state


def test_one_extension_object_serves_two_apps(tmp_path):
    twitsocket = TwitSocket()
    first, second = Flask("first"), Flask("second")
    for app in (first, second):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/{app.name}.db"
    second.config["TWITSOCKET_URL_PREFIX"] = "/wall"
    assert twitsocket.init_app(first).settings["URL_PREFIX"] == "/twitsocket"
    assert twitsocket.init_app(second).settings["URL_PREFIX"] == "/wall"


def test_settings_hold_every_key_of_the_table_converted(tmp_path):
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/a.db",
                      TWITSOCKET_MAX_CLIENTS="7", TWITSOCKET_BLUESKY_ENABLED="yes",
                      TWITSOCKET_MASTODON_URL="https://mastodon.example/")
    settings = TwitSocket(app).state(app).settings
    assert set(settings) == set(config.KEYS) and len(settings) == len(config.SETTINGS)
    assert settings["MAX_CLIENTS"] == 7
    assert settings["BLUESKY_ENABLED"] is True
    assert settings["MASTODON_URL"] == "https://mastodon.example"
    assert settings["BROKER_CHANNEL"] == "twitsocket_journal"
    assert settings.get("NO_SUCH_KEY") is None
    with pytest.raises(KeyError):
        settings["NO_SUCH_KEY"]


SETTING_READ = re.compile(r"""settings(?:\[|\.get\(|, )\s*["']([A-Z][A-Z0-9_]*)["']""")


def test_every_key_the_code_reads_is_in_the_table():
    """A key read under a name the table lacks would be a KeyError at run time: find it
    now. (Also how a key added outside the table is caught.)"""
    package = Path(config.__file__).parent
    read = {(path.relative_to(package).as_posix(), name)
            for path in package.rglob("*.py")
            for name in SETTING_READ.findall(path.read_text(encoding="utf-8"))}
    assert len({name for _, name in read}) > 30  # the pattern still finds the reads
    unknown = sorted((path, name) for path, name in read if name not in config.KEYS)
    assert not unknown, f"add these to flask_twitsocket/config_table.py: {unknown}"


def test_the_table_names_each_key_once_and_keeps_sections_together():
    names = [setting.name for setting in config.SETTINGS]
    assert len(names) == len(set(names))
    order = [setting.section for setting in config.SETTINGS]
    runs = [section for index, section in enumerate(order)
            if index == 0 or order[index - 1] != section]
    assert len(runs) == len(set(runs)), "a section's rows must stay together in SETTINGS"
    for setting in config.SETTINGS:
        assert setting.doc.strip() and not setting.name.startswith(config.PREFIX)
