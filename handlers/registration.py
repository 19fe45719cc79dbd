"""Committee registration: `/register` in a group, by its admins, and `/committee` to see it.

`/register REGION KIND NAME` registers at once; `/register` alone asks with buttons for the
region and the kind, then for the name (the group's title with one tap, or a reply). The
committee is `pending` until the council responsible for its region decides
(handlers/councils.py); the request to that council goes through the outbox in the same
transaction as the registration, so it is never lost and never sent for a rolled-back one.
"""

from __future__ import annotations

import aiosqlite
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import AsambleaContext
from bot.i18n import N_, Gettext, gettext_for
from domain.committees import (
    KINDS,
    NAME_MAX_LENGTH,
    Committee,
    RegistrationRefused,
    check_can_register,
    clean_name,
)
from domain.federation import Federation
from handlers.common import (
    answer_query,
    answered_prompt,
    chat_language,
    drop_buttons,
    edit_pressed,
    language_of_chat,
    quoted,
    reply,
    translator,
    update_is_from_admin,
)
from storage.councils import Council

CALLBACK_PREFIX = "v1:rg:"

KIND_LABELS = {
    "workplace": N_("workplace"),
    "neighbourhood": N_("neighbourhood"),
    "sindicato": N_("sindicato (union)"),
    "comunidad": N_("comunidad (community)"),
    "campus": N_("campus"),
    "other": N_("other"),
}

STATUS_LABELS = {
    "pending": N_("pending: waiting for the council's decision"),
    "active": N_("active"),
    "rejected": N_("rejected by the council"),
    "suspended": N_("suspended"),
    "wiped": N_("wiped"),
}

REFUSALS = {
    "already-pending": N_("This group has already asked to register; the council has not decided yet."),
    "already-registered": N_("This group is already a registered committee. /committee shows it."),
    "name-empty": N_("The committee needs a name."),
    "name-too-long": N_("The name is too long: at most {max} characters."),
}


def refusal_text(_: Gettext, reason: str) -> str:
    return _(REFUSALS[reason]).format(max=NAME_MAX_LENGTH)


def usage_text(_: Gettext) -> str:
    return _(
        "To register this group as a committee, send /register alone and answer the buttons, or "
        "/register REGION KIND NAME, for example:\n/register mangystau workplace Zhanaozen oil workers"
    )


def region_list(federation: Federation, language: str) -> str:
    return "\n".join(f"• {r.id}: {r.display_name(language)}" for r in federation.committee_regions())


def kind_list(_: Gettext) -> str:
    return "\n".join(f"• {kind}: {_(KIND_LABELS[kind])}" for kind in KINDS)


def describe(committee: Committee, federation: Federation, language: str) -> str:
    """The committee as its own group and its council see it (never who its members are)."""
    _ = gettext_for(language)
    region = federation.regions[committee.region].display_name(language)
    lines = [
        _("Committee: {name}").format(name=committee.name),
        _("Region: {region}").format(region=region),
        _("Kind: {kind}").format(kind=_(KIND_LABELS.get(committee.kind, committee.kind))),
        _("Status: {status}").format(status=_(STATUS_LABELS[committee.status.value])),
        _("Delegates: the admins of this group"),
    ]
    if not committee.reachable:
        lines.append(_("The bot cannot reach this group at the moment."))
    return "\n".join(lines)


def council_request(committee: Committee, federation: Federation, language: str) -> tuple[str, dict]:
    """The message a council gets for a new committee, with its Approve / Reject buttons."""
    _ = gettext_for(language)
    text = _("A new committee asks to join the movement:") + "\n\n" + describe(committee, federation, language)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Approve"), callback_data=f"v1:ap:{committee.id}:y"),
                InlineKeyboardButton(_("Reject"), callback_data=f"v1:ap:{committee.id}:n"),
            ]
        ]
    )
    return text, markup.to_dict()


async def queue_council_request(
    context: AsambleaContext, tx: aiosqlite.Connection, committee: Committee, council: Council
) -> None:
    """Put a committee's request for approval in the council's outbox, in the council's language."""
    text, markup = council_request(
        committee, context.config.federation, await language_of_chat(context, tx, council.chat_id)
    )
    await context.store.outbox.enqueue(
        tx, purpose="approval_request", text=text, reply_markup=markup, council_id=council.id, now=context.now()
    )


async def register_command(update: Update, context: AsambleaContext) -> None:
    """/register in a group: with arguments at once, without them step by step."""
    _ = await translator(update, context)
    if not await update_is_from_admin(update, context):
        await reply(update, _("Only an admin of this group can register it as a committee."))
        return
    async with context.store.db.read() as conn:
        existing = await context.store.committees.by_chat(conn, update.effective_chat.id)
    try:
        check_can_register(existing)
    except RegistrationRefused as refused:
        await reply(update, refusal_text(_, refused.reason))
        return
    language = await chat_language(update, context)
    args = context.args or []
    if not args:
        await reply(
            update,
            _("Which region is this committee in?"),
            reply_markup=region_keyboard(context.config.federation, language),
        )
        return
    region = context.config.federation.find_region(args[0], language)
    if region is None:
        await reply(
            update,
            _("Unknown region “{region}”. The regions are:").format(region=quoted(args[0]))
            + "\n"
            + region_list(context.config.federation, language),
        )
        return
    if len(args) == 1:
        await reply(update, _("What kind of committee is it?"), reply_markup=kind_keyboard(_, region.id))
        return
    kind = args[1].casefold()
    if kind not in KINDS:
        unknown = _("Unknown kind “{kind}”. The kinds are:").format(kind=quoted(args[1]))
        await reply(update, unknown + "\n" + kind_list(_))
        return
    if len(args) == 2:
        await ask_name(update, context, region.id, kind)
        return
    await complete(update, context, region.id, kind, " ".join(args[2:]))


