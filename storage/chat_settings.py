"""Per-chat settings (for now the language), keyed by the chat's pseudonym."""

from __future__ import annotations

import aiosqlite

from storage.crypto import Crypto


class ChatSettingsRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    async def language(self, conn: aiosqlite.Connection, chat_id: int) -> str | None:
        async with conn.execute(
            "SELECT language FROM chat_settings WHERE chat_ref = ?", (self.crypto.chat(chat_id),)
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def set_language(self, conn: aiosqlite.Connection, chat_id: int, language: str, *, now: int) -> None:
        await conn.execute(
            """INSERT INTO chat_settings (chat_ref, language, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (chat_ref) DO UPDATE SET language = excluded.language, updated_at = excluded.updated_at""",
            (self.crypto.chat(chat_id), language, now),
        )

    async def move_chat(self, conn: aiosqlite.Connection, old_chat_id: int, new_chat_id: int) -> None:
        await conn.execute(
            "UPDATE OR REPLACE chat_settings SET chat_ref = ? WHERE chat_ref = ?",
            (self.crypto.chat(new_chat_id), self.crypto.chat(old_chat_id)),
        )
