"""First contact and help: `/start` and `/help`, and answers for commands in the wrong place."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.context import AsambleaContext
from bot.i18n import Gettext
from handlers.common import reply, translator

# Commands that only make sense in a committee or council chat, answered in a private chat.
GROUP_COMMANDS = (
    "register",
    "committee",
    "council",
    "approve",
    "strike",
    "rally",
    "call",
    "calls",
    "demand",
    "demands",
    "propose",
    "elect",
    "alternate",
    "recall",
    "delegates",
    "status",
    "digest",
    "spread",
    "programme",
)


def private_help(_: Gettext) -> str:
    return "\n".join(
        [
            _("Asamblea connects the committees of a movement: strike and rally calls, demands, councils."),
            "",
            _("In a private chat with me:"),
            _("/help — this text"),
            _("/settings — choose the language I use with you"),
            _("/verify CODE — check that a call is genuine and who issued it"),
            "",
            _("In a committee's group:"),
            _("/register — register the group as a committee (admins)"),
            _("/committee — what this committee is and its status"),
            _("/strike, /rally — issue a call to this committee, its region or its neighbours (admins)"),
            _("/calls — calls issued here and received here"),
            _("/status — the committee's strike status; its delegates report changes"),
            _("/demand TEXT — put a demand forward; /demands lists them"),
            _("/propose TEXT — put a proposal to the committee's assembly"),
            _("/delegates — the committee's delegates and their mandates"),
            _("/elect, /alternate, /recall — as a reply to a member's message: put an election to the assembly"),
            _("/settings — the group's language (admins)"),
            "",
            _("In a council's chat:"),
            _("/council CODE — link the chat as a council (admins, with the operator's code)"),
            _("/approve — committees waiting for the council's decision"),
            _("/call — issue a call to the council's area (admins)"),
            _("/digest — what changed since the last digest; /spread — the chart of the spread"),
        ]
    )


def protection_advice(_: Gettext) -> str:
    return _(
        "Protect yourself: turn on two-step verification (Settings → Privacy and Security), hide your "
        "phone number (Phone Number → Nobody), and remember that the members of a group can see who "
        "writes in it. I never store your name, username or phone number."
    )


async def start_command(update: Update, context: AsambleaContext) -> None:
    """/start in a private chat: who I am, how to stay safe, what I can do."""
    _ = await translator(update, context)
    await reply(update, _("Hello! I am Asamblea.") + "\n\n" + protection_advice(_) + "\n\n" + private_help(_))


async def help_command(update: Update, context: AsambleaContext) -> None:
    """/help anywhere."""
    _ = await translator(update, context)
    await reply(update, private_help(_))


async def group_command_in_private(update: Update, context: AsambleaContext) -> None:
    """/register and friends sent to me privately: say where they belong."""
    _ = await translator(update, context)
    await reply(
        update,
        _("This command works in a committee's or council's group. Add me to the group and send it there."),
    )


async def unknown_private_command(update: Update, context: AsambleaContext) -> None:
    """Any other command in a private chat."""
    _ = await translator(update, context)
    await reply(update, _("I do not know this command. /help lists what I can do."))


async def private_text(update: Update, context: AsambleaContext) -> None:
    """Plain text in a private chat."""
    if update.effective_chat.type != ChatType.PRIVATE:
        return
    _ = await translator(update, context)
    await reply(update, _("I answer commands; /help lists them."))


def register(application: Application) -> None:
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", start_command, private))
    application.add_handler(CommandHandler("help", help_command, filters.UpdateType.MESSAGE))
    application.add_handler(CommandHandler(GROUP_COMMANDS, group_command_in_private, private))


def register_fallbacks(application: Application) -> None:
    """Answers for what no capability took; registered after every capability."""
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_private_command))
    application.add_handler(MessageHandler(private & ~filters.COMMAND, private_text))
