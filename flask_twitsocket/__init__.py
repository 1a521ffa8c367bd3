"""flask-twitsocket: a live social wall for your conference, meetup or newsroom.

Data flows one way: sources → normalise → store (+ journal) → bus → hub → browsers.
"""

from .config import ConfigError
from .extension import TwitSocket, TwitSocketState

__all__ = ["ConfigError", "TwitSocket", "TwitSocketState", "__version__"]
#: The one place the version is written: pyproject.toml reads it at build time (dynamic).
__version__ = "0.1.0"
