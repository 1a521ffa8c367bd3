"""The benchmarks at toy size, so their code cannot rot between `make bench` runs.

Each benchmark runs for real (the same code paths, servers and clients) but tiny, and
writes its JSON into a temporary directory instead of ``benchmarks/results``. Nothing here
asserts a time: only that every post arrived and every figure was produced.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import (
    bench_auto_moderation,
    bench_e2e,
    bench_fanout,
    bench_ingest,
    bench_media,
    bench_page,
    common,
    report,
)


@pytest.fixture(autouse=True)
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    monkeypatch.setattr(report, "DOC", tmp_path / "performance.md")
    return tmp_path


def test_ingest_stores_every_post_and_measures_both_sides(results_dir: Path) -> None:
    result = bench_ingest.main(["--posts", "200", "--no-postgres"])
    assert result["sqlite"]["ours"]["stored"] == 200
    assert result["sqlite"]["baseline"]["rows"] == 200
    assert result["sqlite"]["ratio"] > 0
    assert json.loads((results_dir / "ingest.json").read_text())["posts"] == 200


def test_auto_moderation_measures_rules_on_and_off(results_dir: Path) -> None:
    result = bench_auto_moderation.main(["--posts", "300", "--no-postgres", "--rounds", "1"])
    distinct, raid = result["sqlite"]["distinct"], result["sqlite"]["raid"]
    assert distinct["off"]["stored"] == raid["off"]["stored"] == 300
    assert raid["on"]["stored"] < raid["off"]["stored"]  # the raid rule held the copies
    assert distinct["ratio"] > 0 and raid["ratio"] > 0
    assert distinct["cpu_ratio"] > 0 and raid["cpu_ratio"] > 0


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                    reason="the fan-out load generator needs Node.js and npm")
def test_fanout_delivers_every_post_to_every_client_on_both_servers(results_dir: Path) -> None:
    """On the default bus (SQLite, no broker), compared with the baseline in the same run,
    and summarised on the performance page."""
    result = bench_fanout.main(["--clients", "5", "--rates", "10", "--seconds", "0.5",
                                "--bus", "database", "--settle", "0.2"])["database"]
    size = result["sizes"][0]
    for kind in ("ours", "baseline"):
        assert size[kind]["connected"] == 5
        run = size[kind]["runs"][0]
        assert run["all_delivered"], run
        assert run["p99_ms"] is not None
    assert size["ratios"]["delivered_per_s_by_rate"]["10"] > 0
    assert size["ratios"]["p99_by_rate"]["10"] > 0
    assert size["ratios"]["connect_seconds"] is None or size["ratios"]["connect_seconds"] > 0
    summary = report.main().read_text(encoding="utf-8")
    assert "### 2b. Fan-out on the default bus, SQLite (no broker)" in summary


@pytest.mark.skipif(not Path(bench_e2e.CHROMIUM).exists(), reason="needs /usr/bin/chromium")
def test_e2e_sees_every_post_in_the_browser(results_dir: Path) -> None:
    # Its own process: Playwright's sync API cannot start inside the browser tests' one.
    subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_e2e", "--posts", "3", "--gap", "0.05",
         "--buses", "database"], cwd=common.ROOT, check=True, timeout=120,
        env={**os.environ, "TWITSOCKET_BENCH_RESULTS": str(results_dir)})
    result = json.loads((results_dir / "e2e.json").read_text())
    backend = result["backends"][0]
    assert backend["missing"] == 0
    assert backend["median_ms"] > 0


def test_page_cost_and_summary(results_dir: Path) -> None:
    result = bench_page.main(["--posts", "300", "--repeat", "2"])
    assert result["sqlite"]["posts"] == 300
    assert result["sqlite"]["render_tweets_30"]["median_ms"] > 0
    summary = report.main().read_text(encoding="utf-8")
    assert "## 4. Page cost" in summary and "render_tweets(30)" in summary


@pytest.mark.skipif(shutil.which("hey") is None, reason="the media benchmark needs hey")
@pytest.mark.parametrize("with_nginx", [True, False])
def test_media_serves_every_phone_the_photos_bytes_on_every_server(
        results_dir: Path, monkeypatch: pytest.MonkeyPatch, with_nginx: bool) -> None:
    """Every request answered 200 (and one per round checked byte for byte); behind nginx
    with X-Accel-Redirect the phone gets the image, never the header. Without nginx the
    benchmark says so and measures ours alone."""
    which = shutil.which
    if with_nginx and which("nginx") is None:
        pytest.skip("nginx is not installed")
    if not with_nginx:
        monkeypatch.setattr(bench_media.shutil, "which",
                            lambda name: None if name == "nginx" else which(name))
    result = bench_media.main(["--phones", "20", "--rounds", "1", "--kib", "4",
                               "--workers", "1"])
    servers = result["servers"]
    nginx_kinds = {"ours_nginx", "ours_nginx_accel", "ours_nginx_microcache", "nginx"}
    assert set(servers) == {"ours"} | (nginx_kinds if with_nginx else set())
    for kind, entry in servers.items():
        assert entry["ok"] == entry["requests"] == 20, kind
        assert entry["headers"]["Content-Type"] == "image/jpeg", kind
    assert servers["ours"]["origin_fetches"] == 1  # one worker: one fetch per photo
    summary = report.main().read_text(encoding="utf-8")
    assert "## 5. Media from cache" in summary
    if with_nginx:
        accel = servers["ours_nginx_accel"]["headers"]
        assert "X-Accel-Redirect" not in accel and "sandbox" in accel["Content-Security-Policy"]
        assert set(result["ratios"]) == {"ours"} | nginx_kinds - {"nginx"}
    else:
        assert result["ratios"] == {} and "nginx was not installed" in summary
