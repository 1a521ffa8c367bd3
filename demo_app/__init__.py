"""A tiny conference site that uses flask-twitsocket the way a real site would.

``flask --app demo_app run`` serves it; ``python -m demo_app`` (``make demo``) also starts
the replay stream so the wall fills up live, with no credentials and no services.
Any ``TWITSOCKET_*`` environment variable overrides the demo's settings, and
``DATABASE_URL`` its database.
"""

from __future__ import annotations

import os

from flask import Flask, Response, render_template

from flask_twitsocket import TwitSocket

#: Images from this host only: the extension's media proxy serves every photo and avatar
#: (with TWITSOCKET_MEDIA_PROXY=False browsers fetch them from the networks: https: then).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
       "connect-src 'self' ws: wss:")

#: Environment variables of the test suite and benchmarks, not settings: not copied (an
#: unknown TWITSOCKET_ setting stops start-up, see TWITSOCKET_STRICT_CONFIG).
TOOL_VARIABLES = ("TWITSOCKET_TEST_", "TWITSOCKET_BENCH_", "TWITSOCKET_ARTEFACTS",
                  "TWITSOCKET_SCREENSHOTS_DIR")

twitsocket = TwitSocket()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", "demo-only-not-secret"),
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL", "sqlite:///demo.sqlite3"),
        TWITSOCKET_TRACK_KEYWORDS=["#devconf26", "devconf"],
        TWITSOCKET_REPLAY_LOOP=True,
        TWITSOCKET_REPLAY_RATE=1.5,
        # Every start replays the recording with ids of its own: started again on the same
        # database the wall is live (rather than "0 stored, 17 duplicates"). Chosen over a
        # fresh database because DATABASE_URL may be a shared PostgreSQL that holds the
        # console's bans and the previous run's posts, which a demo must not wipe.
        TWITSOCKET_REPLAY_FRESH_IDS=True,
        # The stream refreshes "most active" / "most shared" this often (seconds).
        TWITSOCKET_TOP_INTERVAL=15,
        TWITSOCKET_BANNED_USERS=["script_kid"],
        # The automatic rules, without the copy-paste raid rule: the recording is made of
        # a few sentence templates ("Notes from the … track are up: <link>") said by many
        # accounts, and loops; the raid rule would rightly hold half of it.
        TWITSOCKET_AUTO_MODERATION=["profanity", "consent"],
        # The moderation console at /twitsocket/moderate. A demo password, on 127.0.0.1:
        # a real site sets its own, or plugs in its login with moderator_required=.
        TWITSOCKET_MODERATOR_PASSWORD=os.environ.get("DEMO_MODERATOR_PASSWORD", "demo"),
    )
    app.config.update(
        {key: value for key, value in os.environ.items()
         if key.startswith("TWITSOCKET_") and not key.startswith(TOOL_VARIABLES)}
    )
    app.config.update(config or {})
    twitsocket.init_app(app)

    @app.after_request
    def strict_csp(response: Response) -> Response:
        proxied = twitsocket.state().settings["MEDIA_PROXY"]
        images = "'self' data:" if proxied else "'self' https: data:"
        response.headers.setdefault("Content-Security-Policy", CSP.format(images=images))
        return response

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    return app
