"""Councils read the spread: `/spread` answers with the chart, `/digest` asks for a digest now.

Both work only in a council's chat (group or channel): the spread across the federation is for
the councils that coordinate, not for any group the bot is in. A digest asked for goes through the
outbox like a scheduled one and counts as the council's latest ("since the last digest").
"""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, filters

from bot import digest
from bot.context import AsambleaContext
from bot.i18n import N_
from handlers.common import chat_language, reply, translator
from storage.councils import Council

NOT_A_COUNCIL = N_(
    "/digest and /spread work in a council's chat: this chat is not linked as a council. "
    "The operator gives each council a one-time code for /council."
)


async def council_of_chat(update: Update, context: AsambleaContext) -> Council | None:
    async with context.store.db.read() as conn:
        return await context.store.councils.by_chat(conn, update.effective_chat.id)


async def spread_command(update: Update, context: AsambleaContext) -> None:
    """/spread: the chart of committees on strike per region over time, and the region map."""
    language = await chat_language(update, context)
    _ = await translator(update, context)
    if await council_of_chat(update, context) is None:
        await reply(update, _(NOT_A_COUNCIL))
        return
    now = context.now()
    async with context.store.db.read() as conn:
        reports = await context.store.spread.reports(conn)
    chart = await digest.draw_chart(reports, context.config, language, until=now)
    await update.effective_message.reply_photo(
        InputFile(chart, filename="spread.png"), caption=digest.chart_caption(reports, language, until=now)
    )


async def digest_command(update: Update, context: AsambleaContext) -> None:
    """/digest: this council's digest now, covering what changed since its last one."""
    _ = await translator(update, context)
    council = await council_of_chat(update, context)
    if council is None:
        await reply(update, _(NOT_A_COUNCIL))
        return
    await digest.send(context.store, context.config, council, now=context.now())
    context.outbox.wake()


def register(application: Application) -> None:
    chats = (filters.UpdateType.MESSAGE & filters.ChatType.GROUPS) | filters.UpdateType.CHANNEL_POST
    application.add_handler(CommandHandler("spread", spread_command, chats))
    application.add_handler(CommandHandler("digest", digest_command, chats))
