"""Operator-proofing (issue 15), through the CLI and HTTP against the fake networks.

Nothing fake in production (no source → one line, nothing stored), a demo that is live at
every start, X's refusals classified (permanent ones stop X while Mastodon goes on, and
``/health`` says so), typo'd settings named, top lists refreshed by the stream itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import wait_until, write_jsonl, x_post
from fake_mastodon import FakeMastodon
from fake_x_server import FakeX
from test_mastodon_source import stream_env
from test_x_stream import x_env

LONG = 60.0


def stored(app) -> list[dict]:
    return app.test_client().get("/twitsocket/api/tweets?limit=200").get_json()["tweets"]


def test_stream_with_no_source_configured_stops_with_one_line_and_stores_nothing(app,
                                                                                run_cli):
    result = run_cli("stream", env={"TWITSOCKET_TRACK_KEYWORDS": "#devconf26"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: no source is configured: set TWITSOCKET_X_BEARER_TOKEN")
    assert "TWITSOCKET_MASTODON_URL" in lines[0] and "--source replay" in lines[0]
    assert stored(app) == []


def test_a_typo_in_a_key_names_the_right_one_in_one_line(app, run_cli, tmp_path):
    result = run_cli("stream", env={"TWITSOCKET_X_BEARER_TOKN": "secret"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == ["Error: TWITSOCKET_X_BEARER_TOKN: unknown setting; did you mean "
                     "TWITSOCKET_X_BEARER_TOKEN? (set TWITSOCKET_STRICT_CONFIG = False to "
                     "start with only a warning)"], result.stderr
    relaxed = run_cli("stream", "--source", "replay", env={
        "TWITSOCKET_TRACK_KEYWORD": "#x", "TWITSOCKET_STRICT_CONFIG": "false",
        "TWITSOCKET_REPLAY_FILE": str(write_jsonl(tmp_path / "r.jsonl", [x_post(1)]))})
    assert relaxed.returncode == 0, relaxed.stderr
    assert "did you mean TWITSOCKET_TRACK_KEYWORDS?" in relaxed.stderr


@pytest.mark.parametrize("setting, value, words", [
    ("TWITSOCKET_SOURCES", "twitter", "TWITSOCKET_SOURCES: unknown name 'twitter'"),
    ("TWITSOCKET_TRACK_KEYWORDS", "#pyconx pyconx",
     "TWITSOCKET_TRACK_KEYWORDS: '#pyconx pyconx' has a space: separate keywords with commas"),
])
def test_bad_values_are_one_line_naming_the_key(app, run_cli, setting, value, words):
    result = run_cli("top", env={setting: value})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert words in result.stderr and "Traceback" not in result.stderr


def test_a_second_demo_start_stores_new_posts(app, run_cli, tmp_path):
    recording = write_jsonl(tmp_path / "r.jsonl", [x_post(1), x_post(2, retweet_count=0)])
    env = {"TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "1000",
           "TWITSOCKET_REPLAY_FRESH_IDS": "true"}  # what demo_app sets
    first = run_cli("stream", "--source", "replay", env=env)
    assert "2 stored, 0 duplicates" in first.stdout, first.stdout + first.stderr
    second = run_cli("stream", "--source", "replay", env=env)
    assert "2 stored, 0 duplicates" in second.stdout, second.stdout + second.stderr
    assert len({post["id"] for post in stored(app)}) == 4


def test_the_stream_refreshes_the_top_lists_within_the_interval(app, start_cli, tmp_path):
    recording = write_jsonl(tmp_path / "r.jsonl", [
        x_post(1), x_post(2), x_post(3, username="bob", user_id="7")])
    start_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "20",
        "TWITSOCKET_REPLAY_LOOP": "true", "TWITSOCKET_TOP_INTERVAL": "1",
        "TWITSOCKET_LOGFILE": str(tmp_path / "stream.log")})  # loops: runs until stopped
    client = app.test_client()
    top = wait_until(lambda: (lambda t: t if len(t["users"]) == 2 else None)(
        client.get("/twitsocket/api/top").get_json()), timeout=LONG, message="top users",
        interval=0.5)
    assert [user["username"] for user in top["users"]] == ["alice", "bob"]


@pytest.fixture
def fakes() -> Iterator[tuple[FakeX, FakeMastodon]]:
    x, mastodon = FakeX(), FakeMastodon()
    yield x, mastodon
    x.close()
    mastodon.close()


@pytest.mark.parametrize("problem, message, permanent", [
    ("unauthorized", "X refused the bearer token (HTTP 401: Unauthorized: Unauthorized)",
     True),
    ("client-not-enrolled", "X denies this app the filtered stream (HTTP 403: Client "
                            "Forbidden: When authenticating requests", True),
    ("usage-capped", "X's usage cap is reached (HTTP 429: UsageCapExceeded: Usage cap "
                     "exceeded: Monthly product cap (period: Monthly, scope: Product))", True),
    ("too-many-connections", "X says too many connections or requests (HTTP 429: "
                             "ConnectionException: This stream is currently at the maximum "
                             "allowed connection limit. (connection_issue: "
                             "TooManyConnections)); backing off", False),
])
def test_x_refusals_are_classified_while_mastodon_goes_on(app, fakes, start_cli, tmp_path,
                                                          problem, message, permanent):
    fake_x, mastodon = fakes
    env = {**stream_env(mastodon, tmp_path), **x_env(fake_x),
           "TWITSOCKET_TRACK_KEYWORDS": "#devconf26", "TWITSOCKET_SOURCES": "x,mastodon",
           "TWITSOCKET_SOURCE_SILENT_AFTER": "3600"}
    if problem == "unauthorized":
        env["TWITSOCKET_X_BEARER_TOKEN"] = "revoked-token"
    else:
        fake_x.script = [problem]
    start_cli("stream", env=env)
    wait_until(mastodon.connected, timeout=LONG, message="Mastodon connected")
    toot = mastodon.post(mastodon.status("<p>Still here #devconf26</p>"))
    wait_until(lambda: any(post["id"] == toot["id"] for post in stored(app)), timeout=LONG,
               message="Mastodon's post on the wall")
    log = tmp_path / "stream.log"
    wait_until(lambda: message in log.read_text(), timeout=LONG, message="X's own reason")
    client = app.test_client()

    def x_row() -> dict | None:
        body = client.get("/twitsocket/health").get_json()
        rows = {source["name"]: source for source in body["sources"]}
        wanted = "stopped" if permanent else "backing off"
        if rows.get("x", {}).get("state") == wanted and \
                rows.get("mastodon", {}).get("state") == "streaming":
            return body
        if not permanent and rows.get("x", {}).get("reconnects", 0) >= 1:
            return body
        return None

    body = wait_until(x_row, timeout=LONG, message="/health shows both sources")
    sources = {source["name"]: source for source in body["sources"]}
    assert message.split(" (HTTP")[0] in sources["x"]["last_error"]
    assert sources["mastodon"]["state"] == "streaming"
    assert sources["mastodon"]["last_event_at"] is not None
    if permanent:
        assert body["status"] == "degraded"
        assert f"Source x stopped: {message}" in log.read_text()
        assert fake_x.connections <= 1  # the stream was never asked again
    else:
        wait_until(lambda: fake_x.connections >= 2, timeout=LONG, message="X retried")
        assert "Source x stopped" not in log.read_text()


def test_health_fails_on_a_stopped_source_only_when_asked(app_factory_fail, run_cli,
                                                          tmp_path):
    app = app_factory_fail
    fake = FakeX()
    try:
        result = run_cli("stream", "--source", "x",
                         env=x_env(fake, TWITSOCKET_X_BEARER_TOKEN="wrong"))
    finally:
        fake.close()
    assert result.returncode == 3
    response = app.test_client().get("/twitsocket/health")
    assert response.status_code == 503
    assert response.get_json()["status"] == "degraded"


@pytest.fixture
def app_factory_fail(database_url):
    from conftest import fresh_app

    app = fresh_app(database_url, TWITSOCKET_HEALTH_FAIL_ON_DEGRADED=True)
    yield app
    app.extensions["twitsocket"].hub.stop()
    app.extensions["twitsocket"].engine.dispose()


def test_export_purge_replay_round_trips_every_post(app, run_cli, tmp_path):
    recording = write_jsonl(tmp_path / "r.jsonl", [
        x_post(1, text="First #devconf26"), x_post(2, text="Zweite 🎉 <b>#devconf26</b>"),
        x_post(3, username="bob", user_id="7", name="Bob \"B\" Smith")])
    assert run_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "1000",
        "TWITSOCKET_REPLAY_RETIME": "false"}).returncode == 0
    before = sorted(stored(app), key=lambda post: post["id"])
    assert len(before) == 3

    exported = tmp_path / "export.jsonl"
    result = run_cli("export", "--output", str(exported))
    assert result.returncode == 0, result.stderr
    assert "Exported 3 posts" in result.stderr
    csv_result = run_cli("export", "--format", "csv", "--since", "2026-11-01")
    assert csv_result.stdout.splitlines()[0].startswith("network,id,seq,created_at")
    assert len(csv_result.stdout.strip().splitlines()) == 4

    purged = run_cli("purge", "--older-than", "0", "--yes")
    assert purged.returncode == 0, purged.stderr
    assert "Purged: 3 posts" in purged.stdout
    assert stored(app) == []

    replayed = run_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(exported), "TWITSOCKET_REPLAY_RATE": "1000"})
    assert "3 stored, 0 duplicates, 0 malformed" in replayed.stdout, replayed.stdout
    after = sorted(stored(app), key=lambda post: post["id"])
    keep = ("id", "network", "text", "html", "entities", "created_at", "url", "author",
            "is_retweet", "retweet_of", "retweet_count")
    assert [{k: p[k] for k in keep} for p in after] == [{k: p[k] for k in keep}
                                                        for p in before]


def test_keep_raw_false_stores_no_payload_and_purge_can_blank_old_ones(app, run_cli,
                                                                        tmp_path):
    recording = write_jsonl(tmp_path / "r.jsonl", [x_post(1), x_post(2)])
    env = {"TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "1000",
           "TWITSOCKET_REPLAY_RETIME": "false"}
    run_cli("stream", "--source", "replay", env={**env, "TWITSOCKET_KEEP_RAW": "false"})
    lines = run_cli("export").stdout.strip().splitlines()
    assert len(lines) == 2 and all('"payload"' not in line for line in lines)
    blank = run_cli("purge", "--older-than", "0", "--raw-only", "--yes")
    assert "Purged: 0 raw payloads" in blank.stdout
    assert len(stored(app)) == 2


def test_sqlite_backup_copies_a_consistent_database(app, run_cli, tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the backup command copies SQLite; PostgreSQL uses pg_dump")
    recording = write_jsonl(tmp_path / "r.jsonl", [x_post(1)])
    run_cli("stream", "--source", "replay", env={"TWITSOCKET_REPLAY_FILE": str(recording)})
    copy = tmp_path / "backup.sqlite3"
    result = run_cli("backup", str(copy))
    assert result.returncode == 0, result.stderr
    from conftest import make_app

    restored = make_app(f"sqlite:///{copy}")
    assert [post["id"] for post in stored(restored)] == ["1"]
    again = run_cli("backup", str(copy))
    assert again.returncode != 0 and "exists" in again.stderr


def test_metrics_show_the_stream_totals_sources_and_this_worker(database_url, run_cli,
                                                                tmp_path):
    from conftest import fresh_app

    app = fresh_app(database_url, TWITSOCKET_METRICS=True)
    assert fresh_app(database_url).test_client().get("/twitsocket/metrics").status_code == 404
    recording = write_jsonl(tmp_path / "r.jsonl", [x_post(1), x_post(1), "not json"])
    run_cli("stream", "--source", "replay", env={"TWITSOCKET_REPLAY_FILE": str(recording),
                                                 "TWITSOCKET_REPLAY_RATE": "1000"})
    response = app.test_client().get("/twitsocket/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for line in ('twitsocket_ingest_total{outcome="stored"} 1.0',
                 'twitsocket_ingest_total{outcome="duplicates"} 1.0',
                 'twitsocket_ingest_total{outcome="malformed"} 1.0',
                 'twitsocket_source_events_total{network="x",source="replay"} 3.0',
                 'twitsocket_source_state{source="replay",state="finished"} 1.0',
                 'twitsocket_source_up{source="replay"} 0.0',
                 "twitsocket_walls_connected{pid=", "twitsocket_dropped_clients_total{pid=",
                 "twitsocket_deliveries_total{pid=", "twitsocket_hub_lag_seconds{pid="):
        assert line in text, text
    # a replay that reached its last line is finished, which is not an outage
    health = app.test_client().get("/twitsocket/health").get_json()
    assert [(s["name"], s["state"]) for s in health["sources"]] == [("replay", "finished")]
    assert health["status"] == "ok"
    app.extensions["twitsocket"].engine.dispose()


def test_the_backup_script_backs_up_sqlite_and_postgresql(app, database_url, cli_env,
                                                          tmp_path):
    """deploy/backup.sh, as the timer runs it: SQLite via `flask twitsocket backup`,
    PostgreSQL via pg_dump (when this machine has it)."""
    import shutil
    import subprocess

    from conftest import ROOT

    if not database_url.startswith("sqlite") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    import os
    import sys

    env = {**cli_env, "FLASK_APP": "demo_app", "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["sh", str(ROOT / "deploy" / "backup.sh"), str(tmp_path / "b")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    [copy] = (tmp_path / "b").iterdir()
    if database_url.startswith("sqlite"):
        assert copy.suffix == ".sqlite3" and copy.stat().st_size > 0
    else:
        listing = subprocess.run(["pg_restore", "--list", str(copy)], capture_output=True,
                                 text=True, check=True).stdout
        assert "twitsocket_posts" in listing


def test_the_console_page_has_the_sources_panel(database_url):
    """The console's sources panel reads /health (its script is served, no inline code)."""
    from conftest import fresh_app
    from moderation_helpers import MODERATED, PREFIX, Console

    app = fresh_app(database_url, **MODERATED)
    client = app.test_client()
    Console(client).login()
    html = client.get(f"{PREFIX}/moderate").get_data(as_text=True)
    assert "data-sources" in html and 'data-health-url="/twitsocket/health"' in html
    assert client.get("/twitsocket/static/sources.js").status_code == 200
    app.extensions["twitsocket"].engine.dispose()


def test_the_setting_knows_exactly_the_registrys_sources():
    from flask_twitsocket.config_table import SOURCE_NAMES
    from flask_twitsocket.sources import REGISTRY

    assert set(SOURCE_NAMES) == set(REGISTRY)
