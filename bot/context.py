"""The callback context of Asamblea: PTB's context with typed access to the bot's services.

Services are created in `post_init` and kept in `bot_data` (PTB's convention); this class only
gives them names and types, as in PTB's contexttypesbot example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Config
    from bot.outbox import OutboxSender
    from storage import Store


class AsambleaContext(CallbackContext[ExtBot, dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def config(self) -> Config:
        return self.bot_data["config"]

    @property
    def store(self) -> Store:
        return self.bot_data["store"]

    @property
    def clock(self) -> Clock:
        return self.bot_data["clock"]

    @property
    def outbox(self) -> OutboxSender:
        return self.bot_data["outbox"]

    def now(self) -> int:
        return int(self.clock.time())


AsambleaApplication = Application[ExtBot, AsambleaContext, dict, dict, dict, Any]
