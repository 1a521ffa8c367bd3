"""The tutorials (docs/tutorials/) and how-to guides (docs/howto/) do what they say.

Each page is followed as a reader would: its captioned code blocks are written to those
file names in an empty folder, and the ``$ …`` lines of its console blocks are run there
(``export`` sets a variable for the commands after it; ``stream``, ``run`` and gunicorn
run in the background). The networks are the fake servers of ``tests/fake_*.py``, which
speak the real wire formats; the page's own settings are kept, except the networks' base
URLs, which the environment overrides (the pages' apps let the environment have the last
word, as the deploy kit's env file needs). Then the page's claims are checked through the
public interfaces: the JSON API, the pages, the console, the CLI. The machinery (a
:class:`~guides.Guide`, the fakes as fixtures, the built site) is in ``tests/guides.py``.
Also here: the landing page's demo replays with usable dates.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, make_app, wait_until, write_jsonl, x_post
from fake_x_server import FakeX
from guides import (
    DEPLOY,
    DOCS,
    LONG,
    ConsoleSession,
    bluesky_uri,
    deploy_env,
    exported,
    html_classes,
    network_env,
    page_app,
    page_commands,
    replay_into,
    served,
    shared_database,
    unit,
)
from moderation_helpers import Listener, csrf_of, ingest
from test_bluesky_source import ALICE, KEYNOTE
from test_docs_examples import quickstart_files
from websockets.exceptions import InvalidStatus

from demo_app.recording import FIXTURE, generate
from flask_twitsocket import config
from flask_twitsocket.config_table import MODERATION_MODES

ROOT = Path(__file__).resolve().parent.parent

#: chromium; guides, networks, broker, sqlite_wall, built_site (tests/guides.py)
pytest_plugins = ["browser", "guides"]














# --- tutorials/event.md -------------------------------------------------------------------

def test_the_event_tutorial_shows_mastodon_and_bluesky_on_one_wall(guides, networks, tmp_path):
    mastodon, jetstream, _appview = networks
    text = (DOCS / "tutorials" / "event.md").read_text(encoding="utf-8")
    assert set(quickstart_files(text)) == {"myapp.py"}
    assert [args[-1] for args in page_commands(text)] == [
        "TWITSOCKET_MASTODON_TOKEN=your-access-token", "init-db", "stream", "run"]
    guide = guides(**network_env(networks, tmp_path)).follow("tutorials/event.md")
    wait_until(lambda: mastodon.connected() and jetstream.connections(), timeout=LONG,
               message=f"both networks connected; logs: {guide.logs()}")
    assert "Streaming from mastodon, bluesky" in guide.logs()
    toot = mastodon.post(mastodon.status("<p>Doors open at #devconf26</p>"))
    skeet = jetstream.post(ALICE["did"], "On my way to devconf!")
    off_topic = jetstream.post(ALICE["did"], "Nothing to do with the event")
    posts = guide.wait_for_posts(("mastodon", toot["id"]),
                                 ("bluesky", bluesky_uri(ALICE["did"], skeet)))
    assert ("bluesky", bluesky_uri(ALICE["did"], off_topic)) not in posts
    wall = guide.get("/twitsocket/wall")
    assert wall is not None and wall.status_code == 200 and "DevConf 2026" in wall.text
    wait_until(lambda: {name: source["state"] for name, source in guide.sources().items()}
               == {"mastodon": "streaming", "bluesky": "streaming"}, timeout=LONG,
               message="both sources streaming in /health")


def test_the_event_tutorials_bluesky_accounts_show_everything_they_post(guides, networks,
                                                                        tmp_path):
    """The page's ``TWITSOCKET_BLUESKY_ACCOUNTS`` snippet: an account's posts without any
    keyword are on the wall."""
    _mastodon, jetstream, _appview = networks
    text = (DOCS / "tutorials" / "event.md").read_text(encoding="utf-8")
    assert 'TWITSOCKET_BLUESKY_ACCOUNTS=["devconf.bsky.social", "keynote.example.org"]' in text
    guide = guides(**network_env(networks, tmp_path),
                   TWITSOCKET_BLUESKY_ACCOUNTS=KEYNOTE["handle"])
    guide.follow("tutorials/event.md")
    wait_until(jetstream.connections, timeout=LONG, message="Jetstream connected")
    rkey = jetstream.post(KEYNOTE["did"], "Slides are up, thanks everyone")
    guide.wait_for_posts(("bluesky", bluesky_uri(KEYNOTE["did"], rkey)))



# --- tutorials/add-x.md -------------------------------------------------------------------

def x_fake(token: str, *events: dict[str, Any]) -> FakeX:
    """A fake X whose first stream connection delivers ``events``."""
    return FakeX(token=token, script=[[("post", event) for event in events]])


def test_adding_x_streams_it_beside_the_others_with_the_keywords_as_one_rule(
        guides, networks, tmp_path):
    mastodon, _jetstream, _appview = networks
    text = (DOCS / "tutorials" / "add-x.md").read_text(encoding="utf-8")
    token = next(args[1].partition("=")[2] for args in page_commands(text)
                 if args[0] == "export")
    fake = x_fake(token, x_post("1900000000000000001", "Great keynote at #devconf26"))
    try:
        guide = guides(**network_env(networks, tmp_path), TWITSOCKET_X_API_URL=fake.url)
        guide.follow("tutorials/event.md")
        wait_until(mastodon.connected, timeout=LONG, message="Mastodon connected")
        guide.follow("tutorials/add-x.md")  # the same folder: its myapp.py, its database
        guide.wait_for_posts(("x", "1900000000000000001"))
        assert "Streaming from x, mastodon, bluesky" in guide.logs("stream")
        assert [(rule["value"], rule["tag"]) for rule in fake.rules.values()] == [
            ("#devconf26 OR devconf", "twitsocket")]
        toot = mastodon.post(mastodon.status("<p>Still here #devconf26</p>"))
        guide.wait_for_posts(("mastodon", toot["id"]))
    finally:
        fake.close()


def test_a_refused_x_token_stops_x_alone_with_the_pages_log_line(guides, networks, tmp_path):
    mastodon, _jetstream, _appview = networks
    text = (DOCS / "tutorials" / "add-x.md").read_text(encoding="utf-8")
    documented = re.search(r"^(Source x stopped: .*?) …$", text, re.M)
    assert documented, "add-x.md shows the log line of a refused token"
    fake = x_fake("the-real-token")  # the page's token is not this one: 401
    try:
        guide = guides(**network_env(networks, tmp_path), TWITSOCKET_X_API_URL=fake.url)
        guide.follow("tutorials/event.md").follow("tutorials/add-x.md")
        wait_until(lambda: documented[1] in guide.logs("stream"), timeout=LONG,
                   message=f"the refusal logged; logs: {guide.logs()}")
        toot = mastodon.post(mastodon.status("<p>Mastodon goes on #devconf26</p>"))
        guide.wait_for_posts(("mastodon", toot["id"]))
        states = wait_until(lambda: (lambda states: states if states["mastodon"]["state"]
                                     == "streaming" else None)(guide.sources()),
                            timeout=LONG, message="Mastodon streaming in /health")
        assert states["x"]["state"] == "stopped"
        assert "refused the bearer token" in states["x"]["last_error"]
    finally:
        fake.close()


# --- tutorials/moderate.md ----------------------------------------------------------------





def test_the_moderation_tutorial_holds_posts_for_approval_and_its_actions_work(
        guides, networks, tmp_path):
    mastodon, _jetstream, _appview = networks
    password = exported("tutorials/moderate.md")["TWITSOCKET_MODERATOR_PASSWORD"]
    guide = guides(**network_env(networks, tmp_path))
    guide.follow("tutorials/event.md").follow("tutorials/moderate.md")
    wait_until(mastodon.connected, timeout=LONG, message=f"Mastodon; {guide.logs()}")
    wait_until(lambda: guide.get("/twitsocket/health/live"), timeout=LONG, message="web")
    console = ConsoleSession(guide.url)
    assert console.state().status_code == 401  # closed until logged in
    console.open(password)
    assert console.state().json()["mode"] == "pre"

    # pre: a post waits in the queue, off the walls, until approved
    toot = mastodon.post(mastodon.status("<p>First! #devconf26</p>", acct="eve"))
    wait_until(lambda: any(item["tweet"]["id"] == toot["id"]
                           for item in console.state().json()["queue"]),
               timeout=LONG, message="the post in the console's queue")
    assert ("mastodon", toot["id"]) not in guide.posts()
    console.act("approve", f"mastodon:{toot['id']}")
    guide.wait_for_posts(("mastodon", toot["id"]))

    # hide, then undo: off every wall, then back
    hidden = console.act("hide", f"mastodon:{toot['id']}")
    assert hidden["moderator"] == "moderator"
    assert ("mastodon", toot["id"]) not in guide.posts()
    console.act("undo", hidden["id"])
    guide.wait_for_posts(("mastodon", toot["id"]))

    # block a phrase: case and accents ignored; ban an author; pin
    spoiler = mastodon.post(mastodon.status("<p>The SPOÏLER of the keynote #devconf26</p>"))
    console.act("approve", wait_until(lambda: next(
        (f"mastodon:{item['tweet']['id']}" for item in console.state().json()["queue"]
         if item["tweet"]["id"] == spoiler["id"]), None), timeout=LONG, message="queued"))
    guide.wait_for_posts(("mastodon", spoiler["id"]))
    console.act("block", "spoiler")
    assert ("mastodon", spoiler["id"]) not in guide.posts()
    console.act("ban", "mastodon:@eve@wall.example")  # the page's form for one network
    assert ("mastodon", toot["id"]) not in guide.posts()
    again = mastodon.post(mastodon.status("<p>Me again #devconf26</p>", acct="eve"))
    kept = mastodon.post(mastodon.status("<p>Keynote starts #devconf26</p>", acct="devconf"))
    console.act("approve", wait_until(lambda: next(
        (f"mastodon:{item['tweet']['id']}" for item in console.state().json()["queue"]
         if item["tweet"]["id"] == kept["id"]), None), timeout=LONG, message="queued"))
    queued = {item["tweet"]["id"] for item in console.state().json()["queue"]}
    assert again["id"] not in queued  # the ban: their next posts are not even stored
    console.act("pin", f"mastodon:{kept['id']}")
    assert console.state().json()["pins"]
    assert {entry["action"] for entry in console.state().json()["log"]} >= {
        "approve", "hide", "unhide", "block", "ban", "pin"}

    console.logout()
    assert console.state().status_code == 401
    intruder = ConsoleSession(guide.url)
    assert [intruder.login("guess") for _ in range(6)] == [401] * 5 + [429]


# --- tutorials/deploy.md ------------------------------------------------------------------









def test_the_deploy_kit_is_where_the_tutorial_puts_things():
    env = deploy_env()
    web, stream = unit("twitsocket-web.service"), unit("twitsocket-stream.service")
    for service in (web, stream):
        assert service["WorkingDirectory"] == ["/srv/twitsocket"]
        assert service["EnvironmentFile"] == ["/etc/twitsocket/twitsocket.env"]
        assert service["User"] == ["twitsocket"]
    assert web["ExecStart"] == ["/srv/twitsocket/.venv/bin/gunicorn -c "
                                "/srv/twitsocket/deploy/gunicorn.conf.py \"myapp:create_app()\""]
    assert "FLASK_APP=myapp:create_app" in stream["Environment"][0]
    assert stream["ExecStartPre"] == ["/srv/twitsocket/.venv/bin/flask twitsocket upgrade-db"]
    assert stream["RestartPreventExitStatus"] == ["3"]
    # every file the processes write is writable under ProtectSystem=strict
    for service, settings in ((stream, ("TWITSOCKET_LOGFILE", "TWITSOCKET_BLUESKY_STATE_FILE")),
                              (web, ("TWITSOCKET_LOGFILE", "TWITSOCKET_MEDIA_CACHE_DIR"))):
        assert service["ProtectSystem"] == ["strict"]
        writable = [*service.get("ReadWritePaths", []),
                    *(f"/var/lib/{name}" for name in service.get("StateDirectory", [])),
                    *(f"/var/cache/{name}" for name in service.get("CacheDirectory", []))]
        for setting in settings:
            assert any(env[setting].startswith(folder + "/") for folder in writable), (
                f"{setting}={env[setting]} is read-only for its unit: {writable}")
    nginx = (DEPLOY / "nginx-twitsocket.conf").read_text()
    assert f"server {env['GUNICORN_BIND']} " in nginx
    assert "location ~ ^/twitsocket/(moderate/)?ws$" in nginx
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in nginx
    assert env["TWITSOCKET_TRUSTED_PROXY_HOPS"] == "1"  # believes nginx, the one proxy
    # X-Accel-Redirect: the setting names nginx's internal location, which serves the
    # proxy's cache directory; nginx (another user) may read it
    location, alias = re.search(r"location (\S+) \{\s*internal;\s*alias (\S+);", nginx).groups()
    accel = re.search(r"^#TWITSOCKET_MEDIA_ACCEL_REDIRECT=(\S+)$",
                      (DEPLOY / "twitsocket.env.example").read_text(), re.M).group(1)
    assert accel == location and alias == env["TWITSOCKET_MEDIA_CACHE_DIR"] + "/"
    assert web["CacheDirectoryMode"] == ["0755"]
    assert "location /twitsocket/media/ {" in nginx and "proxy_cache_lock on;" in nginx


def test_the_deploy_tutorial_runs_the_kit_by_hand(guides, networks, redis_url, tmp_path):
    mastodon, jetstream, _appview = networks
    env = {**deploy_env(), **network_env(networks, tmp_path),
           "DATABASE_URL": os.environ.get("TWITSOCKET_TEST_DATABASE_URL")
           or f"sqlite:///{tmp_path / 'wall.sqlite3'}",
           "TWITSOCKET_BROKER_URL": redis_url,
           "TWITSOCKET_BROKER_CHANNEL": f"docs_guides_{tmp_path.name}",
           "TWITSOCKET_LOGFILE": "", "GUNICORN_WORKERS": "1", "GUNICORN_ACCESSLOG": ""}
    env["TWITSOCKET_MASTODON_TOKEN"] = mastodon.token
    guide = guides(**env)
    guide.follow("tutorials/event.md")  # myapp.py, run by hand on the laptop
    guide.stop()
    shutil.copytree(DEPLOY, guide.folder / "deploy")  # "copy the kit's deploy/ folder"
    guide.follow("tutorials/deploy.md")
    wait_until(lambda: mastodon.connected() and jetstream.connections(), timeout=LONG,
               message=f"both networks; logs: {guide.logs()}")
    assert re.search(r"Streaming from mastodon, bluesky into .* \(bus: redis\)",
                     guide.logs("stream")), guide.logs("stream")
    toot = mastodon.post(mastodon.status("<p>Live from the server #devconf26</p>",
                                         id=str(time.time_ns())))  # the database may be shared
    guide.wait_for_posts(("mastodon", toot["id"]))
    # a shared test database may also list other tests' sources: these two are streaming
    wait_until(lambda: {name: source["state"] for name, source in guide.sources().items()
                        if name in ("mastodon", "bluesky")}
               == {"mastodon": "streaming", "bluesky": "streaming"}, timeout=LONG,
               message="both sources in /health")
    assert guide.get("/twitsocket/health").status_code == 200
    assert guide.get("/twitsocket/wall").status_code == 200


# --- tutorials/scale-out.md ---------------------------------------------------------------





def test_scaling_out_every_host_shows_each_new_post(request, guides, networks, broker,
                                                   tmp_path):
    mastodon, _jetstream, _appview = networks
    channel = f"docs_guides_{tmp_path.name}"
    env = {**network_env(networks, tmp_path), "DATABASE_URL": shared_database(request),
           "TWITSOCKET_BROKER_URL": broker, "TWITSOCKET_BROKER_CHANNEL": channel,
           "TWITSOCKET_MASTODON_TOKEN": mastodon.token, "GUNICORN_WORKERS": "1",
           "GUNICORN_ACCESSLOG": ""}
    first = guides(**env)
    first.follow("tutorials/event.md")  # myapp.py
    first.stop()
    shutil.copytree(DEPLOY, first.folder / "deploy")
    first.follow("tutorials/scale-out.md")
    other = guides(**env)  # another host: the same files, only the web server
    shutil.copytree(first.folder, other.folder, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.log"))
    text = (DOCS / "tutorials" / "scale-out.md").read_text(encoding="utf-8")
    other.run(page_commands(text)[-1])
    bus = "redis" if broker.startswith("redis") else "postgres"
    wait_until(lambda: re.search(rf"\(bus: {bus}", first.logs("stream")), timeout=LONG,
               message=f"the stream on the {bus} bus; logs: {first.logs()}")
    for host in (first, other):
        wait_until(lambda host=host: (lambda answer: answer is not None and answer.ok)(
            host.get("/twitsocket/health")), timeout=LONG, message=f"{host.url} healthy")
    walls = [Listener(f"ws://127.0.0.1:{host.port}/twitsocket/ws") for host in (first, other)]
    try:
        wait_until(mastodon.connected, timeout=LONG, message="Mastodon streaming")
        toot = mastodon.post(mastodon.status(  # an id of its own: the database is shared
            "<p>Seen on every host #devconf26</p>", id=str(time.time_ns())))
        for wall in walls:
            wall.wait_for(lambda message: message["type"] == "tweet"
                          and message["tweet"]["id"] == toot["id"], timeout=LONG)
        for host in (first, other):
            health = host.get("/twitsocket/health").json()
            assert health["bus"]["connected"] is True, health
    finally:
        for wall in walls:
            wall.close()


# --- howto/*.md: the pages' apps, imported from the folder they are written to -----------



def test_the_flask_login_howto_lets_staff_moderate_under_their_name(tmp_path):
    app = page_app("howto/flask-login.md", tmp_path)
    ingest(app, x_post("1901", "Doors open #devconf26"))
    client = app.test_client()
    state = "/twitsocket/moderate/api/state"
    assert client.get(state).status_code == 403  # a visitor
    assert client.post("/login", data={"username": "ada", "password": "wrong"}
                       ).status_code == 401
    assert client.post("/login", data={"username": "bob", "password": "bob's password"}
                       ).status_code == 302
    assert client.get(state).status_code == 403  # logged in, not staff
    client.post("/logout")
    answer = client.post("/login", data={"username": "ada", "password": "ada's password"})
    assert answer.status_code == 302 and answer.location.endswith("/twitsocket/moderate")
    console = client.get("/twitsocket/moderate")
    assert console.status_code == 200 and "Ada Lindqvist" in console.text
    hidden = client.post("/twitsocket/moderate/api/hide", json={"target": "x:1901"},
                         headers={"X-CSRF-Token": csrf_of(console.text)})
    assert hidden.status_code == 200
    assert hidden.get_json()["entry"]["moderator"] == "Ada Lindqvist"
    assert client.get("/twitsocket/api/tweets").get_json()["tweets"] == []
    client.post("/logout")
    assert client.get(state).status_code == 403




def test_the_theming_howto_settings_and_address_parameters_style_the_projector(tmp_path):
    app = page_app("howto/theming.md", tmp_path)
    ingest(app, x_post("1902", "Doors open #devconf26"))
    client = app.test_client()
    wall = client.get("/twitsocket/wall").text
    assert {"layout-spotlight", "theme-auto"} <= html_classes(wall)
    assert 'data-accent="#d0006f"' in wall and "<title>DevConf 2026</title>" in wall
    assert 'src="https://devconf.example/logo.svg"' in wall
    assert "<svg" in wall and "wall-qr-code" in wall
    dark = client.get("/twitsocket/wall?theme=dark&layout=grid&title=Room%20B").text
    assert {"theme-dark", "layout-grid"} <= html_classes(dark) and "Room B" in dark
    overlay = client.get("/twitsocket/wall?layout=ticker&background=transparent").text
    assert {"layout-ticker", "wall-transparent"} <= html_classes(overlay)
    assert 'data-accent="#0a0"' in client.get("/twitsocket/wall?accent=%230a0").text
    assert 'data-accent="#d0006f"' in client.get("/twitsocket/wall?accent=red;x").text
    hijack = client.get("/twitsocket/wall?logo_url=https://evil.example/x.png"
                        "&qr_url=https://evil.example").text
    assert "evil.example" not in hijack


def test_the_theming_howto_stylesheet_overrides_the_macros_classes(tmp_path):
    app = page_app("howto/theming.md", tmp_path)
    ingest(app, x_post("1903", "Doors open #devconf26"))
    page = app.test_client().get("/").text
    package_css = app.test_client().get("/twitsocket/static/twitsocket.css").text
    assert page.index("twitsocket.css") < page.index("/static/wall-theme.css")  # after it
    assert app.test_client().get("/static/wall-theme.css").status_code == 200
    script = app.test_client().get("/twitsocket/static/post-view.js").text  # builds posts
    theme = (tmp_path / "static" / "wall-theme.css").read_text()
    for selector in re.findall(r"^([.\w -]+?) \{", theme, re.M):
        assert f"{selector} {{" in package_css or f"{selector}," in package_css, selector
        for name in re.findall(r"\.([\w-]+)", selector):
            assert f'class="{name}' in page or f'"{name}"' in page or f"{name} " in page
            if name != "twitsocket-tweets":  # the list is the page's; posts also the script's
                assert f'"{name}' in script, f"live posts lack .{name}"


def test_the_theming_howto_template_override_replaces_the_projector(tmp_path):
    app = page_app("howto/theming.md", tmp_path)
    package = ROOT / "flask_twitsocket" / "templates" / "twitsocket" / "wall.html"
    mine = tmp_path / "templates" / "twitsocket" / "wall.html"
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text(package.read_text().replace('<h1 class="wall-title">',
                                                '<h1 class="wall-title my-own">'))
    assert "wall-title my-own" in app.test_client().get("/twitsocket/wall").text


def test_the_embedding_howto_lets_the_named_site_frame_the_wall_and_open_its_feed(tmp_path):
    app = page_app("howto/embedding.md", tmp_path)
    client = app.test_client()
    assert "frame-ancestors 'self' https://blog.example.org" in client.get(
        "/twitsocket/wall?layout=ticker&theme=light").headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in client.get(
        "/twitsocket/moderate").headers["Content-Security-Policy"]
    server = LiveServer(app)
    server.thread.start()
    try:
        url = f"{server.ws_url}/twitsocket/ws"
        with pytest.raises(InvalidStatus):
            Listener(url, origin="https://elsewhere.example")
        walls = [Listener(url, origin="https://blog.example.org"), Listener(url)]
        ingest(app, x_post("1904", "<script>alert(1)</script> #devconf26"))
        for wall in walls:
            post = wall.wait_for(lambda message: message["type"] == "tweet")["tweet"]
            assert post["id"] == "1904" and "<script>" not in post["html"]
            wall.close()
    finally:
        server.server.shutdown()


# --- howto/backups.md ---------------------------------------------------------------------







def test_the_backups_howto_sqlite_backup_restores_and_export_replays(sqlite_wall, guides):
    guide = sqlite_wall
    before = served(guide)
    assert [post["id"] for post in before] == ["1", "2", "3"]
    guide.follow("howto/backups.md")  # backup, then export
    database = guide.folder / "instance" / "wall.sqlite3"  # where the page says it is
    assert database.is_file()
    replay_into(guide, write_jsonl(guide.folder / "later.jsonl", [x_post(4, "#devconf26")]))
    assert len(served(guide)) == 4
    shutil.copyfile(guide.folder / "wall-backup.sqlite3", database)  # the restore
    assert served(guide) == before

    fresh = guides()  # another wall, next year: the export replays into it
    shutil.copyfile(guide.folder / "myapp.py", fresh.folder / "myapp.py")
    fresh.call(["flask", "--app", "myapp", "twitsocket", "init-db"])
    fresh.call(["flask", "--app", "myapp", "twitsocket", "stream", "--source", "replay"],
               TWITSOCKET_REPLAY_FILE=str(guide.folder / "devconf26.jsonl"),
               TWITSOCKET_REPLAY_RATE="1000", TWITSOCKET_REPLAY_LOOP="false")
    keep = ("id", "network", "text", "created_at", "author")
    assert [{key: post[key] for key in keep} for post in served(fresh)] == [
        {key: post[key] for key in keep} for post in before]


def test_the_backups_howto_postgresql_dump_restores_with_the_pages_command(
        guides, tmp_path):
    url = os.environ.get("TWITSOCKET_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("restores into the PostgreSQL test database (TWITSOCKET_TEST_DATABASE_URL)")
    guide = guides(DATABASE_URL=url)
    text = (DOCS / "tutorials" / "event.md").read_text(encoding="utf-8")
    (guide.folder / "myapp.py").write_text(quickstart_files(text)["myapp.py"])
    guide.call(["flask", "--app", "myapp", "twitsocket", "init-db"])
    replay_into(guide, write_jsonl(tmp_path / "r.jsonl", [x_post(f"{time.time_ns()}")]))
    before = served(guide)
    subprocess.run(["sh", str(DEPLOY / "backup.sh"), str(tmp_path / "dumps")], check=True,
                   cwd=guide.folder, env={**guide.env, "DATABASE_URL": url,
                                          "FLASK_APP": "myapp"}, capture_output=True)
    dump = next((tmp_path / "dumps").glob("twitsocket-*.dump"))
    replay_into(guide, write_jsonl(tmp_path / "later.jsonl", [x_post(f"{time.time_ns()}")]))
    assert len(served(guide)) == len(before) + 1
    page = (DOCS / "howto" / "backups.md").read_text(encoding="utf-8")
    command = shlex.split(re.search(r"^pg_restore .*$", page, re.M)[0])
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    command[command.index("-d") + 1], command[-1] = libpq, str(dump)
    subprocess.run(command, check=True, capture_output=True)
    assert served(guide) == before


# --- the built site: what a reader sees -------------------------------------------------

SCREENSHOTS = os.environ.get("TWITSOCKET_SCREENSHOTS_DIR")




@pytest.mark.slow  # builds the docs; the same on every database
@pytest.mark.parametrize("page, title, shot", [
    ("index.html", "flask-twitsocket", "docs-landing.png"),
    ("quickstart.html", "Quickstart", "docs-quickstart.png"),
    ("tutorials/index.html", "Tutorials", None),
    ("howto/index.html", "How-to guides", None),
])
def test_the_sites_pages_render_whole_in_a_browser(request, built_site, page, title, shot):
    """Every stylesheet, script and image of the page loads from the site itself (the
    docs work offline), and the guides are in the navigation.
    ``TWITSOCKET_SCREENSHOTS_DIR`` saves the landing page and quickstart (the closing
    note's screenshots, in docs/screenshots/)."""
    chromium = request.getfixturevalue("chromium")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    failed: list[str] = []
    tab.on("requestfailed", lambda req: failed.append(f"{req.url} {req.failure}"))
    tab.on("response", lambda answer: answer.status >= 400 and failed.append(
        f"{answer.url} {answer.status}"))
    outside: list[str] = []
    tab.route(re.compile(r"^(?!http://127\.0\.0\.1).*"),
              lambda route: (outside.append(route.request.url), route.abort()))
    try:
        tab.goto(f"{built_site}/{page}", wait_until="load")
        assert title in tab.locator("h1").first.inner_text()
        # the Pallets theme asks PyPI for the newest release (its "outdated" banner);
        # blocked here, the page loses nothing else
        assert {url for url in outside} <= {"https://pypi.org/simple/flask-twitsocket/"}
        assert [entry for entry in failed if not entry.startswith(tuple(outside))] == []
        broken = tab.evaluate("[...document.images].filter(i => !i.naturalWidth)"
                              ".map(i => i.src)")
        assert broken == []
        navigation = tab.locator(".sphinxsidebar, .toctree-wrapper").all_inner_texts()
        if page == "index.html":
            assert "Tutorials" in " ".join(navigation)
        if SCREENSHOTS and shot:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(Path(SCREENSHOTS) / shot))  # the first screen
    finally:
        context.close()


