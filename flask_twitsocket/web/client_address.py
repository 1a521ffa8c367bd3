"""Who is on the other end of a request: the client's address, through trusted proxies.

Behind the shipped nginx every request comes from 127.0.0.1, so anything keyed on the
connection's address (the login limiter, the per-client connection cap, log lines) would
lump every visitor together. ``X-Forwarded-For`` names the real client, but anyone can
send that header: only the entries appended by proxies we run are believed. With
``TWITSOCKET_TRUSTED_PROXY_HOPS = N`` the N-th address from the right is the client (each
trusted proxy appends the address it was connected from); with 0 the header is ignored.
"""

from __future__ import annotations

import ipaddress

from flask import request

from ..state import current_state


def forwarded_client(remote: str | None, forwarded_for: str | None, hops: int) -> str:
    """The client's address: ``remote``, or the ``hops``-th entry from the right of
    ``forwarded_for`` when that many trusted proxies stand in front. An entry that is not
    an IP address (a forged header) is not believed either."""
    fallback = remote or "?"
    if not hops or not forwarded_for:
        return fallback
    entries = [entry.strip() for entry in forwarded_for.split(",")]
    if len(entries) < hops:
        return fallback
    candidate = entries[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return fallback


def client_address() -> str:
    """The current request's client address (see the module docstring)."""
    hops = current_state().settings["TRUSTED_PROXY_HOPS"]
    return forwarded_client(request.remote_addr, request.headers.get("X-Forwarded-For"), hops)