def region_keyboard(federation: Federation, language: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(r.display_name(language), callback_data=f"{CALLBACK_PREFIX}r:{r.id}")
        for r in federation.committee_regions()
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def kind_keyboard(_: Gettext, region_id: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(_(KIND_LABELS[kind]), callback_data=f"{CALLBACK_PREFIX}k:{region_id}:{kind}")
        for kind in KINDS
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def ask_name(update: Update, context: AsambleaContext, region_id: str, kind: str) -> None:
    """Offer the group's title as the name, or take a reply with another one."""
    _ = await translator(update, context)
    title = (update.effective_chat.title or "").strip()
    rows = []
    if title:
        rows.append(
            [
                InlineKeyboardButton(
                    _("Use “{title}”").format(title=title[:40]), callback_data=f"{CALLBACK_PREFIX}t:{region_id}:{kind}"
                )
            ]
        )
    text = _("What is the committee's name? Reply to this message with it.")
    if rows:
        text += "\n" + _("Or use the group's title with the button.")
        prompt = await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))
    else:
        prompt = await reply(update, text, reply_markup=ForceReply(selective=True))
    if prompt is not None:
        context.chat_data["register_prompt"] = {"message_id": prompt.message_id, "region": region_id, "kind": kind}


async def register_button(update: Update, context: AsambleaContext) -> None:
    """The region, kind and title buttons of an interactive registration."""
    query = update.callback_query
    _ = await translator(update, context)
    if not await update_is_from_admin(update, context):
        await answer_query(update, _("Only an admin of this group can register it as a committee."), alert=True)
        return
    parts = query.data.removeprefix(CALLBACK_PREFIX).split(":")
    federation = context.config.federation
    step, region_id = parts[0], parts[1] if len(parts) > 1 else ""
    kind = parts[2] if len(parts) > 2 else ""
    valid_regions = {r.id for r in federation.committee_regions()}
    valid = region_id in valid_regions and (step == "r" or (step in ("k", "t") and kind in KINDS))
    if not valid:
        await answer_query(update, _("This button is no longer valid. Send /register again."), alert=True)
        return
    await answer_query(update)
    if step == "r":
        await edit_pressed(update, _("What kind of committee is it?"), reply_markup=kind_keyboard(_, region_id))
    elif step == "k":
        await drop_buttons(update)
        await ask_name(update, context, region_id, kind)
    else:
        await drop_buttons(update)
        await complete(update, context, region_id, kind, update.effective_chat.title or "")


async def name_reply(update: Update, context: AsambleaContext) -> None:
    """A reply to the name prompt completes an interactive registration."""
    prompt = answered_prompt(update, context, "register_prompt")
    if prompt is None:
        return
    message = update.effective_message
    _ = await translator(update, context)
    if not await update_is_from_admin(update, context):
        await reply(update, _("Only an admin of this group can register it as a committee."))
        return
    await complete(update, context, prompt["region"], prompt["kind"], message.text or "")


async def complete(update: Update, context: AsambleaContext, region_id: str, kind: str, raw_name: str) -> None:
    """Write the pending committee and its request to the council in one transaction."""
    _ = await translator(update, context)
    chat = update.effective_chat
    user = update.effective_user
    store = context.store
    federation = context.config.federation
    council = None
    try:
        name = clean_name(raw_name)
        async with store.db.transaction() as tx:
            check_can_register(await store.committees.by_chat(tx, chat.id))
            committee = await store.committees.register(
                tx,
                chat_id=chat.id,
                name=name,
                region=region_id,
                kind=kind,
                registered_by=user.id if user else chat.id,
                now=context.now(),
            )
            seat = federation.responsible_council(region_id, await store.councils.linked_regions(tx))
            if seat is not None:
                council = await store.councils.by_region(tx, seat)
                await queue_council_request(context, tx, committee, council)
    except RegistrationRefused as refused:
        await reply(update, refusal_text(_, refused.reason))
        return
    context.chat_data.pop("register_prompt", None)
    context.outbox.wake()
    language = await chat_language(update, context)
    text = describe(committee, federation, language) + "\n\n"
    if council is not None:
        text += _("Your request has gone to the {council}. You will hear its decision here.").format(
            council=federation.councils[council.region].display_name(language)
        )
    else:
        text += _("No council is linked for your region yet; your request will reach it as soon as one is.")
    await reply(update, text)


async def committee_command(update: Update, context: AsambleaContext) -> None:
    """/committee: what this group is in the movement."""
    _ = await translator(update, context)
    async with context.store.db.read() as conn:
        committee = await context.store.committees.by_chat(conn, update.effective_chat.id)
    if committee is None:
        await reply(update, _("This group is not a registered committee yet.") + "\n" + usage_text(_))
        return
    await reply(update, describe(committee, context.config.federation, await chat_language(update, context)))


def register(application: Application) -> None:
    groups = filters.ChatType.GROUPS
    application.add_handler(CommandHandler("register", register_command, groups))
    application.add_handler(CommandHandler("committee", committee_command, groups))
    application.add_handler(CallbackQueryHandler(register_button, pattern=f"^{CALLBACK_PREFIX}"))
    application.add_handler(MessageHandler(groups & filters.REPLY & filters.TEXT & ~filters.COMMAND, name_reply))
