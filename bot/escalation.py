"""Escalation: a demand whose support changed merges with its equal and rises to the councils it reached."""

from __future__ import annotations

import aiosqlite

from bot.config import Config
from storage import Store


async def support_changed(tx: aiosqlite.Connection, store: Store, config: Config, demand_id: int, *, now: int) -> None:
    """Called inside the transaction that changed a demand's support (an endorsement, a merge)."""
