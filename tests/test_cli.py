"""The operator's commands, run as separate processes the way systemd or cron runs them."""

from __future__ import annotations

import signal

from conftest import wait_until, write_jsonl, x_post


def test_init_db_is_idempotent(run_cli):
    first = run_cli("init-db")
    second = run_cli("init-db")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "Tables ready" in second.stdout


def test_stream_stops_cleanly_on_sigterm_and_logs_to_the_logfile(app, start_cli, tmp_path):
    logfile = tmp_path / "wall.log"
    recording = write_jsonl(tmp_path / "r.jsonl", [x_post(i) for i in range(1, 4)])
    process = start_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "5",
        "TWITSOCKET_REPLAY_LOOP": "true", "TWITSOCKET_LOGFILE": str(logfile)})
    wait_until(lambda: logfile.exists() and "New post" in logfile.read_text(),
               message="a post in the log file")
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert "Received SIGTERM" in output
    assert "Stream stopped:" in output
    assert "New post x:1 by @alice" in logfile.read_text()


def test_stream_keeps_going_after_a_loop_with_fresh_ids(app, start_cli, tmp_path):
    recording = write_jsonl(tmp_path / "r.jsonl", [x_post(1), x_post(2)])
    start_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "50",
        "TWITSOCKET_REPLAY_LOOP": "true"})
    client = app.test_client()
    body = wait_until(lambda: (lambda b: b if b["count"] >= 6 else None)(
        client.get("/twitsocket/api/tweets?limit=200").get_json()), timeout=60,
        message="three passes")  # a bound, not a speed: a loaded machine starts slowly
    ids = [t["id"] for t in body["tweets"]]
    assert len(ids) == len(set(ids))
    assert {"1", "2", "10001", "20001"} <= set(ids)


def test_top_command_refreshes_the_cached_lists(app, run_cli, tmp_path):
    recording = write_jsonl(tmp_path / "r.jsonl", [
        x_post(1), x_post(2), x_post(3, username="bob", user_id="7")])
    assert run_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "1000"}
    ).returncode == 0
    result = run_cli("top")
    assert result.returncode == 0, result.stderr
    assert "Top lists refreshed: 2 users, 3 posts" in result.stdout
    top = app.test_client().get("/twitsocket/api/top").get_json()
    assert [u["username"] for u in top["users"]] == ["alice", "bob"]
    assert top["users"][0]["post_count"] == 2
