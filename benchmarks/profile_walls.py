"""Where an idle wall's bytes go in the deployed worker (gunicorn, gevent, one worker).

Starts the demo app as the fan-out benchmark does, with a tracemalloc probe in the worker
(:mod:`benchmarks.gunicorn_profile`), opens ``--clients`` idle walls with the Node load
generator, and prints per wall: the worker's resident memory growth, the Python heap's
growth by line (tracemalloc), and the greenlets. Two passes, because tracemalloc's own
bookkeeping inflates RSS: the first without it (RSS), the second with it (the breakdown).

    python -m benchmarks.profile_walls --clients 2000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_fanout import LOADGEN, children, ensure_loadgen, free_port, rss_kib
from benchmarks.common import ROOT, make_app, raise_fd_limit, say


def start_worker(port: int, database_url: str, env: dict[str, str]) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TWITSOCKET_")},
           **env, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "TWITSOCKET_MAX_CLIENTS": "0", "TWITSOCKET_MAX_CLIENTS_PER_ADDRESS": "0",
           "TWITSOCKET_BANNED_USERS": "", "TWITSOCKET_TRACK_KEYWORDS": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "benchmarks" / "gunicorn_profile.py"),
         "--worker-class", "gevent", "--worker-connections", "10000", "--workers", "1",
         "--backlog", "4096", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "demo_app:create_app()"], cwd=ROOT, env=env)


def walls(url: str, count: int) -> tuple[subprocess.Popen, float]:
    started = time.monotonic()
    clients = subprocess.Popen(["node", str(LOADGEN / "clients.js"), f"--url={url}",
                                f"--clients={count}", "--deflate=1"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    reply = json.loads(clients.stdout.readline())
    if reply["open"] != count:
        raise RuntimeError(f"only {reply['open']} of {count} walls connected")
    return clients, time.monotonic() - started


def close(clients: subprocess.Popen) -> None:
    clients.stdin.write("quit\n")
    clients.stdin.flush()
    clients.wait(timeout=30)


def snap(directory: Path, n: int) -> dict:
    (directory / f"take-{n}").touch()
    answer = directory / f"snap-{n}.json"
    while not answer.exists():
        time.sleep(0.2)
    time.sleep(0.2)
    return json.loads(answer.read_text())


def one_pass(count: int, tmp: Path, trace: bool) -> dict:
    port = free_port()
    database_url = f"sqlite:///{tmp / 'walls.db'}"
    make_app(database_url).extensions["twitsocket"].engine.dispose()
    probe = tmp / ("probe" if trace else "none")
    probe.mkdir(exist_ok=True)
    server = start_worker(port, database_url, {"PROFILE_DIR": str(probe)} if trace else {})
    try:
        time.sleep(3)
        url = f"ws://127.0.0.1:{port}/twitsocket/ws"
        warm, _ = walls(url, 20)  # imports, caches, the hub thread
        close(warm)
        time.sleep(1)
        worker = children(server.pid)[0]
        before = rss_kib(worker)
        if trace:
            snap(probe, 0)
        clients, seconds = walls(url, count)
        time.sleep(2)
        result = {"clients": count, "connect_s": round(seconds, 2),
                  "rss_kib_per_wall": round((rss_kib(worker) - before) / count, 1)}
        if trace:
            data = snap(probe, 1)
            result["python_heap_kib_per_wall"] = round(data["heap_growth"] / 1024 / count, 1)
            result["top_kib_per_wall"] = [(where, round(size / 1024 / count, 2))
                                          for where, size in data["top"][:20]]
        close(clients)
        return result
    finally:
        server.terminate()
        server.wait(timeout=20)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    args = parser.parse_args(argv)
    raise_fd_limit()
    ensure_loadgen()
    with tempfile.TemporaryDirectory() as tmp:
        for trace in (False, True):
            result = one_pass(args.clients, Path(tmp), trace)
            top = result.pop("top_kib_per_wall", [])
            say(json.dumps(result))
            for where, kib in top:
                say(f"  {kib:6.2f} KiB  {where}")


if __name__ == "__main__":
    main()
