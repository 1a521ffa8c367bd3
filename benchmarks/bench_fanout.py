"""Fan-out: N websocket walls on the real app under gunicorn, posts published through the
real pipeline (Ingestor → store + journal → bus → hub → every socket).

Buses (``--bus``, a comma list; one result file each): ``redis`` (SQLite + Redis hints,
``results/fanout.json``), ``database`` (SQLite, no broker: the default bus, the file's
change counter; ``fanout_database.json``) and ``postgres`` (PostgreSQL, no broker: its
own LISTEN/NOTIFY; ``fanout_postgres.json``).

Baseline, same run, same port, same clients: :mod:`benchmarks.baseline_server`, a minimal
``websockets`` broadcast server. The clients are Node ``ws`` processes
(``loadgen/clients.js``) that find the publish time embedded in each post's text with a
byte search (no JSON parse) and keep a histogram, so they stay cheap; the baseline reaching
higher rates than ours with the same clients shows they are not the bottleneck.

For every N (clients) and rate (posts/s) it reports delivered messages/s, p50/p99/max
publish→receive latency, whether every post reached every client, and memory per idle
connection (the server's RSS growth after N connected, divided by N).

``python -m benchmarks.bench_fanout --clients 100,1000,5000 --rates 10,50,200``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REDIS_URL,
    ROOT,
    make_app,
    postgres_url,
    raise_fd_limit,
    redis_available,
    say,
    write_result,
)

LOADGEN = ROOT / "benchmarks" / "loadgen"
MARK = "BENCHT0="
#: p99 under this is the target; the highest rate that meets it is reported.
P99_TARGET_MS = 250.0
#: What each ``--bus`` is called in the results.
BUS_NAMES = {"redis": "Redis", "database": "the default (no broker): SQLite's data_version",
             "postgres": "the default (no broker): PostgreSQL's LISTEN/NOTIFY"}


def ensure_loadgen() -> None:
    """``npm ci`` from the committed lock file, once."""
    if not (LOADGEN / "node_modules" / "ws").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=LOADGEN,
                       check=True, timeout=300)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system): what a neighbour's load moves least."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in text]


# --- the servers ------------------------------------------------------------------------

class OurServer:
    """gunicorn with one worker (gevent, as deployed, or gthread), the demo app on a SQLite
    file, Redis bus hints."""

    name = "ours"

    def __init__(self, port: int, clients: int, database_url: str, broker: str | None,
                 extra_env: dict[str, str] | None = None, worker_class: str = "gevent") -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWITSOCKET_")}
        # Every client comes from 127.0.0.1: lift the per-address cap. The bus settings
        # are the defaults, as deployed.
        env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT), TWITSOCKET_MAX_CLIENTS="0",
                   TWITSOCKET_MAX_CLIENTS_PER_ADDRESS="0",
                   TWITSOCKET_BANNED_USERS="", TWITSOCKET_TRACK_KEYWORDS="")
        env.update(extra_env or {})
        if broker:
            env["TWITSOCKET_BROKER_URL"] = broker
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/twitsocket/ws"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "benchmarks" / "gunicorn_bench.py"),
             "--worker-class", worker_class, "--threads", str(clients + 64),
             "--worker-connections", str(clients + 200), "--workers", "1",
             "--backlog", "4096", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "--timeout", "120", "demo_app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._wait_healthy()
        self.pid = children(self.process.pid)[0]

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    self.url + "/twitsocket/health", timeout=5) as reply:
                if reply.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become healthy in 60 s")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to master AND worker: a gthread worker holding thousands
        of websockets outlives the master's graceful timeout and would be orphaned."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class BaselineServer:
    name = "baseline"

    def __init__(self, port: int) -> None:
        self.ws_url = f"ws://127.0.0.1:{port}/twitsocket/ws"
        self.publish_url = f"ws://127.0.0.1:{port}/publish"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.baseline_server", str(port)], cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"
        self.pid = self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


# --- the publishers ---------------------------------------------------------------------

def marked_events(count: int, first_id: int) -> list[dict[str, Any]]:
    """Realistic original posts (retweets show the original's text, which has no mark)."""
    from demo_app.recording import generate

    events = []
    for event in generate(count * 2 + 50, seed=11, first_id=first_id):
        data = event.get("data")
        if not data or "note_tweet" in data or data.get("referenced_tweets"):
            continue
        events.append(event)
        if len(events) == count:
            break
    return events


def with_mark(event: dict[str, Any]) -> str:
    """The event as a stream line, its text ending in the publish time (epoch ms)."""
    data = dict(event["data"], text=f"{event['data']['text']} {MARK}{time.time() * 1000:.3f}")
    return json.dumps(dict(event, data=data), ensure_ascii=False)


class OurPublisher:
    """The stream process's job, in this process: ingest one post per tick."""

    def __init__(self, app) -> None:
        from flask_twitsocket.bus import create_bus
        from flask_twitsocket.state import build_ingestor

        state = app.extensions["twitsocket"]
        self.bus = create_bus(state.settings, state.engine)
        self.ingestor = build_ingestor(state, self.bus)

    def publish(self, event: dict[str, Any]) -> None:
        from flask_twitsocket.pipeline import RawEvent

        stats = self.ingestor.ingest([RawEvent("x", with_mark(event))])
        assert stats.stored == 1, stats

    def close(self) -> None:
        self.bus.close()


class BaselinePublisher:
    """Sends the same message text ours would send (the real serialisation) to /publish."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.connection = connect(url, compression=None).__enter__()

    def publish(self, event: dict[str, Any]) -> None:
        from types import SimpleNamespace

        from flask_twitsocket.messages import tweet_message
        from flask_twitsocket.pipeline import RawEvent, parse
        from flask_twitsocket.serialise import post_json
        from flask_twitsocket.store import post_row as _row

        post = parse(RawEvent("x", with_mark(event)))
        row = SimpleNamespace(seq=1, **_row(post))
        self.connection.send(tweet_message(post_json(row)))

    def close(self) -> None:
        self.connection.close()


# --- the clients ------------------------------------------------------------------------

class Clients:
    """Node processes holding the walls; several so no single event loop saturates."""

    def __init__(self, ws_url: str, total: int, deflate: bool) -> None:
        processes = 1 if total < 500 else 2
        shares = [total // processes + (1 if i < total % processes else 0)
                  for i in range(processes)]
        self.procs = [
            subprocess.Popen(["node", str(LOADGEN / "clients.js"), f"--url={ws_url}",
                              f"--clients={share}", f"--deflate={int(deflate)}"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             preexec_fn=raise_fd_limit)
            for share in shares]
        started = time.monotonic()
        replies = self._read_all(timeout=300)
        self.connect_seconds = round(time.monotonic() - started, 1)
        self.open = sum(r["open"] for r in replies)
        self.failed = sum(r["failed"] for r in replies)

    def _read_all(self, timeout: float) -> list[dict[str, Any]]:
        replies: list[dict[str, Any] | None] = [None] * len(self.procs)

        def read(index: int) -> None:
            line = self.procs[index].stdout.readline()
            replies[index] = json.loads(line) if line else {"event": "eof"}

        threads = [threading.Thread(target=read, args=(i,), daemon=True)
                   for i in range(len(self.procs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
        if any(reply is None for reply in replies):
            raise RuntimeError("load generator did not answer")
        return replies  # type: ignore[return-value]

    def command(self, line: str, timeout: float = 120) -> list[dict[str, Any]]:
        for proc in self.procs:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
        return self._read_all(timeout)

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError):
                proc.stdin.write("quit\n")
                proc.stdin.flush()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def merge(replies: list[dict[str, Any]], expected: int, clients: int, started: float,
          ) -> dict[str, Any]:
    buckets: dict[int, int] = {}
    for reply in replies:
        for bucket, count in reply["hist"]:
            buckets[bucket] = buckets.get(bucket, 0) + count
    width = replies[0]["bucket_ms"]
    total = sum(buckets.values())

    def pct(fraction: float) -> float | None:
        if not total:
            return None
        target, seen = fraction * total, 0
        for bucket in sorted(buckets):
            seen += buckets[bucket]
            if seen >= target:
                return round((bucket + 1) * width, 1)
        return None

    received = sum(r["received"] for r in replies)
    last = max(r["last_at"] for r in replies) / 1000
    span = max(last - started, 1e-3)
    return {
        "published": expected, "expected_deliveries": expected * clients,
        "received": received, "all_delivered": received >= expected * clients,
        "complete_clients": sum(r["complete"] for r in replies),
        "open_after": sum(r["open"] for r in replies),
        "delivered_per_s": round(received / span),
        "p50_ms": pct(0.50), "p99_ms": pct(0.99),
        "max_ms": round(max(r["max_ms"] for r in replies), 1),
    }


def run_rates(server, publisher, clients: Clients, n: int, rates: list[int], seconds: float,
              events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    runs = []
    used = 0
    for rate in rates:
        count = max(5, int(rate * seconds))
        batch = events[used:used + count]
        used += count
        clients.command("reset")
        started = time.time()
        next_at = time.monotonic()
        for event in batch:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            publisher.publish(event)
            next_at += 1.0 / rate
        publish_s = time.time() - started
        replies = clients.command(f"expect {count} {max(10.0, seconds * 2)}")
        run = {"rate": rate, "publish_seconds": round(publish_s, 2),
               **merge(replies, count, clients.open, started)}
        runs.append(run)
        say(f"  {server.name:8s} N={n:<5} {rate:>4}/s  delivered {run['delivered_per_s']:>7,}/s"
            f"  p50 {run['p50_ms']} ms  p99 {run['p99_ms']} ms  max {run['max_ms']} ms"
            f"  all delivered: {run['all_delivered']} ({run['received']}/"
            f"{run['expected_deliveries']}), open after {run['open_after']}")
        if not run["all_delivered"] or (run["p99_ms"] or 0) > 4 * P99_TARGET_MS:
            break  # higher rates would only fail harder; keep the run bounded
        time.sleep(1.0)
    return runs


def bench_server(kind: str, n: int, rates: list[int], seconds: float, deflate: bool,
                 database_url: str, app, events: list[dict[str, Any]],
                 settle: float = 2.0, worker_class: str = "gevent") -> dict[str, Any]:
    port = free_port()
    broker = app.config.get("TWITSOCKET_BROKER_URL")
    if kind == "ours":
        server: Any = OurServer(port, n, database_url, broker, worker_class=worker_class)
    else:
        server = BaselineServer(port)
    try:
        time.sleep(settle / 4)
        before = rss_kib(server.pid)
        cpu_before = cpu_seconds(server.pid)
        clients = Clients(server.ws_url, n, deflate)
        connect_cpu = round(cpu_seconds(server.pid) - cpu_before, 2)
        try:
            time.sleep(settle)  # let the worker's threads and buffers settle
            after = rss_kib(server.pid)
            per = (after - before) / max(clients.open, 1)
            say(f"  {kind:8s} N={n:<5} connected {clients.open} (failed {clients.failed}) in "
                f"{clients.connect_seconds} s (server CPU {connect_cpu} s);"
                f" RSS {before / 1024:.0f} → {after / 1024:.0f} MiB = {per:.1f} KiB/conn")
            publisher = OurPublisher(app) if kind == "ours" else BaselinePublisher(
                server.publish_url)
            try:
                runs = run_rates(server, publisher, clients, n, rates, seconds, events)
            finally:
                publisher.close()
        finally:
            clients.close()
    finally:
        server.stop()
    return {"clients": n, "connected": clients.open, "failed": clients.failed,
            "connect_seconds": clients.connect_seconds, "connect_cpu_seconds": connect_cpu,
            "rss_before_mib": round(before / 1024, 1), "rss_after_mib": round(after / 1024, 1),
            "kib_per_connection": round(per, 1), "runs": runs}


def highest_ok(runs: list[dict[str, Any]]) -> int | None:
    ok = [r["rate"] for r in runs if r["all_delivered"] and r["p99_ms"] is not None
          and r["p99_ms"] < P99_TARGET_MS]
    return max(ok) if ok else None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="100,1000,5000")
    parser.add_argument("--rates", default="5,10,50,200")
    parser.add_argument("--seconds", type=float, default=4.0, help="publishing per rate")
    parser.add_argument("--no-deflate", action="store_true",
                        help="clients do not offer permessage-deflate (browsers do)")
    parser.add_argument("--servers", default="ours,baseline")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds to wait after connecting before reading RSS")
    parser.add_argument("--worker-class", choices=["gevent", "gthread"], default="gevent",
                        help="gunicorn worker class for ours (gevent is the deployed default)")
    parser.add_argument("--bus", default=",".join(available_buses()),
                        help="comma list of redis, database (SQLite, no broker), postgres "
                             "(PostgreSQL, no broker); default: those whose services run")
    args = parser.parse_args(argv)
    raise_fd_limit()
    ensure_loadgen()
    results: dict[str, Any] = {}
    for bus in args.bus.split(","):
        results[bus] = bench_bus(bus, args)
    return results


def available_buses() -> list[str]:
    return (["redis"] if redis_available() else []) + ["database"] + (
        ["postgres"] if postgres_url(fresh=False) else [])


def bench_bus(bus: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every size and rate on one bus, ours and the baseline interleaved per size."""
    sizes = [int(x) for x in args.clients.split(",")]
    rates = [int(x) for x in args.rates.split(",")]
    results: dict[str, Any] = {"seconds_per_rate": args.seconds,
                               "clients_offer_deflate": not args.no_deflate,
                               "bus": BUS_NAMES[bus],
                               "database": "postgresql" if bus == "postgres" else "sqlite",
                               "worker": f"gunicorn {args.worker_class}, 1 worker",
                               "p99_target_ms": P99_TARGET_MS, "sizes": []}
    needed = sum(max(5, int(rate * args.seconds)) for rate in rates) + 10
    with tempfile.TemporaryDirectory(prefix="twitsocket-fanout-") as tmp:
        database_url = postgres_url() if bus == "postgres" else \
            f"sqlite:///{Path(tmp) / 'fanout.db'}"
        # The publisher stores every post: the generator's templates repeat, which the
        # raid rule (on by default) would hold as copies.
        app = make_app(database_url, TWITSOCKET_AUTO_MODERATION=[], **(
            {"TWITSOCKET_BROKER_URL": REDIS_URL} if bus == "redis" else {}))
        say(f"-- bus: {results['bus']} ({results['database']}) --")
        first_id = 1_900_000_000_000_000_000
        for n in sizes:
            entry: dict[str, Any] = {"clients": n}
            for kind in args.servers.split(","):
                events = marked_events(needed, first_id)
                first_id += 10_000 * 4_194_304
                entry[kind] = bench_server(kind, n, rates, args.seconds, not args.no_deflate,
                                           database_url, app, events, args.settle,
                                           args.worker_class)
                entry[kind]["highest_rate_p99_ok"] = highest_ok(entry[kind]["runs"])
            if "ours" in entry and "baseline" in entry:
                entry["ratios"] = ratios(entry["ours"], entry["baseline"])
                say(f"  ratios ours/baseline N={n}: {entry['ratios']}")
            results["sizes"].append(entry)
        app.extensions["twitsocket"].engine.dispose()
    # the deployed worker class is the headline; another class is kept beside it
    name = "fanout" if bus == "redis" else f"fanout_{bus}"
    write_result(name if args.worker_class == "gevent" else f"{name}_{args.worker_class}",
                 results)
    return results


def ratios(ours: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    by_rate = {r["rate"]: r for r in baseline["runs"]}
    out: dict[str, float] = {}
    p99: dict[str, float] = {}
    for run in ours["runs"]:
        other = by_rate.get(run["rate"])
        if other and other["delivered_per_s"]:
            out[str(run["rate"])] = round(run["delivered_per_s"] / other["delivered_per_s"], 3)
            if run["p99_ms"] and other["p99_ms"]:
                p99[str(run["rate"])] = round(run["p99_ms"] / other["p99_ms"], 2)
    return {"delivered_per_s_by_rate": out, "p99_by_rate": p99,
            "memory_per_connection": quotient(ours["kib_per_connection"],
                                              baseline["kib_per_connection"]),
            "connect_seconds": quotient(ours["connect_seconds"], baseline["connect_seconds"]),
            "connect_cpu": quotient(ours.get("connect_cpu_seconds"),
                                    baseline.get("connect_cpu_seconds"))}


def quotient(ours: float | None, baseline: float | None) -> float | None:
    return round(ours / baseline, 2) if ours is not None and baseline else None


if __name__ == "__main__":
    main()
