"""``flask twitsocket lister``: a real process adding original posters to the fake X list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import x_post
from fake_x_server import FakeX

from flask_twitsocket.bus import create_bus
from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor

OAUTH = {"TWITSOCKET_X_CONSUMER_KEY": "ck", "TWITSOCKET_X_CONSUMER_SECRET": "cs-s3cret",
         "TWITSOCKET_X_ACCESS_TOKEN": "at", "TWITSOCKET_X_ACCESS_TOKEN_SECRET": "ats-s3cret"}


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    fake = FakeX()
    yield fake
    fake.close()


@pytest.fixture
def posted(app) -> None:
    """Three original posters (one posted twice) and one account that only retweeted."""
    events = [x_post(1, user_id="101", username="ann"), x_post(2, user_id="102", username="bo"),
              x_post(3, user_id="101", username="ann"), x_post(4, user_id="103", username="cy"),
              x_post(5, user_id="104", username="rt_only",
                     referenced_tweets=[{"type": "retweeted", "id": "1"}])]
    state = app.extensions["twitsocket"]
    bus = create_bus(state.settings, state.engine)
    build_ingestor(state, bus).ingest([RawEvent("x", e) for e in events])
    bus.close()


def lister_env(fake: FakeX, **extra: str) -> dict[str, str]:
    return {"TWITSOCKET_X_API_URL": fake.url, "TWITSOCKET_X_LIST_ID": "777",
            "TWITSOCKET_BACKOFF_SCALE": "0.001", **OAUTH, **extra}


def member_calls(fake: FakeX) -> list[dict]:
    return [r for r in fake.requests if r["path"] == "/2/lists/777/members"]


def test_adds_each_original_poster_once_and_waits_out_a_rate_limit(posted, fake_x, run_cli):
    fake_x.member_429_calls = {2}
    first = run_cli("lister", env=lister_env(fake_x))
    assert first.returncode == 0, first.stderr
    assert sorted(fake_x.members) == ["101", "102", "103"]
    assert "Rate limited by X; waiting" in first.stderr
    assert "Added 3 members (0 already on the list)" in first.stdout
    assert {call["auth"] for call in member_calls(fake_x)} == {"OAuth"}
    assert "s3cret" not in first.stdout + first.stderr

    calls = len(member_calls(fake_x))
    second = run_cli("lister", env=lister_env(fake_x))
    assert second.returncode == 0, second.stderr
    assert "Added 0 members (3 already on the list)" in second.stdout
    assert len(member_calls(fake_x)) == calls


def test_stops_when_x_says_the_list_is_full(posted, fake_x, run_cli):
    fake_x.list_capacity = 2
    result = run_cli("lister", env=lister_env(fake_x))
    assert result.returncode == 0, result.stderr
    assert len(fake_x.members) == 2
    assert "Added 2 members" in result.stdout and "the list is full" in result.stdout
    again = run_cli("lister", env=lister_env(fake_x))
    assert "Added 0 members (2 already on the list)" in again.stdout


def test_missing_credentials_are_named(fake_x, run_cli):
    result = run_cli("lister", env={"TWITSOCKET_X_API_URL": fake_x.url, **OAUTH})
    assert result.returncode != 0 and "TWITSOCKET_X_LIST_ID" in result.stderr
    partial = {k: v for k, v in OAUTH.items() if k != "TWITSOCKET_X_ACCESS_TOKEN_SECRET"}
    result = run_cli("lister", env={"TWITSOCKET_X_LIST_ID": "777", **partial})
    assert result.returncode != 0 and "TWITSOCKET_X_ACCESS_TOKEN_SECRET" in result.stderr
