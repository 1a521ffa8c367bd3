"""The walls fan-out benchmark at toy size, so its code cannot rot between runs: every
post reaches exactly its wall's clients, on one wall and on several."""

from __future__ import annotations

import shutil

import pytest

from benchmarks import bench_walls, bench_walls_e2e, common, report


def test_the_walls_benchmark_delivers_each_post_to_its_walls_clients(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    monkeypatch.setattr(report, "DOC", tmp_path / "performance.md")
    result = bench_walls.main(["--clients", "20", "--walls", "4", "--rate", "2",
                               "--seconds", "1", "--rounds", "2"])
    assert len(result["modes"]) == 2  # a bus hint per post, and polling
    for mode in result["modes"].values():
        one, many = mode["one_wall"], mode["many_walls"]
        # a tweet and a count per post, to each of its wall's clients
        assert one["deliveries"] == one["posts"] * 20 * 2
        assert many["deliveries"] == many["posts"] * (20 // 4) * 2
        assert many["posts"] == 4 * one["posts"]
        assert mode["ratio_per_delivery"] > 0 and mode["cpu_ratio_per_delivery"] > 0
        assert many["rounds"] == one["rounds"] == 2
    assert (tmp_path / "walls.json").exists()
    summary = report.main().read_text(encoding="utf-8")
    assert "## 6. Walls: one wall against several" in summary
    assert "µs fixed +" in summary  # the bus mode's split of a pass's cost


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                    reason="the load generator needs Node.js and npm")
def test_the_end_to_end_walls_benchmark_gives_each_client_exactly_its_walls_posts(
        tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    result = bench_walls_e2e.main(["--clients", "20", "--walls", "4", "--rate", "2",
                                   "--seconds", "1"])
    for key, posts in (("one_wall", 2), ("many_walls", 8)):
        row = result[key]
        assert row["connected"] == 20 and row["posts"] == posts
        assert row["all_delivered"] and row["only_its_walls_posts"]
        assert row["worker_cpu_seconds"] >= 0  # clock ticks: 0 at this size, now and then
        assert row["p99_ms"] is not None
    assert "cpu_ratio_per_delivery" in result
    assert (tmp_path / "walls_e2e.json").exists()
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    monkeypatch.setattr(report, "DOC", tmp_path / "performance.md")
    assert "### 6b. The same, end to end" in report.main().read_text(encoding="utf-8")
