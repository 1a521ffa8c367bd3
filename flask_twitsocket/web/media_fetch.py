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
CDN that is down for a minute therefore does not blank the projector.

The demo's bundled pictures use the reserved host ``DEMO_HOST``: they are read from the
package, so the demo shows photos through the same path without any network.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import socket
import tempfile
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


class Refused(Exception):
    """The URL or its answer is not something the proxy serves (logged, answered 502)."""


@dataclass(frozen=True)
class Image:
    content_type: str
    body: bytes


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

    def get(self, url: str) -> Image:
        """The image at ``url``, from the cache or fetched (and then cached)."""
        cached = self._read_cache(url)
        if cached is not None:
            return cached
        image = self._demo(url) if urlsplit(url).hostname == DEMO_HOST else self._fetch(url)
        self._write_cache(url, image)
        return image

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

    def _path(self, url: str) -> Path:
        return self.cache_dir / hashlib.sha256(url.encode()).hexdigest()

    def _read_cache(self, url: str) -> Image | None:
        path = self._path(url)
        try:
            data = path.read_bytes()
            os.utime(path)  # served: the most recently used
        except OSError:
            return None
        content_type, _, body = data.partition(b"\n")
        return Image(content_type.decode("ascii", "replace"), body)

    def _write_cache(self, url: str, image: Image) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            temporary = self._path(url).with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(image.content_type.encode() + b"\n" + image.body)
            temporary.replace(self._path(url))  # atomic: other workers never read half
            self._trim()
        except OSError as error:
            log.warning("Media cache not written (%s): serving without it", error)

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
