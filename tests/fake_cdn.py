"""A fake media CDN on 127.0.0.1, with the ways a real one (or a hostile URL) goes wrong.

``/photo.png`` a real (tiny) PNG; ``/slow.png`` headers at once, then a byte now and then,
for ever; ``/huge.png`` an image type with no end; ``/page.html`` HTML; ``/redirect`` a 302
to ``target`` (e.g. another port of 127.0.0.1, which the proxy must refuse); ``/status/N``
that status. ``requests`` counts what was asked; ``/photo.png`` waits while ``gate`` is
clear (a test holds a fetch in flight that way).
"""

from __future__ import annotations

import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

from fake_mastodon import serve_http


def tiny_png(width: int = 4, height: int = 3, colour: tuple[int, int, int] = (200, 30, 90)
             ) -> bytes:
    """A valid PNG of one colour (written here: no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


PNG = tiny_png()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: Any = None

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        owner = self.owner
        owner.requests.append(self.path)
        if self.path.split("?")[0] == "/photo.png":
            owner.gate.wait(30)
            self._send(200, "image/png", PNG)
        elif self.path == "/page.html":
            self._send(200, "text/html", b"<script>alert(1)</script>")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", owner.target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), "text/plain", b"no")
        elif self.path in ("/slow.png", "/huge.png"):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            try:
                while not owner.closed:
                    self.wfile.write(b"x" * (64 * 1024 if self.path == "/huge.png" else 1))
                    self.wfile.flush()
                    if self.path == "/slow.png":
                        time.sleep(0.2)
            except OSError:
                pass
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FakeCDN:
    def __init__(self, target: str = "") -> None:
        self.requests: list[str] = []
        self.target = target
        self.closed = False
        self.gate = threading.Event()
        self.gate.set()
        self.server = serve_http(_Handler, self)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self.closed = True
        self.server.shutdown()
        self.server.server_close()
