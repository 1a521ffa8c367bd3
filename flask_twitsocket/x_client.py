"""The one place that talks to X: tweepy for REST calls, ``requests`` for the stream.

Why a subclass and a hand-written stream reader instead of plain tweepy:

* tweepy 4.x hard-codes ``https://api.twitter.com`` in ``BaseClient.request``; every X call
  must go to ``TWITSOCKET_X_API_URL`` so that a proxy or a local fake server can stand in.
  :class:`XClient` overrides only ``request`` (host + auth + tweepy's own exceptions), so
  every tweepy endpoint method (``add_list_member``, the rules calls) keeps working. It
  also drops tweepy's debug log of the request, which prints the Authorization header.
* tweepy's ``StreamingClient`` hard-codes the host too, and ends the stream on the first
  line that is not JSON; a wall must log such a line and keep reading. :func:`stream_lines`
  reads the chunked body itself and hands out raw lines.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
import tweepy
from tweepy.auth import OAuth1UserHandler

from .config_table import DEFAULT_X_API_URL as DEFAULT_API_URL

STREAM_ROUTE = "/2/tweets/search/stream"
USER_AGENT = "flask-twitsocket (+https://github.com/flask-twitsocket)"
CONNECT_TIMEOUT = 10.0
#: How often a stream reader looks at the stop flag while no byte arrives.
STOP_POLL = 0.5
OAUTH_KEYS = ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")


class StallError(requests.ConnectionError):
    """No byte (not even a keep-alive) arrived for the stall timeout: the stream is dead."""


def problem(response: requests.Response) -> dict[str, Any]:
    """X's problem object (RFC 7807-style ``title``/``detail``/``type``/``reason``…) from an
    error response; the first entry of an ``errors`` array, or ``{}`` when it has none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, dict) and not {"title", "detail", "type"} & body.keys():
        errors = body.get("errors")
        body = errors[0] if isinstance(errors, list) and errors else body
    return body if isinstance(body, dict) else {}


def quote_problem(response: requests.Response) -> str:
    """X's own reason, as one short line: ``title: detail (reason: …)``."""
    body = problem(response)
    words = ": ".join(str(body[key]) for key in ("title", "detail") if body.get(key))
    extra = [f"{key}: {body[key]}" for key in ("reason", "connection_issue", "period",
                                               "scope") if body.get(key)]
    if extra:
        words += f" ({', '.join(extra)})"
    if not words:
        words = " ".join((response.text or "").split())[:200] or "no reason given"
    return " ".join(words.split())[:400]


def raise_for_status(response: requests.Response) -> None:
    """tweepy's mapping of HTTP statuses to its exceptions, shared by REST and stream."""
    status = response.status_code
    if 200 <= status < 300:
        return
    _ = response.content  # read the (small) problem body before a stream response closes
    errors: dict[int, type[tweepy.HTTPException]] = {
        400: tweepy.BadRequest, 401: tweepy.Unauthorized, 403: tweepy.Forbidden,
        404: tweepy.NotFound}
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset", "")
        raise tweepy.TooManyRequests(response, reset_time=int(reset) if reset.isdigit() else None)
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    raise errors.get(status, tweepy.HTTPException)(response)


