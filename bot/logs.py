"""Logging without personal data or secrets.

httpx logs every request URL at INFO, and Bot API URLs carry the bot token, so httpx is kept
at WARNING; a filter on the root handler also replaces any secret that reaches a record.
Our own log calls never format user ids, chat ids, names or texts.
"""

from __future__ import annotations

import logging
import re
from typing import TextIO

_TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")


class RedactSecrets(logging.Filter):
    """Replace bot tokens (and any given secret) in a record's final message."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _TOKEN_PATTERN.sub("<token>", message)
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "<secret>")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Libraries whose records can carry personal data or the token, and the most they may log:
# httpx/httpcore put the token in request URLs; PTB's DEBUG records print whole updates
# (names, ids, texts); aiosqlite's DEBUG records print SQL parameters.
CAPPED_LOGGERS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "aiosqlite": logging.INFO,
    "apscheduler": logging.WARNING,
    "tornado.access": logging.WARNING,
}


def apply_levels(level: str | int = "INFO") -> None:
    """Set the root level, but never let the capped libraries below their cap."""
    root = logging.getLogger()
    root.setLevel(level)
    for name, cap in CAPPED_LOGGERS.items():
        logging.getLogger(name).setLevel(max(cap, root.level))


def log_handler(secrets: tuple[str, ...] = (), stream: TextIO | None = None) -> logging.Handler:
    """The bot's handler: its format and the redaction of secrets, to stderr or `stream` (the
    seized-disk test reads what it writes to a file, tests/test_seized_disk.py)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    return handler


def setup_logging(level: str = "INFO", secrets: tuple[str, ...] = ()) -> None:
    logging.getLogger().handlers[:] = [log_handler(secrets)]
    apply_levels(level)
