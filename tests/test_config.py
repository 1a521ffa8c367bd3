"""The extension object, its registration, and start-up validation of every setting."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_twitsocket import ConfigError, TwitSocket


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
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/a.db"
    app.config[key] = value
    with pytest.raises(ConfigError) as error:
        TwitSocket(app)
    assert error.value.key == key
    assert key in str(error.value)


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
