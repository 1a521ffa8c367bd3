"""``<prefix>/events``: the server-sent-events fallback, read as a browser's EventSource
would (a streamed HTTP response), against a real server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import pytest
import requests
from conftest import make_app, wait_until, x_post
from test_web import render, store

from flask_twitsocket.config import ConfigError
from flask_twitsocket.web import events


def read_events(response: requests.Response) -> Iterator[dict]:
    """Parse the stream into events: {"id", "data", "comment"} (data JSON-decoded)."""
    event: dict = {}
    for raw in response.iter_lines(decode_unicode=True):
        if raw == "":
            if event:
                yield event
            event = {}
        elif raw.startswith(":"):
            yield {"comment": raw[1:].strip()}
        elif raw.startswith("data: "):
            event["data"] = json.loads(raw[len("data: "):])
        elif raw.startswith("id: "):
            event["id"] = raw[len("id: "):]


def open_stream(live_server, **headers) -> requests.Response:
    response = requests.get(f"{live_server.url}/twitsocket/events", stream=True, timeout=10,
                            headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-store"
    return response


def next_data(stream: Iterator[dict]) -> dict:
    for event in stream:
        if "data" in event:
            return event
    raise AssertionError("the stream ended")


def test_events_carry_the_websocket_messages(live_server, app):
    with open_stream(live_server) as response:
        stream = read_events(response)
        assert next_data(stream)["data"] == {"type": "count", "count": 0}
        store(app, x_post(1, text="over SSE"))
        tweet = next_data(stream)
        assert tweet["data"]["type"] == "tweet"
        assert tweet["data"]["tweet"]["text"] == "over SSE"
        assert tweet["id"] == tweet["data"]["tweet"]["seq"]  # resumable
        assert next_data(stream)["data"] == {"type": "count", "count": 1}
        store(app, {"delete": {"status": {"id_str": "1"}}})
        assert next_data(stream)["data"]["type"] == "delete"


@pytest.mark.parametrize("how", ["header", "query"])
def test_last_event_id_replays_what_was_missed_in_order(live_server, app, how):
    store(app, *[x_post(i, text=f"post {i}") for i in range(1, 5)])
    seqs = {p["id"]: p["seq"] for p in app.extensions["twitsocket"].store.recent(10)}
    resume = seqs["2"]
    url = f"{live_server.url}/twitsocket/events"
    kwargs = ({"headers": {"Last-Event-ID": resume}} if how == "header"
              else {"params": {"last_event_id": resume}})
    with requests.get(url, stream=True, timeout=10, **kwargs) as response:
        stream = read_events(response)
        assert next_data(stream)["data"] == {"type": "count", "count": 4}
        replayed = [next_data(stream) for _ in range(2)]
    assert [e["data"]["tweet"]["id"] for e in replayed] == ["3", "4"]
    assert [e["id"] for e in replayed] == [seqs["3"], seqs["4"]]


def test_heartbeat_and_a_vanished_client_is_unsubscribed(live_server, app, monkeypatch):
    monkeypatch.setattr(events, "HEARTBEAT", 0.2)
    hub = app.extensions["twitsocket"].hub
    response = open_stream(live_server)
    stream = read_events(response)
    assert next_data(stream)["data"]["type"] == "count"
    assert hub.client_count == 1
    assert next(e for e in stream if "comment" in e and e["comment"] == "heartbeat")
    response.close()  # the browser tab closes
    wait_until(lambda: hub.client_count == 0, message="the hub to drop the stream")


def test_fallback_setting(database_url):
    never = make_app(database_url, TWITSOCKET_FALLBACK="never")
    assert never.test_client().get("/twitsocket/events").status_code == 404
    assert 'data-fallback="never"' in render(never, "{{ websocket_client() }}")
    with pytest.raises(ConfigError, match="TWITSOCKET_FALLBACK"):
        make_app(database_url, TWITSOCKET_FALLBACK="sometimes")


def test_the_client_gets_its_settings_and_messages_as_data_attributes(app):
    html = render(app, "{{ websocket_client() }}")
    assert 'data-events-url="/twitsocket/events"' in html
    assert 'data-fallback="auto"' in html
    assert "data-twitsocket-status-badge" in html
    raw = re.search(r'data-i18n="([^"]*)"', html).group(1)
    messages = json.loads(unescape(raw))
    assert messages["reconnecting"] == "Reconnecting…"
