"""Hardening headers on every response of the extension: pages, JSON, static files.

* ``X-Content-Type-Options: nosniff`` — a JSON answer quoting a hostile post is never
  sniffed into HTML or script.
* ``Referrer-Policy: same-origin`` — the wall loads avatars from the networks' image hosts;
  they learn nothing about the page that shows them (and hot-link checks accept an
  absent referrer).
* CSP ``frame-ancestors`` — who may frame the page: this site only (``'self'``) unless
  ``TWITSOCKET_FRAME_ANCESTORS`` lists the sites that embed the wall; the moderation
  console is never framed (``'none'``), whatever the setting, so no page can overlay it
  and trick a moderator into clicking (clickjacking). Added to the response's own policy
  (the wall's), or sent alone where there is none (JSON, static files); a policy that
  already names ``frame-ancestors`` (the console's, a host app's) is left as it is.
  ``X-Frame-Options`` says the same to old browsers when it can (it cannot list sites).

Headers a host app sets itself (its ``after_request`` runs after the blueprint's) win.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..state import current_state

CONSOLE_PREFIX = "twitsocket.moderate"
REFERRER_POLICY = "same-origin"


def frame_ancestors(console: bool) -> str:
    if console:
        return "'none'"
    return " ".join(("'self'", *current_state().settings["FRAME_ANCESTORS"]))


def _with_frame_ancestors(policy: str | None, ancestors: str) -> str:
    if not policy:
        return f"frame-ancestors {ancestors}"
    if "frame-ancestors" in policy:
        return policy
    return f"{policy.rstrip('; ')}; frame-ancestors {ancestors}"


def harden(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    ancestors = frame_ancestors((request.endpoint or "").startswith(CONSOLE_PREFIX))
    headers["Content-Security-Policy"] = _with_frame_ancestors(
        headers.get("Content-Security-Policy"), ancestors)
    if ancestors in ("'none'", "'self'"):
        headers.setdefault("X-Frame-Options", "DENY" if ancestors == "'none'" else "SAMEORIGIN")
    return response


def register(blueprint: Blueprint) -> None:
    blueprint.after_request(harden)
