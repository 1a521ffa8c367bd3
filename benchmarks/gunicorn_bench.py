"""gunicorn settings for the benchmarks' web worker (``-c benchmarks/gunicorn_bench.py``).

Raises the descriptor limit in the master, which the worker inherits: each websocket is a
socket, and 5,000 walls need more than a default soft limit of 1,024.
"""

from benchmarks.common import raise_fd_limit

raise_fd_limit()
