"""Media from cache: 1,000 phones load the same new photo post at once.

Each round stores a new post whose photo lives on a local "CDN" (a plain HTTP server in
this process), then ``hey`` opens ``--phones`` connections at once, each asking the media
proxy for that photo (``<prefix>/media/<seq>/m0``): the first request of each worker
fetches it and fills the disk cache, the others wait for that fetch or hit the cache.
Served by:

* **ours**: gunicorn with the deployed worker class (gevent, ``--workers`` processes), the
  worker sending the cached file (``send_file``);
* **ours_nginx**: nginx proxying to that gunicorn (the deployed set-up without
  ``TWITSOCKET_MEDIA_ACCEL_REDIRECT``);
* **ours_nginx_accel**: a second gunicorn with ``TWITSOCKET_MEDIA_ACCEL_REDIRECT``: the
  app checks the request, nginx sends the file from its internal location (as in
  ``deploy/nginx-twitsocket.conf``);
* **ours_nginx_microcache**: nginx's own cache in front of the media route for 10 s, one
  request per URL let through at a time (``proxy_cache_lock``): the optional block of
  ``deploy/nginx-twitsocket.conf``;
* **nginx** (the baseline): nginx serving the same bytes as a static file, a new file per
  round, as many worker processes as gunicorn has workers.

All servers run at once and every round goes through the kinds one after the other, so a
burst of other work on the (shared) machine lands on all of them. Every request is a row
of ``hey -o csv``: requests/s is the requests over the time from each burst's first
request to its last answer; p50/p99 are over every request of every round; a non-200
answer counts as a failure, and one more request per round checks the bytes. The nginx
rows are left out, saying so, when nginx is not installed (``make bench`` installs it
with apt-get when run as root).

``python -m benchmarks.bench_media --phones 1000 --rounds 5``
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.common import make_app, percentile, raise_fd_limit, say, write_result
from benchmarks.media_servers import (
    NGINX_KINDS,
    Origin,
    free_port,
    start_gunicorn,
    start_nginx,
    stop,
)


def photo_post(store, url: str) -> str:
    """Store a new post showing the photo at ``url``; its ``seq``."""
    from flask_twitsocket.shapes import Author, PostData

    number = url.rsplit("/", 1)[-1].split(".")[0]
    post = PostData(network="mastodon", post_id=f"media-{number}",
                    author=Author(id="1", username="speaker@devconf.example"),
                    text="The keynote stage", created_at=datetime.now(timezone.utc),
                    media=[{"type": "photo", "url": url, "preview_url": url,
                            "alt": "The stage", "width": 1200, "height": 800}])
    return store.apply([post]).stored[0]["seq"]


# --- the phones ---------------------------------------------------------------------------

def burst(url: str, phones: int) -> dict[str, Any]:
    """``phones`` connections at once, one GET each: latencies (s), statuses, duration."""
    output = subprocess.run(["hey", "-n", str(phones), "-c", str(phones), "-t", "60",
                             "-disable-keepalive", "-o", "csv", url],
                            capture_output=True, text=True, timeout=600, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(output)))
    latencies = [float(row["response-time"]) for row in rows]
    ends = [float(row["offset"]) + float(row["response-time"]) for row in rows]
    return {"latencies": latencies, "ok": sum(row["status-code"] == "200" for row in rows),
            "requests": len(rows), "seconds": max(ends) if ends else 0.0}


def summarise(bursts: list[dict[str, Any]], origin_fetches: int | None) -> dict[str, Any]:
    latencies = sorted(x * 1000 for b in bursts for x in b["latencies"])
    requests = sum(b["requests"] for b in bursts)
    seconds = sum(b["seconds"] for b in bursts)
    return {"requests": requests, "ok": sum(b["ok"] for b in bursts),
            "requests_per_s": round(requests / seconds) if seconds else None,
            "p50_ms": round(percentile(latencies, 0.5) or 0, 1),
            "p99_ms": round(percentile(latencies, 0.99) or 0, 1),
            "max_ms": round(latencies[-1], 1) if latencies else None,
            "origin_fetches": origin_fetches}


#: The response headers the results keep (what a browser gets, whoever sent the bytes).
SHOWN_HEADERS = ("Content-Type", "Content-Length", "Cache-Control", "ETag", "Last-Modified",
                 "Content-Security-Policy", "X-Accel-Redirect")


def check(url: str, body: bytes) -> dict[str, str]:
    """One more phone: the bytes must be the photo's; the headers it got."""
    with urllib.request.urlopen(url, timeout=30) as reply:
        if reply.read() != body:
            raise RuntimeError(f"{url} did not answer the photo's bytes")
        return {name: reply.headers[name] for name in SHOWN_HEADERS if name in reply.headers}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="new photo posts, one burst each")
    parser.add_argument("--kib", type=int, default=100, help="the photo's size")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn workers and nginx worker processes (deployed: cores)")
    args = parser.parse_args(argv)
    raise_fd_limit()
    if shutil.which("hey") is None:
        say("hey is not installed: the media benchmark is skipped (apt-get install hey; "
            "`make bench` installs it when run as root)")
        return {}
    have_nginx = shutil.which("nginx") is not None
    if not have_nginx:
        say("nginx is not installed: the nginx rows are skipped (apt-get install nginx; "
            "`make bench` installs it when run as root)")
    body = os.urandom(args.kib * 1024)
    results: dict[str, Any] = {"phones": args.phones, "rounds": args.rounds,
                               "photo_kib": args.kib, "workers": args.workers,
                               "worker": f"gunicorn gevent, {args.workers} workers",
                               "nginx": have_nginx, "servers": {}}
    with tempfile.TemporaryDirectory(prefix="twitsocket-media-") as tmp:
        results["servers"] = run(Path(tmp), args, body, have_nginx)
    results["ratios"] = ratios(results["servers"])
    say(f"  ratios to nginx static: {results['ratios']}")
    write_result("media", results)
    return results