class XClient(tweepy.Client):
    """``tweepy.Client`` whose every request goes to ``api_url``, with the rules calls too."""

    # The filtered-stream rules endpoints live on tweepy's StreamingClient; their bodies
    # only call ``self._make_request``, which this class has, so they are reused as they are
    # (with the StreamRule parsing below, which StreamingClient does in its _process_data).
    get_rules = tweepy.StreamingClient.get_rules
    add_rules = tweepy.StreamingClient.add_rules
    delete_rules = tweepy.StreamingClient.delete_rules

    def __init__(self, *args: Any, api_url: str = DEFAULT_API_URL, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_url = api_url.rstrip("/")
        self.user_agent = USER_AGENT

    def _process_data(self, data: Any, data_type: Any = None) -> Any:
        if data_type is not tweepy.StreamRule or data is None:
            return super()._process_data(data, data_type=data_type)
        rules = [tweepy.StreamRule(value=rule["value"], id=rule["id"], tag=rule.get("tag"))
                 for rule in (data if isinstance(data, list) else [data])]
        return rules if isinstance(data, list) else rules[0]

    @classmethod
    def from_settings(cls, settings: Any) -> XClient:
        return cls(bearer_token=settings["X_BEARER_TOKEN"],
                   consumer_key=settings["X_CONSUMER_KEY"],
                   consumer_secret=settings["X_CONSUMER_SECRET"],
                   access_token=settings["X_ACCESS_TOKEN"],
                   access_token_secret=settings["X_ACCESS_TOKEN_SECRET"],
                   api_url=settings["X_API_URL"])

    def request(self, method: str, route: str, params: Any = None, json: Any = None,
                user_auth: bool = False) -> requests.Response:
        """tweepy's ``BaseClient.request`` with the configured host and no secret logging.

        Rate limits are not waited out here (callers decide how to wait and what to log),
        so ``wait_on_rate_limit`` is ignored: a 429 raises ``tweepy.TooManyRequests``.
        """
        headers = {"User-Agent": self.user_agent}
        auth = None
        if user_auth:
            auth = OAuth1UserHandler(self.consumer_key, self.consumer_secret,
                                     self.access_token, self.access_token_secret).apply_auth()
        else:
            headers["Authorization"] = f"Bearer {self.bearer_token}"
        with self.session.request(method, self.api_url + route, params=params, json=json,
                                  headers=headers, auth=auth,
                                  timeout=(CONNECT_TIMEOUT, 30)) as response:
            raise_for_status(response)
            return response

    def stream(self, params: dict[str, str], stall_timeout: float,
               stop: threading.Event) -> Iterator[bytes]:
        """The filtered stream's lines (see :func:`stream_lines`)."""
        return stream_lines(self.api_url + STREAM_ROUTE, self.bearer_token, params,
                            stall_timeout, stop, self.session)


def stream_lines(url: str, bearer: str, params: dict[str, str], stall_timeout: float,
                 stop: threading.Event, session: requests.Session | None = None,
                 ) -> Iterator[bytes]:
    """Yield the stream's ``\\r\\n``-separated lines as bytes; a keep-alive is ``b""``.

    Returns when ``stop`` is set (within :data:`STOP_POLL`), raises :class:`StallError`
    when no byte arrived for ``stall_timeout`` seconds, a tweepy exception for an HTTP
    error, and a ``requests`` exception when the connection breaks. A line cut off by a
    dropped connection is never yielded.

    Why a reader thread: a socket read that times out cannot be resumed (http.client
    marks the stream broken), so a short read timeout cannot double as a stop check.
    The thread blocks in the read; this generator waits on its queue for at most
    :data:`STOP_POLL` at a time and keeps its own stall clock, reset by every chunk.
    """
    http = session or requests.Session()
    response = http.get(url, params=params, stream=True,
                        headers={"Authorization": f"Bearer {bearer}", "User-Agent": USER_AGENT},
                        timeout=(CONNECT_TIMEOUT, stall_timeout + 1))
    try:
        raise_for_status(response)
        chunks: queue.Queue[bytes | BaseException | None] = queue.Queue()
        threading.Thread(target=_read_chunks, args=(response, chunks), daemon=True,
                         name="x-stream-reader").start()
        buffer = b""
        last_byte = time.monotonic()
        while not stop.is_set():
            try:
                chunk = chunks.get(timeout=STOP_POLL)
            except queue.Empty:
                if time.monotonic() - last_byte > stall_timeout:
                    raise StallError(f"no data for {stall_timeout:g} s") from None
                continue
            if chunk is None:
                return  # the server ended the response; the partial line is dropped
            if isinstance(chunk, BaseException):
                raise chunk
            last_byte = time.monotonic()
            buffer += chunk
            *lines, buffer = buffer.split(b"\r\n")
            for line in lines:
                yield line
                if stop.is_set():
                    return
    finally:
        response.close()


def _read_chunks(response: requests.Response,
                 out: queue.Queue[bytes | BaseException | None]) -> None:
    try:
        for chunk in response.iter_content(chunk_size=None):
            out.put(chunk)
        out.put(None)
    except BaseException as error:  # handed to the consumer, which decides
        out.put(error)
