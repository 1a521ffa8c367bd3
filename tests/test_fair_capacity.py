"""One client address cannot take every wall slot of a worker (websocket and SSE together),
and behind a trusted proxy two different clients are not lumped together."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from conftest import wait_until
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection, connect
from ws_client import open_wall

ALICE, BOB = "203.0.113.5", "198.51.100.7"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TWITSOCKET_MAX_CLIENTS_PER_ADDRESS": 2, "TWITSOCKET_TRUSTED_PROXY_HOPS": 1}


def wall(live_server, forwarded_for: str) -> ClientConnection:
    """A wall as the shipped nginx passes it on (it appends the client's address)."""
    ws = open_wall(f"{live_server.ws_url}/twitsocket/ws",
                   additional_headers={"X-Forwarded-For": forwarded_for})
    ws.recv(timeout=10)  # the opening count: admitted
    return ws


def refused_code(live_server, forwarded_for: str) -> tuple[int, str]:
    with connect(f"{live_server.ws_url}/twitsocket/ws", open_timeout=10,
                 additional_headers={"X-Forwarded-For": forwarded_for}) as ws, \
            pytest.raises(ConnectionClosedError) as refused:
        ws.recv(timeout=10)
    return refused.value.rcvd.code, refused.value.rcvd.reason


def event_stream_status(live_server, forwarded_for: str) -> int:
    request = urllib.request.Request(f"{live_server.url}/twitsocket/events",
                                     headers={"X-Forwarded-For": forwarded_for})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def clients(live_server) -> int:
    return live_server.get_json("/twitsocket/health")["clients"]


def test_one_address_gets_its_share_and_no_more(live_server):
    # the first entry is forged by the client itself: only the proxy's (last) one counts
    alice = [wall(live_server, f"10.9.9.{n}, {ALICE}") for n in range(2)]
    assert refused_code(live_server, ALICE) == (
        1013, "too many connections from your address; try again later")
    assert event_stream_status(live_server, ALICE) == 429  # SSE walls count too
    bob = wall(live_server, BOB)  # another client behind the same proxy is not lumped in
    assert clients(live_server) == 3
    alice.pop().close()
    wait_until(lambda: clients(live_server) == 2, message="one of Alice's walls to leave")
    alice.append(wall(live_server, ALICE))  # her share is free again
    for ws in [*alice, bob]:
        ws.close()


@pytest.mark.parametrize("app_config", [{"TWITSOCKET_MAX_CLIENTS_PER_ADDRESS": 1}])
def test_without_trusted_proxies_the_header_is_not_believed(live_server):
    first = wall(live_server, ALICE)
    # a different forged address does not buy a second slot
    assert refused_code(live_server, BOB)[0] == 1013
    first.close()