def run(work: Path, args: argparse.Namespace, body: bytes, have_nginx: bool
        ) -> dict[str, Any]:
    """Every kind of server up at once; each round a new photo per kind, the kinds one
    after the other (a burst of other work on the machine then lands on every kind)."""
    work.chmod(0o755)  # nginx's workers (another user) read the cache and static files
    cache, static = work / "cache", work / "static"
    static.mkdir()
    (static / "ready").write_bytes(b"")
    database_url = f"sqlite:///{work / 'media.db'}"
    app = make_app(database_url)
    store = app.extensions["twitsocket"].store
    origin = Origin(body)
    ports = {name: free_port() for name in ("ours", "accel_upstream", *NGINX_KINDS)}
    kinds = ["ours", *(NGINX_KINDS if have_nginx else ())]
    processes = []
    bursts: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    fetches = dict.fromkeys(kinds, 0)
    headers: dict[str, dict[str, str]] = {}
    try:
        processes.append(start_gunicorn(ports["ours"], args.workers, database_url, cache,
                                        origin.origin, accel=False))
        if have_nginx:
            processes.append(start_gunicorn(ports["accel_upstream"], args.workers,
                                            database_url, cache, origin.origin, accel=True))
            processes.append(start_nginx(work / "nginx", ports, args.workers, static, cache))
        for number in range(args.rounds):
            for kind in kinds:
                if kind == "nginx":  # a new file, as the proxy's cache gets one
                    (static / f"{number}.jpg").write_bytes(body)
                    path = f"/static/{number}.jpg"
                else:
                    seq = photo_post(store, f"{origin.origin}/photo/{kind}-{number}.jpg")
                    path = f"/twitsocket/media/{seq}/m0"
                url = f"http://127.0.0.1:{ports[kind]}{path}"
                before = origin.requests
                bursts[kind].append(burst(url, args.phones))
                fetches[kind] += origin.requests - before
                headers[kind] = check(url, body)
                time.sleep(0.5)
    finally:
        for process in reversed(processes):
            stop(process)
        origin.close()
        app.extensions["twitsocket"].engine.dispose()
    servers = {}
    for kind in kinds:
        servers[kind] = {**summarise(bursts[kind], None if kind == "nginx" else fetches[kind]),
                         "headers": headers[kind]}
        say(f"  {kind:22s} " + ", ".join(f"{key} {value}" for key, value in
                                         servers[kind].items() if key != "headers"))
    return servers


#: The rows of the performance page, in order.
LABELS = {"ours": "ours: gunicorn gevent, the worker sends the file",
          "ours_nginx": "ours behind nginx (proxied)",
          "ours_nginx_accel": "ours behind nginx, `X-Accel-Redirect`",
          "ours_nginx_microcache": "ours behind nginx's 10 s micro-cache (shipped config)",
          "nginx": "baseline: nginx, the same bytes as a static file"}


def section(data: dict[str, Any]) -> list[str]:
    """This benchmark's part of docs/performance.md (:mod:`benchmarks.report`)."""
    lines = [
        "## 5. Media from cache", "",
        f"{data['phones']:,} phones load the same new photo post at once "
        f"({data['photo_kib']} KiB photo, one connection and one request each, `hey`), "
        f"{data['rounds']} rounds, each on a new post: the first request of each worker "
        "fetches the photo from a local CDN into the proxy's disk cache, the others wait "
        f"for it or read the cache. {data['worker']}; nginx with as many worker processes. "
        "All servers run at once and each round visits them in turn "
        "(`benchmarks.bench_media`; machine load average at the start: "
        f"{data['machine']['loadavg_at_start'][0]}).", "",
        "| server | requests/s | p50 ms | p99 ms | max ms | answered 200 | CDN fetches "
        "| requests/s / nginx | p99 / nginx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, label in LABELS.items():
        entry = data["servers"].get(kind)
        if entry is None:
            continue
        ratio = data["ratios"].get(kind, {})
        fetches = entry["origin_fetches"]
        lines.append(
            f"| {label} | {entry['requests_per_s']:,} | {entry['p50_ms']} | {entry['p99_ms']} "
            f"| {entry['max_ms']} | {entry['ok']:,} / {entry['requests']:,} "
            f"| {'–' if fetches is None else fetches} "
            f"| {ratio.get('requests_per_s', '–')} | {ratio.get('p99', '–')} |")
    if not data["nginx"]:
        lines += ["", "nginx was not installed for this run: its rows are missing."]
    return lines + [""]


def ratios(servers: dict[str, Any]) -> dict[str, Any]:
    """Each of ours against nginx serving the same bytes: requests/s and p99."""
    baseline = servers.get("nginx")
    if not baseline:
        return {}
    out = {}
    for kind in ("ours", *NGINX_KINDS[1:]):
        entry = servers.get(kind)
        if entry and entry["requests_per_s"] and baseline["requests_per_s"]:
            out[kind] = {
                "requests_per_s": round(entry["requests_per_s"] / baseline["requests_per_s"], 2),
                "p99": round(entry["p99_ms"] / baseline["p99_ms"], 2) if baseline["p99_ms"]
                else None}
    return out


if __name__ == "__main__":
    main()
