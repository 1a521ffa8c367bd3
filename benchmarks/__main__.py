"""``python -m benchmarks`` (``make bench``): run all seven benchmarks, then write the summary.

Each benchmark writes ``benchmarks/results/<name>.json``; :mod:`benchmarks.report` turns
those files into ``docs/performance.md``. ``--quick`` runs everything at a small size (a
minute or two) to check the machinery, not to quote.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks import (
    bench_e2e,
    bench_fanout,
    bench_ingest,
    bench_media,
    bench_page,
    bench_projector,
    bench_walls,
    bench_walls_e2e,
    report,
)
from benchmarks.common import raise_fd_limit, say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check it runs")
    parser.add_argument("--only", default="ingest,fanout,e2e,page,projector,media,walls",
                        help="comma list of benchmarks to run (the summary uses every "
                             "result file present)")
    args = parser.parse_args(argv)
    raise_fd_limit()
    wanted = set(args.only.split(","))
    if "ingest" in wanted:
        say("== 1. ingest ==")
        bench_ingest.main(["--posts", "5000" if args.quick else "100000"])
    if "fanout" in wanted:
        say("== 2. fan-out ==")
        bench_fanout.main(["--clients", "50,200", "--rates", "10,50", "--seconds", "2"]
                          if args.quick else [])
    if "e2e" in wanted:
        say("== 3. end to end ==")
        bench_e2e.main(["--posts", "5"] if args.quick else [])
    if "page" in wanted:
        say("== 4. page cost ==")
        bench_page.main(["--posts", "20000", "--repeat", "5"] if args.quick
                        else ["--postgres"])
    if "projector" in wanted:
        say("== 5. projector for days ==")
        bench_projector.main(["--quick"] if args.quick else [])
    if "media" in wanted:
        say("== 6. media from cache ==")
        bench_media.main(["--phones", "200", "--rounds", "1"] if args.quick else [])
    if "walls" in wanted:
        say("== 7. one wall against several ==")
        bench_walls.main(["--clients", "100", "--seconds", "4", "--rounds", "2"]
                         if args.quick else [])
        bench_walls_e2e.main(["--clients", "100", "--seconds", "4"] if args.quick else [])
    path = report.main()
    say(f"Summary written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