# --- every guide: the settings they name ----------------------------------------------------

GUIDES = sorted([*DOCS.glob("tutorials/*.md"), *DOCS.glob("howto/*.md")])
#: "`TWITSOCKET_X` seconds (30)", "`TWITSOCKET_X` (0.25 s)": a default, as a page states it.
STATED_DEFAULT = re.compile(r"`TWITSOCKET_(\w+)`(?: seconds)? \((\d+(?:\.\d+)?)(?: s)?\)")


def test_the_guides_name_only_real_settings_with_their_real_defaults():
    stated = 0
    for page in GUIDES:
        text = page.read_text(encoding="utf-8")
        unknown = {name for name in re.findall(r"TWITSOCKET_([A-Z][A-Z0-9_]*[A-Z0-9])", text)
                   if name not in config.KEYS and not name.startswith(("TEST_", "BENCH_"))}
        assert not unknown, f"{page.name} names settings that do not exist: {unknown}"
        for name, value in STATED_DEFAULT.findall(text):
            assert float(config.KEYS[name].default) == float(value), (page.name, name)
            stated += 1
    assert stated >= 5


def test_the_moderation_tutorials_trust_modes_are_the_settings(tmp_path):
    text = (DOCS / "tutorials" / "moderate.md").read_text(encoding="utf-8")
    listed = re.findall(r"^`(\w+)`(?: \(the default\))?$", text, re.M)
    assert tuple(listed) == MODERATION_MODES
    assert re.search(r"^`(\w+)` \(the default\)$", text, re.M)[1] == config.KEYS[
        "MODERATION"].default
    off = make_app(f"sqlite:///{tmp_path / 'off.sqlite3'}", TWITSOCKET_MODERATION="off")
    assert off.test_client().get("/twitsocket/moderate").status_code == 404  # "no console"

