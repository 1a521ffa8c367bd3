"""The servers of :mod:`benchmarks.bench_media`: a local CDN, gunicorn running the demo app
with the deployed worker class, and nginx in the four roles the benchmark compares (static
baseline, proxy, X-Accel-Redirect, micro-cache), each on its own port.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT

ACCEL_LOCATION = "/_twitsocket_media/"
ENV_ORIGIN = "BENCH_MEDIA_ORIGIN"


def create_app():
    """The demo app whose media fetcher trusts the benchmark's local CDN (gunicorn's
    factory: ``benchmarks.media_servers:create_app()``)."""
    from demo_app import create_app as demo
    from flask_twitsocket.web.media_fetch import MediaFetcher

    app = demo()
    settings = app.extensions["twitsocket"].settings
    app.extensions["twitsocket_media"] = MediaFetcher(
        settings["MEDIA_CACHE_DIR"], settings["MEDIA_CACHE_MB"] * 1024 * 1024,
        trusted_origins={os.environ[ENV_ORIGIN]})
    return app


# --- the local CDN ------------------------------------------------------------------------

class Origin:
    """``/photo/<anything>.jpg``: the same ``size`` bytes as image/jpeg; counts requests."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                owner.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the servers --------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as reply:
            if reply.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} in 60 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_gunicorn(port: int, workers: int, database_url: str, cache_dir: Path,
                   origin: str, accel: bool) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWITSOCKET_")}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT), TWITSOCKET_BANNED_USERS="",
               TWITSOCKET_MEDIA_CACHE_DIR=str(cache_dir), **{ENV_ORIGIN: origin})
    if accel:
        env["TWITSOCKET_MEDIA_ACCEL_REDIRECT"] = ACCEL_LOCATION
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "benchmarks" / "gunicorn_bench.py"),
         "--worker-class", "gevent", "--worker-connections", "5000",
         "--workers", str(workers), "--backlog", "4096", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "benchmarks.media_servers:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/twitsocket/health", process, "gunicorn")
    return process


NGINX_CONF = """\
worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_cache_path {prefix}/microcache levels=1:2 keys_zone=twitsocket_media:10m
                     max_size=1g inactive=10m use_temp_path=off;
    upstream plain {{ server 127.0.0.1:{plain}; keepalive 32; }}
    upstream accel {{ server 127.0.0.1:{accel}; keepalive 32; }}
    # the baseline: the same bytes as a plain static file
    server {{
        listen 127.0.0.1:{static_port} backlog=4096;
        location /static/ {{ alias {static}/; }}
    }}
    # ours behind nginx, the worker sending the file
    server {{
        listen 127.0.0.1:{proxy_port} backlog=4096;
        location / {{ proxy_pass http://plain; }}
    }}
    # ours behind nginx with X-Accel-Redirect, as deploy/nginx-twitsocket.conf
    server {{
        listen 127.0.0.1:{accel_port} backlog=4096;
        location {location} {{
            internal;
            alias {cache}/;
            add_header Content-Security-Policy "default-src 'none'; sandbox" always;
            add_header X-Content-Type-Options nosniff always;
        }}
        location / {{ proxy_pass http://accel; }}
    }}
    # ours behind nginx's micro-cache, as the option in deploy/nginx-twitsocket.conf
    server {{
        listen 127.0.0.1:{cache_port} backlog=4096;
        location /twitsocket/media/ {{
            proxy_pass http://plain;
            proxy_cache twitsocket_media;
            proxy_cache_lock on;
            proxy_cache_valid 200 10s;
            proxy_ignore_headers Cache-Control Expires;
        }}
        location / {{ proxy_pass http://plain; }}
    }}
}}
"""
#: What each nginx server block serves: the kinds of the results.
NGINX_KINDS = ("nginx", "ours_nginx", "ours_nginx_accel", "ours_nginx_microcache")


def start_nginx(prefix: Path, ports: dict[str, int], workers: int, static: Path,
                cache: Path) -> subprocess.Popen:
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(
        workers=workers, prefix=prefix, plain=ports["ours"], accel=ports["accel_upstream"],
        static_port=ports["nginx"], proxy_port=ports["ours_nginx"],
        accel_port=ports["ours_nginx_accel"], cache_port=ports["ours_nginx_microcache"],
        static=static, location=ACCEL_LOCATION, cache=cache), encoding="utf-8")
    process = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(conf),
                                "-e", str(prefix / "error.log")])
    wait_for(f"http://127.0.0.1:{ports['nginx']}/static/ready", process, "nginx")
    return process
