"""The ``twitsocket`` command group and what its commands share."""

from __future__ import annotations

import logging
import sys

from flask.cli import AppGroup

twitsocket_cli = AppGroup("twitsocket", help="Run and maintain the live social wall.")


def show_logs() -> None:
    """Log lines go to stderr too, so `stream` under systemd/journald says what it does."""
    logger = logging.getLogger("flask_twitsocket")
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
               for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
