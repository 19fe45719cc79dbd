"""`/verify CODE`: anyone can check, in a private chat, whether a call is genuine and who issued it.

Provocateurs forge calls; every real call carries a code only the bot knows (stored as an
HMAC). Unknown codes count against the person asking, so nobody can walk the code space:
after MISSES_PER_HOUR unknown codes within an hour, the bot stops answering them for a while.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.call_messages import KIND_NAMES, issuer_label, when_text, zone_of
from bot.context import AsambleaContext
from domain.calls import CallKind
from domain.codes import normalise_code
from handlers.common import chat_language, reply, translator

MISSES_PER_HOUR = 5
HOUR_S = 3600


async def verify_command(update: Update, context: AsambleaContext) -> None:
    """/verify CODE in a private chat."""
    _ = await translator(update, context)
    language = await chat_language(update, context)
    raw = " ".join(context.args or [])
    code = normalise_code(raw) if raw else None
    if code is None:
        await reply(
            update,
            _("Send /verify with the code printed under a call, for example: /verify ABCDE-FGHJK"),
        )
        return
    store = context.store
    user_id = update.effective_user.id
    now = context.now()
    async with store.db.transaction() as tx:
        if await store.calls.misses_since(tx, user_id, now - HOUR_S) >= MISSES_PER_HOUR:
            limited, call, issuer = True, None, ""
        else:
            limited = False
            call = await store.calls.by_code(tx, code)
            if call is None:
                await store.calls.add_miss(tx, user_id, now=now)
                issuer = ""
            else:
                issuer = await issuer_label(tx, store, context.config, call, language)
    if limited:
        await reply(update, _("Too many unknown codes in the last hour. Try again later."))
        return
    if call is None:
        await reply(
            update,
            _(
                "❌ Unknown code. No call with this code was sent through me. If a call carries it, it may "
                "be forged: do not act on it, and tell your committee's delegates."
            ),
        )
        return
    zone = zone_of(context.config.federation, call.issuer_region)
    lines = [
        _("✅ Genuine: this {kind} call was issued by {issuer} on {issued}.").format(
            kind=_(KIND_NAMES[CallKind(call.kind)]),
            issuer=issuer,
            issued=when_text(call.issued_at or call.created_at, language, zone),
        ),
        _("It starts: {when}").format(when=when_text(call.starts_at, language, zone)),
    ]
    if call.status == "cancelled":
        lines.append(
            _("❌ It has since been cancelled (on {when}).").format(
                when=when_text(call.updated_at or call.issued_at, language, zone)
            )
        )
    elif call.updated_at:
        lines.append(
            _("It was updated on {when}; trust the text of the updated call.").format(
                when=when_text(call.updated_at, language, zone)
            )
        )
    await reply(update, "\n".join(lines))


async def verify_in_group(update: Update, context: AsambleaContext) -> None:
    """/verify in a group: codes are checked privately, so nobody sees who doubts which call."""
    _ = await translator(update, context)
    await reply(update, _("Send /verify CODE to me in a private chat."))


def register(application: Application) -> None:
    application.add_handler(
        CommandHandler("verify", verify_command, filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE)
    )
    application.add_handler(
        CommandHandler("verify", verify_in_group, filters.UpdateType.MESSAGE & filters.ChatType.GROUPS)
    )
