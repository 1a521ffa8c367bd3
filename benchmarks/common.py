"""What every benchmark shares: databases, result files, percentiles, process limits.

Benchmarks never touch the test database: SQLite files live in a temporary directory and
PostgreSQL runs use their own database (``twitsocket_bench``), dropped and recreated.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Where result files go; the smoke test points it at a temporary directory.
RESULTS = Path(os.environ.get("TWITSOCKET_BENCH_RESULTS", ROOT / "benchmarks" / "results"))
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PG_BENCH_DB = os.environ.get("BENCH_PG_DB", "twitsocket_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # demo_app


def raise_fd_limit() -> int:
    """Thousands of sockets need thousands of descriptors: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_url(fresh: bool = True) -> str | None:
    """The benchmark database's SQLAlchemy URL (recreated empty), or None without PostgreSQL."""
    if not reachable("127.0.0.1", 5432):
        return None
    import psycopg

    if fresh:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (PG_BENCH_DB,))
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}"')
            conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_BENCH_DB}"


def redis_available() -> bool:
    return reachable("127.0.0.1", 6379)


def make_app(database_url: str, **config: Any):
    """A Flask app with the extension on ``database_url``, tables freshly created."""
    from flask import Flask

    from flask_twitsocket import TwitSocket
    from flask_twitsocket.models import metadata

    app = Flask("twitsocket_bench")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, TWITSOCKET_BANNED_USERS=[],
                      **config)
    TwitSocket(app)
    state = app.extensions["twitsocket"]
    metadata.drop_all(state.engine)
    state.create_tables()
    return app


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def python_speed() -> float:
    """Millions of simple interpreter loop steps per second, best of three.

    The same 2-core machine class varies from run to run (we saw 2.5× between two
    sessions); absolute figures are only comparable alongside this one. Ratios to a
    baseline measured in the same run are what the benchmarks judge by."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for step in range(2_000_000):
            total += step
        best = min(best, time.perf_counter() - started)
    return round(2.0 / best, 1)


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_at_start": [round(x, 2) for x in load],
            "python_loop_msteps_per_s": python_speed()}


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": machine(), **data}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def say(message: str) -> None:
    print(message, flush=True)
