"""The command menus Telegram shows, registered per chat type and per language."""

from __future__ import annotations

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)

from bot.config import LANGUAGES
from bot.i18n import N_, gettext_for

DESCRIPTIONS = {
    "start": N_("About Asamblea and how to stay safe"),
    "help": N_("What I can do"),
    "settings": N_("Language of this chat"),
    "register": N_("Register this group as a committee"),
    "committee": N_("This committee and its status"),
    "council": N_("Link this chat as a council"),
    "approve": N_("Committees waiting for a decision"),
    "verify": N_("Check that a call is genuine"),
    "strike": N_("Issue a strike call"),
    "rally": N_("Issue a rally or blockade call"),
    "call": N_("Issue a call from this council"),
    "calls": N_("Calls issued and received here"),
    "demand": N_("Put a demand forward"),
    "demands": N_("This committee's demands"),
    "propose": N_("Put a proposal to the assembly"),
    "delegates": N_("Delegates and their mandates"),
    "elect": N_("Put a delegate's election to the assembly"),
    "alternate": N_("Put a delegate's alternate to the assembly"),
    "recall": N_("Put a delegate's recall to the assembly"),
    "status": N_("This committee's strike status"),
    "programme": N_("The common programme"),
    "digest": N_("A digest of the movement now"),
    "spread": N_("The chart of the strike's spread"),
    "audit": N_("Privileged actions in this council's area, as counts"),
    "wipe": N_("Delete this committee's data"),
    "panic": N_("Destroy all data (coordinating council)"),
}

MENUS: dict[str, tuple[BotCommandScope, tuple[str, ...]]] = {
    "private": (BotCommandScopeAllPrivateChats(), ("start", "help", "verify", "settings")),
    "groups": (
        BotCommandScopeAllGroupChats(),
        ("committee", "status", "calls", "demand", "demands", "propose", "delegates", "programme", "help"),
    ),
    "group admins": (
        BotCommandScopeAllChatAdministrators(),
        (
            "register",
            "committee",
            "status",
            "strike",
            "rally",
            "calls",
            "demand",
            "demands",
            "propose",
            "delegates",
            "elect",
            "alternate",
            "recall",
            "settings",
            "council",
            "approve",
            "call",
            "digest",
            "spread",
            "audit",
            "programme",
            "wipe",
            "panic",
            "help",
        ),
    ),
}


def menu(commands: tuple[str, ...], language: str) -> list[BotCommand]:
    _ = gettext_for(language)
    return [BotCommand(name, _(DESCRIPTIONS[name])) for name in commands]


async def publish_commands(bot: Bot, default_language: str) -> None:
    """Register every menu in every language, and the default language for everyone else."""
    for scope, commands in MENUS.values():
        await bot.set_my_commands(menu(commands, default_language), scope=scope)
        for language in LANGUAGES:
            await bot.set_my_commands(menu(commands, language), scope=scope, language_code=language)
