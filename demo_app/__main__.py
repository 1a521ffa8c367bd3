"""``python -m demo_app``: the whole demo wall — tables, replay stream and web server.

Starts ``flask twitsocket stream --source replay`` and gunicorn (one gthread worker of 200
threads, at most 150 of them holding walls, as a small production site would run) as two
processes, like production; the stream refreshes the top lists (TWITSOCKET_TOP_INTERVAL).
Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

from demo_app import create_app

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "5000")
#: gthread's pool: each open wall (websocket or event stream) holds a thread for its life,
#: so the walls are capped below it and the page and the API always find a free thread.
THREADS = 200
WALL_SLOTS = 150
#: The demo runs three walls from the one recording: the main one (everything) and two
#: rooms, each with its own projector (<prefix>/w/<slug>/wall; the list: <prefix>/walls).
DEMO_WALLS = {
    "python-room": {"title": "Room A — Python", "track_keywords": ["#python", "python"],
                    "accent": "#3572a5"},
    "security-room": {"title": "Room B — Security & data",
                      "track_keywords": ["security", "database"], "accent": "#b5371d"},
}


def web_server_command(bind: str) -> list[str]:
    """The demo's web server (also what the tests start to check its sizing)."""
    return [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads",
            str(THREADS), "--workers", "1", "--bind", bind, "--log-level", "warning",
            "demo_app:create_app()"]


def main() -> int:
    os.environ.setdefault("TWITSOCKET_MAX_CLIENTS", str(WALL_SLOTS))  # gunicorn inherits it
    os.environ.setdefault("TWITSOCKET_WALLS", json.dumps(DEMO_WALLS))  # so does the stream
    app = create_app()
    state = app.extensions["twitsocket"]
    state.create_tables()
    flask = [sys.executable, "-m", "flask", "--app", "demo_app"]
    processes = [
        subprocess.Popen([*flask, "twitsocket", "stream", "--source", "replay"]),
        subprocess.Popen(web_server_command(f"{HOST}:{PORT}")),
    ]
    print(f"\n  The DevConf 2026 wall is live at http://{HOST}:{PORT}/  (Ctrl-C to stop)"
          f"\n  Its walls: http://{HOST}:{PORT}{state.settings['URL_PREFIX']}/walls\n",
          flush=True)
    stop = threading.Event()
    try:
        while all(process.poll() is None for process in processes):
            stop.wait(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
