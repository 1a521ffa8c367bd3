"""gunicorn settings for the wall's web process: ``gunicorn -c deploy/gunicorn.conf.py
'myapp:create_app()'``. Every value can be overridden from the environment file.

Why these values (measured with benchmarks/bench_workers.py, see docs/deployment.md):

* ``gevent`` holds thousands of websockets per worker: each wall costs two greenlets
  (Flask-Sock's route and simple-websocket's reader) instead of two OS threads; the
  hub's single reader per worker fans each post out. ``gthread`` works too (set
  GUNICORN_WORKER_CLASS=gthread): size ``threads`` well above the walls a worker must
  hold (TWITSOCKET_MAX_CLIENTS), because every open websocket or event stream occupies
  one pool thread for its whole life, and the page and the API need threads left over
  when the wall slots are full. A warning says so at start-up when the margin is thin.
* ``worker_connections`` caps sockets per worker for both classes (gthread's default of
  1000 silently refuses more); keep TWITSOCKET_MAX_CLIENTS at or below it so a full
  worker says 1013 "try again" instead of leaving the browser hanging.
* ``timeout`` is the worker heartbeat for these classes, not a request limit: a
  websocket may stay open for hours.
* no ``max_requests``: recycling a worker would drop every wall it holds at once.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


bind = _env("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = _env("GUNICORN_WORKER_CLASS", "gevent")
workers = int(_env("GUNICORN_WORKERS", str(multiprocessing.cpu_count())))
worker_connections = int(_env("GUNICORN_WORKER_CONNECTIONS", "5000"))
threads = int(_env("GUNICORN_THREADS", str(worker_connections)))  # gthread only
timeout = int(_env("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(_env("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# nginx on the same host sets X-Forwarded-For / -Proto; trust it only from there.
forwarded_allow_ips = _env("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = _env("GUNICORN_ACCESSLOG", "-") or None
loglevel = _env("GUNICORN_LOGLEVEL", "info")


def _raise_fd_limit() -> None:
    """Each wall is a socket: lift the soft descriptor limit to the hard one (systemd's
    LimitNOFILE sets the hard one), inherited by the workers."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


#: Pool threads (gthread) or connections (both) left for the page and the API when every
#: wall slot of a worker is taken.
HEADROOM = 50


def _check_headroom() -> None:
    """Say so when a full worker would have nothing left for the page and the API."""
    walls = int(_env("TWITSOCKET_MAX_CLIENTS", "1000"))
    room = min(worker_connections, threads) if worker_class == "gthread" \
        else worker_connections
    if walls == 0 or room - walls < HEADROOM:
        print(f"gunicorn.conf.py: TWITSOCKET_MAX_CLIENTS={walls} leaves fewer than "
              f"{HEADROOM} of the worker's {room} {worker_class} slots for the page and "
              "the API; lower it or raise GUNICORN_THREADS / GUNICORN_WORKER_CONNECTIONS",
              file=sys.stderr)


_raise_fd_limit()
_check_headroom()
