"""The bot's own membership: greeting a group it joins, noticing removal and migration.

A committee whose group removed the bot can no longer be reached; it is marked unreachable
at once (not when the next call fails) so councils see it. A group Telegram migrated to a
supergroup has a new chat id; the committee, council and settings follow it.
"""

from __future__ import annotations

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatType
from telegram.ext import Application, ChatMemberHandler, MessageHandler, filters

from bot.context import AsambleaContext
from bot.i18n import gettext_for, pick_language
from bot.notices import committee_unreachable
from domain.committees import Status

PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED)


def _was_present(change: ChatMemberUpdated) -> tuple[bool, bool]:
    return change.old_chat_member.status in PRESENT, change.new_chat_member.status in PRESENT


async def bot_membership(update: Update, context: AsambleaContext) -> None:
    """The bot was added to or removed from a chat."""
    change = update.my_chat_member
    chat = change.chat
    if chat.type == ChatType.PRIVATE:
        return  # a user blocked or unblocked the bot; nothing is kept about them
    before, after = _was_present(change)
    store = context.store
    if before == after:
        return  # a change of rights, not of presence
    async with store.db.transaction() as tx:
        committee = await store.committees.by_chat(tx, chat.id)
        if committee is not None:
            await store.committees.set_reachable(tx, committee.id, after)
            if committee.reachable and not after and committee.status is Status.ACTIVE:
                await committee_unreachable(tx, store, context.config, committee, now=context.now())
        council = await store.councils.by_chat(tx, chat.id)
        if council is not None:
            await store.councils.set_reachable(tx, council.id, after)
        stored = await store.chat_settings.language(tx, chat.id)
    context.outbox.wake()
    if not after or chat.type == ChatType.CHANNEL:
        return  # removed; or a channel, which cannot hold a committee (councils link with /council)
    adder = change.from_user.language_code if change.from_user else None
    _ = gettext_for(pick_language(stored, adder, default=context.config.default_language))
    if committee is not None:
        text = _("Hello again. This group is the committee “{name}”; /committee shows it.").format(name=committee.name)
    else:
        text = _(
            "Hello! I am Asamblea. I carry strike and rally calls between committees, collect demands "
            "and take them up to the councils.\n\nAn admin of this group can register it as a committee "
            "with /register. A council links its chat with /council CODE. /help lists everything."
        )
    await context.bot.send_message(chat.id, text)


async def group_migrated(update: Update, context: AsambleaContext) -> None:
    """A group became a supergroup: follow it to its new chat id."""
    message = update.effective_message
    if not message.migrate_to_chat_id:
        return  # the same migration as seen from the new supergroup
    old_id, new_id = message.chat.id, message.migrate_to_chat_id
    async with context.store.db.transaction() as tx:
        await context.store.follow_migration(tx, old_id, new_id)
    context.application.migrate_chat_data(old_chat_id=old_id, new_chat_id=new_id)


def register(application: Application) -> None:
    application.add_handler(ChatMemberHandler(bot_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated))
