"""The demo's bundled recording is the output of ``python -m demo_app.recording``: anyone
can regenerate it, and regenerating keeps the hand-written media posts."""

from __future__ import annotations

from demo_app.recording import FIXTURE, write


def test_regenerating_the_recording_gives_the_bundled_file(tmp_path):
    written = write(tmp_path / "devconf2026.jsonl")
    assert written.read_bytes() == FIXTURE.read_bytes()
    recording = written.read_text(encoding="utf-8")
    assert '"media_keys"' in recording and '"media_attachments"' in recording  # X, Mastodon
