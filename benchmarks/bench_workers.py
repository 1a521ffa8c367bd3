"""How many websocket walls ONE gunicorn worker holds, gthread vs gevent, and how fast a
post reaches them all.

For each worker class and each client count: start ``gunicorn -w 1`` on the demo app
(SQLite in a temporary directory, Redis as the bus when it runs), open that many
websockets from an asyncio load generator in this process (raw frames, no compression, no
JSON parsing: a client costs a few kB), then store posts whose text carries the time they
were stored; every client measures store → receive. Reported per run: clients held
(handshake done and first message received), clients the worker's /health counts, posts
delivered to every client, latency p50/p99/max, and the worker's resident memory.

Bounded by design: 127.0.0.1 only, ``--clients`` caps the count, every phase has a
deadline. The load generator shares the 2 cores with the server, so the numbers are a
floor for what a dedicated web host holds.

    .venv/bin/python -m benchmarks.bench_workers --classes gthread,gevent \
        --clients 1000,2000,4000 --posts 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REDIS_URL,
    ROOT,
    make_app,
    percentile,
    raise_fd_limit,
    redis_available,
    say,
    write_result,
)

STAMP = re.compile(rb"BENCHT0=(\d+\.\d+)")
HOST = "127.0.0.1"


@dataclass
class Clients:
    """What the load generator saw, summed over every client."""

    held: int = 0
    failed: int = 0
    closed: int = 0
    tweets: dict[int, int] = field(default_factory=dict)  # client index → tweets received
    latencies: list[float] = field(default_factory=list)


async def wall(index: int, port: int, stats: Clients, stop: asyncio.Event,
               opening: asyncio.Semaphore) -> None:
    """One browser: handshake, then read frames; answer pings; record tweets."""
    async with opening:  # a bounded number of handshakes in flight, like a real crowd
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 20)
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write((f"GET /twitsocket/ws HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                          ).encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                raise ConnectionError(head[:40])
            opcode, _payload = await asyncio.wait_for(read_frame(reader), 20)
            if opcode != 1:
                raise ConnectionError(f"first frame has opcode {opcode}")
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            stats.failed += 1
            return
    stats.held += 1
    stats.tweets[index] = 0
    reading = asyncio.ensure_future(read_loop(index, reader, writer, stats))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    reading.cancel()
    stopping.cancel()
    writer.close()


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return first & 0x0F, await reader.readexactly(length)  # server frames are unmasked


def pong(payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x8A, 0x80 | len(payload)]) + mask + masked


async def read_loop(index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    stats: Clients) -> None:
    try:
        while True:
            opcode, payload = await read_frame(reader)
            if opcode == 1 and payload.startswith(b'{"type":"tweet"'):
                stats.tweets[index] += 1
                found = STAMP.search(payload)
                if found:
                    stats.latencies.append(time.time() - float(found.group(1)))
            elif opcode == 9:
                writer.write(pong(payload))
            elif opcode == 8:
                stats.closed += 1
                return
    except (OSError, asyncio.IncompleteReadError):
        stats.closed += 1


def health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{HOST}:{port}/twitsocket/health", timeout=30) as r:
        return json.loads(r.read())


def clients_counted(port: int) -> int | None:
    """The worker's own count of walls, or None when it does not answer (overloaded)."""
    try:
        return health(port)["clients"]
    except OSError:  # includes timeouts: an answer in 30 s is no answer
        return None


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def gunicorn(worker_class: str, clients: int, port: int, env: dict[str, str], log: Path
             ) -> subprocess.Popen:
    room = str(clients + 100)
    sized = (["--threads", room] if worker_class == "gthread" else [])
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "--worker-class", worker_class, *sized, "--worker-connections", room,
         "--workers", "1", "--bind", f"{HOST}:{port}", "--log-level", "warning",
         "demo_app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
        start_new_session=True)  # its own process group: stop() reaches the worker too


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM the master; if a worker with thousands of threads lingers, SIGKILL the
    whole group (gunicorn was started in its own session) so no orphan keeps burning CPU."""
    import signal

    server.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):  # gone already: fine
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, deadline: float) -> dict[str, Any]:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited; see its log")
        try:
            return health(port)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not become healthy")


async def run_one(worker_class: str, count: int, posts: int, interval: float,
                  env: dict[str, str], ingest, workdir: Path) -> dict[str, Any]:
    port = free_port()
    log = workdir / f"gunicorn-{worker_class}-{count}.log"
    server = gunicorn(worker_class, count, port, env, log)
    stats = Clients()
    stop = asyncio.Event()
    try:
        pid = wait_healthy(port, server, time.monotonic() + 30)["pid"]
        idle_rss = rss_mb(pid)
        opening = asyncio.Semaphore(200)
        started = time.monotonic()
        tasks = [asyncio.ensure_future(wall(i, port, stats, stop, opening))
                 for i in range(count)]
        deadline = started + 120
        while stats.held + stats.failed < count and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        ramp = round(time.monotonic() - started, 1)
        counted = await asyncio.to_thread(clients_counted, port)
        for n in range(posts):
            await asyncio.to_thread(ingest, n)
            await asyncio.sleep(interval)
        wait_until = time.monotonic() + 60
        while (time.monotonic() < wait_until
               and any(v < posts for v in list(stats.tweets.values()))):
            await asyncio.sleep(0.2)
        complete = sum(1 for v in stats.tweets.values() if v == posts)
        latencies = sorted(stats.latencies)
        result = {
            "worker_class": worker_class, "clients_requested": count,
            "clients_held": stats.held, "clients_failed": stats.failed,
            "clients_counted_by_health": counted, "ramp_seconds": ramp,
            "posts": posts, "clients_with_every_post": complete,
            "clients_closed_by_server": stats.closed,
            "latency_ms": {k: (None if v is None else round(v * 1000, 1)) for k, v in {
                "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
                "max": latencies[-1] if latencies else None}.items()},
            "worker_rss_mb": {"idle": idle_rss, "loaded": rss_mb(pid)},
            "server_errors": [line.strip() for line in log.read_text().splitlines()
                              if "CRITICAL" in line or "ERROR" in line][:5],
        }
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return result
    finally:
        stop.set()
        stop_server(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", default="gthread,gevent")
    parser.add_argument("--clients", default="1000,2000,4000",
                        help="comma-separated client counts (each at most 10000)")
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between posts")
    parser.add_argument("--name", default="workers", help="results/<name>.json")
    args = parser.parse_args(argv)
    counts = [min(10_000, int(n)) for n in args.clients.split(",")]
    raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="bench_workers_"))
    database = f"sqlite:///{workdir / 'wall.sqlite3'}"
    broker = REDIS_URL if redis_available() else ""
    config = {"TWITSOCKET_BROKER_URL": broker, "TWITSOCKET_MAX_CLIENTS": "0",
              "TWITSOCKET_BROKER_CHANNEL": f"bench_{os.getpid()}"}
    app = make_app(database, **{k: v for k, v in config.items() if v})
    from flask_twitsocket.pipeline import RawEvent
    from flask_twitsocket.state import build_ingestor

    state = app.extensions["twitsocket"]
    ingestor = build_ingestor(state)
    serial = iter(range(1, 10**9))

    def ingest(_n: int) -> None:
        post_id = next(serial)
        ingestor.ingest([RawEvent("x", {"data": {
            "id": str(post_id), "text": f"bench post BENCHT0={time.time():.6f}",
            "author_id": "1", "created_at": "2026-11-28T10:00:00.000Z"},
            "includes": {"users": [{"id": "1", "username": "bench", "name": "Bench"}]}})])

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TWITSOCKET_")},
           "DATABASE_URL": database, "TWITSOCKET_BANNED_USERS": "",
           "TWITSOCKET_TRACK_KEYWORDS": "", **config}
    runs = []
    for worker_class in args.classes.split(","):
        for count in counts:
            say(f"{worker_class}: {count} clients …")
            try:
                result = asyncio.run(run_one(worker_class, count, args.posts,
                                             args.interval, env, ingest, workdir))
            except RuntimeError as error:  # the server never came up or died: a result too
                result = {"worker_class": worker_class, "clients_requested": count,
                          "error": str(error)}
            say(f"  {json.dumps(result)}")
            runs.append(result)
    path = write_result(args.name, {"bus": "redis" if broker else "database",
                                    "runs": runs})
    say(f"Results in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
