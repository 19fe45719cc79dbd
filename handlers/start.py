"""First contact and help: `/start` and `/help`, and answers for commands in the wrong place."""

from __future__ import annotations

from telegram import LinkPreviewOptions, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.config import Config
from bot.context import AsambleaContext
from bot.i18n import N_, Gettext, gettext_for
from handlers.common import answer_query, chat_language, reply, translator

# The full guide for members, delegates and coordinators, in the repository; an operator can
# point /start at a copy people can reach instead (`[i18n] safety_url`, config.example.toml).
SAFETY_GUIDE = "docs/staying-safe.md"

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
    "audit",
    "programme",
    "wipe",
    "panic",
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
            _("/wipe — delete everything the bot keeps about this committee (delegates, after a confirmation)"),
            "",
            _("In a council's chat:"),
            _("/council CODE — link the chat as a council (admins, with the operator's code)"),
            _("/approve — committees waiting for the council's decision"),
            _("/call — issue a call to the council's area (admins)"),
            _("/digest — what changed since the last digest; /spread — the chart of the spread"),
            _("/audit [DAYS] — privileged actions in the council's area, as counts that name no one (admins)"),
            _("/panic — coordinating council only: destroy all the bot's data, for everyone (admins, confirmed)"),
        ]
    )


# The short version of docs/staying-safe.md that /start gives first, one line each.
SAFETY_ADVICE = (
    N_("🛡 How to stay safe"),
    N_(
        "• Turn on two-step verification: Settings → Privacy and Security → Two-Step Verification. "
        "A code stolen from your SMS is then not enough to take over your account."
    ),
    N_(
        "• Hide your phone number: Settings → Privacy and Security → Phone Number → Nobody, and "
        "“Who can find me by my number” → My Contacts."
    ),
    N_(
        "• Everyone in a group sees who writes there: your name, username and photo. To put a demand "
        "forward without being seen, ask a delegate for your committee's private link."
    ),
    N_("• I keep no name, username or phone number: only a keyed pseudonym, so that each person counts once."),
    N_("• Councils see committees, roles and counts (how many joined, how many voted), never people's names."),
    N_("• Calls can be forged. Before you act on one, send me /verify with the code printed under it."),
)


def safety_advice(_: Gettext, guide: str) -> str:
    """How to stay safe, the short version a person reads first; `guide` is the line naming the full text."""
    return "\n".join([*(_(line) for line in SAFETY_ADVICE), guide])


def safety_guide(_: Gettext, config: Config, language: str) -> str:
    """Where the full guide is: the operator's copy, in the reader's language where the address has
    a {language} slot; without one, the file that comes with Asamblea."""
    if config.safety_url:
        return _("The full guide: {url}").format(url=config.safety_url.replace("{language}", language))
    return _("The full guide is the file {path} that comes with Asamblea; ask your delegates for a copy.").format(
        path=SAFETY_GUIDE
    )


async def start_command(update: Update, context: AsambleaContext) -> None:
    """/start in a private chat: who I am, how to stay safe, what I can do."""
    language = await chat_language(update, context)
    _ = gettext_for(language)
    advice = safety_advice(_, safety_guide(_, context.config, language))
    await reply(
        update,
        "\n\n".join([_("Hello! I am Asamblea."), advice, private_help(_)]),
        # The guide's address is for the reader to open, not for Telegram to fetch and show.
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


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


async def unknown_button(update: Update, context: AsambleaContext) -> None:
    """A press whose data no capability knows (forged, or a button of a version since gone): answered, so
    that the spinner stops and the person learns that the button does nothing."""
    _ = await translator(update, context)
    await answer_query(update, _("This button is no longer valid."), alert=True)


def register_fallbacks(application: Application) -> None:
    """Answers for what no capability took; registered after every capability."""
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_private_command))
    application.add_handler(MessageHandler(private & ~filters.COMMAND, private_text))
    application.add_handler(CallbackQueryHandler(unknown_button))
