"""Revisions of the extension's schema, oldest first (``000N_<what changed>.py``)."""
