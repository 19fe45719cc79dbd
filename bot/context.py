"""The callback context of Asamblea: PTB's context with typed access to the bot's services.

Services are created in `post_init` and kept in `bot_data` (PTB's convention); this class only
gives them names and types, as in PTB's contexttypesbot example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.fast_updates import FastUpdate

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Config
    from bot.outbox import OutboxSender
    from bot.press_answers import PressAnswers
    from storage import Store


class AsambleaContext(CallbackContext[ExtBot, dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @classmethod
    def from_update(cls, update: object, application: Application) -> AsambleaContext:
        """A fast update (bot/fast_updates.py) has its chat's and person's data like an `Update`."""
        if isinstance(update, FastUpdate):
            return cls(application, chat_id=update.chat_id, user_id=update.user_id)
        return super().from_update(update, application)

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

    @property
    def answers(self) -> PressAnswers:
        return self.bot_data["answers"]

    def now(self) -> int:
        return int(self.clock.time())


AsambleaApplication = Application[ExtBot, AsambleaContext, dict, dict, dict, Any]