# --- the landing page's demo (demo_app) ---------------------------------------------------

def test_the_demo_replay_stores_every_post_with_its_own_date(tmp_path):
    """``make demo``'s stream replays the bundled recording without a single "date
    unusable, replaced by now": neither with today's dates (the default) nor with the
    recording's own (``TWITSOCKET_REPLAY_RETIME=false``), which are in the past."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("TWITSOCKET_")}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
               TWITSOCKET_REPLAY_RATE="1000", TWITSOCKET_REPLAY_LOOP="false")
    flask = [sys.executable, "-m", "flask", "--app", "demo_app", "twitsocket"]
    subprocess.run([*flask, "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
    for retime in ("true", "false"):
        done = subprocess.run([*flask, "stream", "--source", "replay"], cwd=ROOT,
                              env={**env, "TWITSOCKET_REPLAY_RETIME": retime},
                              capture_output=True, text=True, timeout=120, check=True)
        log = done.stdout + done.stderr
        assert re.search(r"Stopped: [1-9]\d* stored", log), log
        assert "unusable" not in log, [line for line in log.splitlines() if "unusable" in line]


def test_generated_recordings_end_in_the_past_however_long(caplog):
    """The benchmarks' recordings (``generate``, up to 100k posts: weeks of posts) end no
    later than now, and their dates pass the pipeline's checks unrepaired."""
    from flask_twitsocket.normalise.storable import post_time

    now = datetime.now(timezone.utc)
    events = list(generate(60_000, seed=7))
    last = max(event.get("data", event).get("created_at", "") for event in events
               if "data" in event)
    assert datetime.fromisoformat(last.replace("Z", "+00:00")) <= now
    with caplog.at_level(logging.INFO):
        for event in events[-200:]:
            if "data" in event:
                post_time(event["data"]["created_at"], "x", event["data"]["id"])
    assert "unusable" not in caplog.text
    fixture_dates = [json.loads(line).get("data", {}).get("created_at")
                     for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    assert max(date for date in fixture_dates if date) < now.isoformat()
