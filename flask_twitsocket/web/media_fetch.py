"""Fetching a post's image for the media proxy, carefully, and keeping it on disk.

The proxy (:mod:`.media`) only ever asks for a URL that a stored post or author names, but
those URLs come from the networks' payloads, that is from anyone: a URL may point at the
wall's own network, redirect there, answer slowly forever, send a gigabyte, or send HTML.
So each fetch:

* goes only to public addresses: the host is resolved and every address must be global
  (no loopback, private, link-local…), at every redirect hop, followed by hand (at most
  ``MAX_REDIRECTS``). (The check is made just before each request; a name server that
  answers differently a millisecond later — DNS rebinding — is not covered.);
* takes at most ``CONNECT_TIMEOUT`` to connect and ``DEADLINE`` in all;
* accepts only image types (``ALLOWED_TYPES``: photos, video posters, card images,
  avatars — never video files, HTML or SVG, which can carry script) and at most
  ``MAX_BYTES``.

What was fetched is kept in a directory shared by the workers of one host, bounded in size
(``TWITSOCKET_MEDIA_CACHE_MB``): the least recently served files are removed first. A
CDN that is down for a minute therefore does not blank the projector. Each file holds the
image's bytes only, named ``<sha256 of the URL>.<type's extension>``, so the web server can
send it as it is (``sendfile``, or nginx itself through ``X-Accel-Redirect``): no name in
the cache ever comes from a request or from the URL's text.

When a new photo post reaches a thousand phones at once, they all ask for it within a few
milliseconds: one fetch per worker goes to the network and the others wait for its result
(success or refusal) instead of fetching the same URL a thousand times.

The demo's bundled pictures use the reserved host ``DEMO_HOST``: they are read from the
package, so the demo shows photos through the same path without any network.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

log = logging.getLogger("flask_twitsocket.media")

CONNECT_TIMEOUT = 3.0
DEADLINE = 10.0
MAX_BYTES = 8 * 1024 * 1024
MAX_REDIRECTS = 3
ALLOWED_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"})
DEMO_HOST = "demo.twitsocket.invalid"
DEMO_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "media"
_DEMO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
#: The cache file's extension for each type (most frequent first: lookups try them in order).
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "image/gif": "gif", "image/avif": "avif"}
TYPE_OF = {extension: kind for kind, extension in EXTENSIONS.items()}
#: A served file's modification time (its place in the least-recently-used order) is
#: refreshed at most this often: a write per hit would cost more than the hit itself.
TOUCH_EVERY = 3600.0


class Refused(Exception):
    """The URL or its answer is not something the proxy serves (logged, answered 502)."""


@dataclass(frozen=True)
class Image:
    """An image to serve: its file in the cache (``path``, the usual case), or its bytes
    when the cache could not be written (disk full, read-only): served all the same."""

    content_type: str
    body: bytes = b""
    path: Path | None = None


@dataclass
class _Flight:
    """One fetch in progress that other requests for the same URL wait for."""

    done: threading.Event = field(default_factory=threading.Event)
    image: Image | None = None
    error: Refused | None = None


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "twitsocket-media"


@dataclass
class MediaFetcher:
    cache_dir: Path
    cache_bytes: int
    #: Origins (``scheme://host:port``) exempt from the public-address and https rules:
    #: only for tests' local fake CDNs. A redirect elsewhere is checked as usual.
    trusted_origins: set[str] = field(default_factory=set)
    deadline: float = DEADLINE
    max_bytes: int = MAX_BYTES

    _flights: dict[str, _Flight] = field(default_factory=dict, init=False, repr=False)
    _flights_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                          repr=False)

    def get(self, url: str) -> Image:
        """The image at ``url``, from the cache or fetched (and then cached); raises
        :class:`Refused`. Concurrent requests for one URL share a single fetch."""
        cached = self.cached(url)
        if cached is not None:
            return cached
        with self._flights_lock:
            flight = self._flights.get(url)
            if flight is not None:
                leader = None
            else:
                leader = flight = self._flights[url] = _Flight()
        return self._follow(flight) if leader is None else self._lead(url, leader)

    def _lead(self, url: str, flight: _Flight) -> Image:
        """Fetch ``url`` for every request that asks for it meanwhile."""
        try:
            flight.image = self._fetch_and_keep(url)
            return flight.image
        except Refused as error:
            flight.error = error
            raise
        finally:
            with self._flights_lock:
                del self._flights[url]
            flight.done.set()

    def _follow(self, flight: _Flight) -> Image:
        """The result of another request's fetch of the same URL."""
        if not flight.done.wait(self.deadline + CONNECT_TIMEOUT):
            raise Refused("too slow (waiting for another request's fetch)")
        if flight.image is None:
            raise Refused(str(flight.error or "fetch failed"))
        return flight.image

    def _fetch_and_keep(self, url: str) -> Image:
        cached = self.cached(url)  # another worker of the host may have just written it
        if cached is not None:
            return cached
        image = self._demo(url) if urlsplit(url).hostname == DEMO_HOST else self._fetch(url)
        return self._write_cache(url, image)

    # --- fetching ---------------------------------------------------------------------------

    def _fetch(self, url: str) -> Image:
        started = time.monotonic()
        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment, no .netrc
            for _hop in range(MAX_REDIRECTS + 1):
                self._check_target(url)
                left = self.deadline - (time.monotonic() - started)
                if left <= 0:
                    raise Refused("too slow")
                try:
                    response = session.get(url, stream=True, allow_redirects=False,
                                           timeout=(CONNECT_TIMEOUT, left),
                                           headers={"Accept": "image/*"})
                except requests.RequestException as error:
                    raise Refused(f"fetch failed: {type(error).__name__}") from None
                with response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("Location", ""))
                        continue
                    return self._read(response, started)
        raise Refused("too many redirects")

    def _read(self, response: requests.Response, started: float) -> Image:
        if response.status_code != 200:
            raise Refused(f"answered {response.status_code}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in ALLOWED_TYPES:
            raise Refused(f"not an image type we serve ({content_type[:40]!r})")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise Refused(f"too big ({declared} bytes)")
        chunks: list[bytes] = []
        size = 0
        try:
            # read1: whatever has arrived (a trickle must not block until 64 KiB have)
            while chunk := response.raw.read1(64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    raise Refused(f"too big (over {self.max_bytes} bytes)")
                if time.monotonic() - started > self.deadline:
                    raise Refused("too slow")
                chunks.append(chunk)
        except (requests.RequestException, OSError, ValueError) as error:
            raise Refused(f"read failed: {type(error).__name__}") from None
        return Image(content_type, b"".join(chunks))

    def _check_target(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self.trusted_origins:
            return
        if parts.scheme != "https" or not parts.hostname:
            raise Refused("not an https URL")
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443,
                                       type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise Refused("host does not resolve") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise Refused(f"{parts.hostname} is not a public address")

    def _demo(self, url: str) -> Image:
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        path = DEMO_DIR / name
        kind = _DEMO_TYPES.get(path.suffix.lower())
        if not name or "/" in name or name.startswith(".") or kind is None or \
                not path.is_file():
            raise Refused("no such demo picture")
        return Image(kind, path.read_bytes())

    # --- the disk cache -----------------------------------------------------------------------

    @staticmethod
    def _key(url: str) -> str:
        return hashlib.sha256(url.encode()).hexdigest()

    def cached(self, url: str) -> Image | None:
        """The cached file of ``url`` if there is one (a few ``stat`` calls, no read)."""
        key = self._key(url)
        for extension, kind in TYPE_OF.items():
            path = self.cache_dir / f"{key}.{extension}"
            try:
                modified = path.stat().st_mtime
                if time.time() - modified > TOUCH_EVERY:
                    os.utime(path)  # served: among the most recently used again
            except OSError:
                continue
            return Image(kind, path=path)
        return None

    def _write_cache(self, url: str, image: Image) -> Image:
        """Keep ``image`` in the cache; the cached file, or ``image`` itself if it could
        not be written."""
        path = self.cache_dir / f"{self._key(url)}.{EXTENSIONS[image.content_type]}"
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(image.body)
            temporary.replace(path)  # atomic: other workers never read half
            self._trim()
        except OSError as error:
            log.warning("Media cache not written (%s): serving without it", error)
            with contextlib.suppress(OSError):
                temporary.unlink()
            return image
        # a file bigger than the whole bound is trimmed at once: serve it from memory
        return Image(image.content_type, path=path) if path.exists() else image

    def _trim(self) -> None:
        """Remove the least recently served files until the cache is within its bound."""
        entries = []
        total = 0
        for entry in os.scandir(self.cache_dir):
            try:
                stat = entry.stat()
            except OSError:
                continue
            entries.append((stat.st_mtime, stat.st_size, entry.path))
            total += stat.st_size
        if total <= self.cache_bytes:
            return
        for _, size, path in sorted(entries):
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size
            if total <= self.cache_bytes * 0.9:
                break
