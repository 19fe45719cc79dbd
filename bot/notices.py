"""Telling a council when one of its committees can no longer be reached.

Calls to a committee the bot was removed from fail silently from the committee's side; the
council responsible for it is the one that can go and talk to its people. Whether the bot sees
its removal (my_chat_member) or only meets a 403 when sending, the council hears it once.
"""

from __future__ import annotations

import aiosqlite

from bot.config import Config
from bot.i18n import gettext_for
from domain.committees import Committee
from storage import Store


async def committee_unreachable(
    conn: aiosqlite.Connection, store: Store, config: Config, committee: Committee, *, now: int
) -> None:
    """Queue a notice to the council responsible for a committee the bot cannot reach any more."""
    federation = config.federation
    seat = federation.responsible_council(committee.region, await store.councils.linked_regions(conn))
    if seat is None:
        return
    council = await store.councils.by_region(conn, seat)
    if council is None or not council.reachable:
        return
    language = await store.chat_settings.language(conn, council.chat_id) or config.default_language
    _ = gettext_for(language)
    text = _(
        "⚠️ The bot can no longer write to the committee “{name}” ({region}): it was removed from the group "
        "or lost its rights there. Calls do not reach this committee until one of its admins adds the bot again."
    ).format(name=committee.name, region=federation.regions[committee.region].display_name(language))
    await store.outbox.enqueue(conn, purpose="notice", text=text, council_id=council.id, now=now)
