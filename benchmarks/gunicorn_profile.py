"""gunicorn settings for :mod:`benchmarks.profile_walls`: the benchmark settings, plus a
tracemalloc probe in the worker (``-c benchmarks/gunicorn_profile.py``).

The probe is a real OS thread started before gevent patches the worker, so it runs beside
the event loop without being one of its greenlets: it waits for ``<PROFILE_DIR>/take-<n>``
files and answers each with ``snap-<n>.json`` (the Python heap's growth since snapshot 0,
by line, and the greenlet count).
"""

import gc
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path

from benchmarks.common import raise_fd_limit

raise_fd_limit()
_sleep = time.sleep  # the real one, bound before gevent patches the worker


def _probe(directory: Path) -> None:
    import greenlet

    tracemalloc.start(12)
    first = None
    for n in range(100):
        while not (directory / f"take-{n}").exists():
            _sleep(0.1)
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
        first = first or snapshot
        stats = snapshot.compare_to(first, "lineno")
        (directory / f"snap-{n}.json").write_text(json.dumps({
            "heap_growth": sum(s.size_diff for s in stats),
            "greenlets": sum(isinstance(o, greenlet.greenlet) for o in gc.get_objects()),
            "top": [(f"{s.traceback[0].filename.split('site-packages/')[-1]}:"
                     f"{s.traceback[0].lineno}", s.size_diff) for s in stats[:30]]}))


def post_fork(server, worker) -> None:
    if os.environ.get("PROFILE_DIR"):
        threading.Thread(target=_probe, args=(Path(os.environ["PROFILE_DIR"]),),
                         daemon=True).start()
