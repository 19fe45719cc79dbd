"""The audit log: every privileged action leaves one row, with its actor as a pseudonym and never a
Telegram id, written in the action's own transaction (an action that fails or is undone leaves
none); a committee's wipe unlinks its rows from people; and `/audit` shows a council's delegates,
and only them, the counts of their own area, never a person.

Actions go through the real bot and the sandbox; what only sets a scene up (demands already
endorsed, a committee seeded beyond a border) is written straight to the store. Waiting is for
events, never for a time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Chat, Message, Update, User

from bot import escalation
from bot.clock import ScaledClock
from domain.audit import AuditRefused, Kind, Role, check_code_word, parse_days, summarise
from handlers.audit import acting_person
from handlers.common import ANONYMOUS_ADMIN_ID
from storage.retention import DAY_S, purge
from tests.movement import Movement
from tests.test_calls import approved_region, button
from tests.test_delegates import decide
from tests.test_privacy import forms

# A demand endorsed by one committee rises to its regional council and the coordinating council at once.
RISE_AT_ONCE = {"demands": {"council_committees": 1, "coordinating_committees": 1, "coordinating_regions": 1}}


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return RISE_AT_ONCE


# -- looking at the log ----------------------------------------------------------------------------


async def audit_rows(movement: Movement) -> list[dict[str, Any]]:
    """Every row of the audit table, as column -> value, oldest first."""
    async with movement.store.db.read() as conn, conn.execute("SELECT * FROM audit ORDER BY id") as cursor:
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


async def new_rows(movement: Movement, seen: int) -> list[dict[str, Any]]:
    """The rows written after the first `seen` ones."""
    return (await audit_rows(movement))[seen:]


def pseudonym(movement: Movement, person: dict[str, Any]) -> bytes:
    return movement.store.db.crypto.user(person["id"])


def assert_names_no_one(rows: list[dict[str, Any]], people: list[dict[str, Any]]) -> None:
    """No value of any row holds a person's Telegram id, in decimal, hex or as raw integers, nor
    their name; and every actor is a 16-byte pseudonym or nothing."""
    for row in rows:
        assert row["actor"] is None or len(row["actor"]) == 16, row
        for value in row.values():
            for person in people:
                if isinstance(value, int):
                    assert value != person["id"], (row, person["id"])
                elif value is not None:
                    raw = bytes(value) if isinstance(value, bytes) else value.encode()
                    for form in forms(person["id"]):
                        assert form not in raw, (row, person["id"])
                    assert person["first_name"].encode() not in raw, row


def kinds(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(row["kind"], row["role"]) for row in rows]


async def committee_id(movement: Movement, chat: int) -> int:
    async with movement.store.db.read() as conn:
        return (await movement.store.committees.by_chat(conn, chat)).id


async def council_id(movement: Movement, chat: int) -> int:
    async with movement.store.db.read() as conn:
        return (await movement.store.councils.by_chat(conn, chat)).id


# -- each privileged action leaves one row ---------------------------------------------------------


async def test_codes_links_approvals_and_calls_each_leave_one_row_with_a_pseudonym(movement: Movement):
    council, council_admin = await movement.council("mangystau")
    rows = await audit_rows(movement)
    assert kinds(rows) == [("council_code", "operator"), ("council_linked", "council_delegate")]
    assert rows[0]["actor"] is None  # the operator has no account the bot knows
    assert rows[1]["actor"] == pseudonym(movement, council_admin)
    assert rows[1]["council_id"] == await council_id(movement, council) and rows[1]["region"] == "mangystau"

    # A council delegate approves one committee and rejects another.
    seen = len(await audit_rows(movement))
    zhanaozen, z_admin = await movement.committee(
        "Zhanaozen oil workers", "mangystau", council=council, council_admin=council_admin
    )
    since = await movement.client.seq()
    _rejected, r_admin = await movement.committee("Fake committee", "mangystau")
    request = await movement.message_with_buttons(council, "Fake committee", since)
    assert (await movement.press(council, council_admin, request, "Reject"))["text"] == "Rejected."
    rows = await new_rows(movement, seen)
    assert kinds(rows) == [("committee_approved", "council_delegate"), ("committee_rejected", "council_delegate")]
    assert rows[0]["committee_id"] == await committee_id(movement, zhanaozen)
    assert {row["actor"] for row in rows} == {pseudonym(movement, council_admin)}

    # The committee's delegate issues a call, changes it and cancels it; the council issues one.
    seen += len(rows)
    since = await movement.client.seq()
    await movement.call(zhanaozen, z_admin, "/strike now | at the gates | We stop work | here")
    status = await movement.client.wait_for_text(zhanaozen, "Status of the strike call", since=since)
    await movement.press(zhanaozen, z_admin, status, button(status, "Update"))
    prompt = await movement.client.wait_for_text(zhanaozen, "WHEN | PLACE | TEXT", since=since)
    asked = await movement.client.seq()
    await movement.client.send(zhanaozen, z_admin["id"], "- | at the main gate | -", reply_to=prompt["message_id"])
    await movement.client.wait_for_text(zhanaozen, "being edited", since=asked)
    asked = await movement.client.seq()
    await movement.press(zhanaozen, z_admin, status, button(status, "Cancel"))
    confirm = await movement.client.wait_for_text(zhanaozen, "Cancel call", since=asked)
    assert (await movement.press(zhanaozen, z_admin, confirm, "Yes, cancel it"))["text"] == "Cancelled."
    await movement.call(council, council_admin, "/call rally tomorrow 10:00 | Aktau | A rally for the region")
    rows = await new_rows(movement, seen)
    assert kinds(rows) == [
        ("call_issued", "committee_delegate"),
        ("call_changed", "committee_delegate"),
        ("call_cancelled", "committee_delegate"),
        ("call_issued", "council_delegate"),
    ]
    assert [row["detail"] for row in rows] == ["strike", "strike", "strike", "rally"]
    assert [row["actor"] for row in rows] == [pseudonym(movement, z_admin)] * 3 + [pseudonym(movement, council_admin)]
    assert [row["committee_id"] for row in rows[:3]] == [await committee_id(movement, zhanaozen)] * 3
    assert rows[3]["committee_id"] is None and rows[3]["council_id"] == await council_id(movement, council)

    await movement.settle()
    assert_names_no_one(await audit_rows(movement), [council_admin, z_admin, r_admin])


@pytest.mark.parametrize("clock", [ScaledClock(time.time(), speed=3600.0)])
@pytest.mark.parametrize("config_changes", [{"decisions": {"deadline_hours": 2.0}}])
async def test_elections_alternates_rotations_and_recalls_are_the_assemblys(movement: Movement):
    """An hour a second: a decision's two hours pass in two seconds, half of a one-day term in twelve."""
    _council, _, [(tengiz, admin)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])
    holder, alternate = await movement.member(tengiz, "Holder"), await movement.member(tengiz, "Alternate")
    proposer = await movement.member(tengiz, "Proposer")
    seen = len(await audit_rows(movement))

    since = await movement.client.seq()
    offer = await movement.client.send(tengiz, holder["id"], "I will go")
    proposal = await movement.say(tengiz, proposer, "/elect 1 | Speak for us", reply_to=offer["message_id"])
    await decide(movement, tengiz, proposal, [proposer, admin], since)
    since = await movement.client.seq()
    offer = await movement.client.send(tengiz, alternate["id"], "And I after you")
    proposal = await movement.say(tengiz, admin, "/alternate 1", reply_to=offer["message_id"])
    await decide(movement, tengiz, proposal, [admin, holder], since)
    await movement.client.wait_for_text(tengiz, "now serves", since=since, timeout=30)
    since = await movement.client.seq()
    proposal = await movement.say(tengiz, proposer, "/recall 1")
    result = await decide(movement, tengiz, proposal, [proposer, admin], since)
    assert "Delegate #1 is recalled" in result["text"]

    rows = await new_rows(movement, seen)
    assert kinds(rows) == [
        ("delegate_elected", "assembly"),
        ("alternate_elected", "assembly"),
        ("delegate_rotated", "assembly"),
        ("delegate_recalled", "assembly"),
    ]
    # Who put each question to the assembly; the rotation is the term's, nobody's.
    assert [row["actor"] for row in rows] == [
        pseudonym(movement, proposer),
        pseudonym(movement, admin),
        None,
        pseudonym(movement, proposer),
    ]
    assert {(row["committee_id"], row["region"]) for row in rows} == {(await committee_id(movement, tengiz), "atyrau")}
    assert_names_no_one(await audit_rows(movement), [admin, holder, alternate, proposer])


async def risen(movement: Movement, chat: int, author: dict[str, Any], texts: list[str]) -> list[int]:
    """Demands of a committee, endorsed and risen to the councils (setup, written to the store)."""
    store = movement.store
    now = int(movement.app.bot_data["clock"].time())
    ids = []
    async with store.db.transaction() as tx:
        committee = await store.committees.by_chat(tx, chat)
        for text in texts:
            demand = await store.demands.add(
                tx, committee_id=committee.id, text=text, via="group", submitted_by=author["id"], now=now
            )
            await store.demands.endorse(tx, demand.id, committee.id, now=now)
            await escalation.support_changed(tx, store, movement.config, demand.id, now=now)
            ids.append(demand.id)
    movement.app.bot_data["outbox"].wake()
    return ids


async def test_verdicts_merges_and_marks_on_demands_are_the_councils(movement: Movement):
    coordinating, coordinator = await movement.council("kz")
    mangystau, m_admin, [(zhanaozen, z_admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    seen = len(await audit_rows(movement))
    since = await movement.client.seq()
    rejected, merged, adopted = await risen(
        movement, zhanaozen, z_admin, ["Free the detained drivers", "Gas at 50 tenge", "Gas at fifty tenge for all"]
    )
    regional = await movement.message_with_buttons(mangystau, f"Demand #{rejected} rises", since)
    assert (await movement.press(mangystau, m_admin, regional, button(regional, "Reject")))["text"] == "Rejected."
    top = await movement.message_with_buttons(coordinating, f"Demand #{adopted} rises", since)
    # Answers are awaited by their words: the outbox edits the council's demand messages meanwhile.
    asked = await movement.client.seq()
    await movement.client.send(coordinating, coordinator["id"], f"/merge {merged} {adopted}")
    await movement.client.wait_for_text(coordinating, f"#{merged} is merged into #{adopted}", since=asked)
    assert (await movement.press(coordinating, coordinator, top, button(top, "Adopt")))["text"] == "Adopted."
    for label in ("won", "conceded", "rejected"):
        asked = await movement.client.seq()
        await movement.client.send(coordinating, coordinator["id"], "/programme")
        listed = await movement.message_with_buttons(coordinating, "The common programme", asked)
        answer = await movement.press(coordinating, coordinator, listed, button(listed, f"#{adopted} {label}"))
        assert answer["text"] == "Marked."

    rows = await new_rows(movement, seen)
    assert kinds(rows) == [
        ("demand_rejected", "council_delegate"),
        ("demand_merged", "council_delegate"),
        ("demand_adopted", "council_delegate"),
        ("demand_won", "council_delegate"),
        ("demand_conceded", "council_delegate"),
        ("demand_lost", "council_delegate"),
    ]
    assert rows[0]["region"] == "mangystau" and rows[0]["actor"] == pseudonym(movement, m_admin)
    assert rows[0]["council_id"] == await council_id(movement, mangystau)
    assert {(row["region"], row["actor"]) for row in rows[1:]} == {("kz", pseudonym(movement, coordinator))}
    assert_names_no_one(await audit_rows(movement), [coordinator, m_admin, z_admin])


async def test_solidarity_appeals_sent_and_set_aside_are_the_councils(movement: Movement):
    coordinating, coordinator = await movement.council("kz")
    farmers, f_admin = await movement.committee(
        "Kyzylorda rice farmers", "kyzylorda", council=coordinating, council_admin=coordinator
    )
    await movement.seed_committees("turkistan", 1)  # a neighbour not on strike, to appeal to
    seen = len(await audit_rows(movement))
    # On strike since yesterday morning, back at work at noon, on strike again now: the region joins
    # the strike twice, and the council is asked twice.
    since = await movement.client.seq()
    await movement.say(farmers, f_admin, "/status strike | yesterday 09:00")
    appeal = await movement.message_with_buttons(coordinating, "has joined the strike", since)
    sent = await movement.press(coordinating, coordinator, appeal, "📣 Send the appeal")
    assert sent["text"] == "The appeal goes to 1 committees."
    await movement.say(farmers, f_admin, "/status work | yesterday 12:00")
    since = await movement.client.seq()
    await movement.say(farmers, f_admin, "/status strike")
    appeal = await movement.message_with_buttons(coordinating, "has joined the strike", since)
    assert (await movement.press(coordinating, coordinator, appeal, "Not now"))["text"] == "Not sent."

    rows = await new_rows(movement, seen)
    assert kinds(rows) == [("appeal_sent", "council_delegate"), ("appeal_dismissed", "council_delegate")]
    assert {row["actor"] for row in rows} == {pseudonym(movement, coordinator)}
    assert_names_no_one(await audit_rows(movement), [coordinator, f_admin])


async def test_a_committee_wipe_is_recorded_and_unlinks_its_rows_from_people(movement: Movement):
    council, council_admin, [(zhanaozen, z_admin), (aktau, a_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    await movement.call(zhanaozen, z_admin, "/strike now | at the gates | We stop work | here")
    await movement.call(aktau, a_admin, "/strike now | at the port | We stop work | here")
    z_id, a_id = await committee_id(movement, zhanaozen), await committee_id(movement, aktau)
    before = await audit_rows(movement)
    assert all(row["actor"] is not None for row in before if row["committee_id"] == z_id)

    await movement.drained()
    question = await movement.say(zhanaozen, z_admin, "/wipe")
    assert (await movement.press(zhanaozen, z_admin, question, "🗑 Wipe"))["text"] == "Wiped."
    after = await audit_rows(movement)
    assert kinds(after[len(before) :]) == [("committee_wiped", "committee_delegate")]
    wiped = after[-1]
    assert (wiped["committee_id"], wiped["region"], wiped["actor"]) == (z_id, "mangystau", None)
    # Zhanaozen's approval and call still count, with nobody behind them; Aktau's keep their people.
    zhanaozen_rows = [row for row in after if row["committee_id"] == z_id]
    assert [row["kind"] for row in zhanaozen_rows] == ["committee_approved", "call_issued", "committee_wiped"]
    assert all(row["actor"] is None for row in zhanaozen_rows)
    aktau_rows = [row for row in after if row["committee_id"] == a_id]
    assert [row["actor"] for row in aktau_rows] == [pseudonym(movement, council_admin), pseudonym(movement, a_admin)]

    await movement.drained()
    answer = await movement.say(council, council_admin, "/audit")
    assert "• committees wiped by their delegates: 1\n" in answer["text"]
    assert "• a wiped committee: 3" in answer["text"] and "• Aktau port workers: 2" in answer["text"]


# -- nothing for what did not happen ----------------------------------------------------------------


async def test_refused_and_failed_actions_write_no_row(movement: Movement):
    council, council_admin = await movement.council("mangystau")
    since = await movement.client.seq()
    await movement.committee("Zhanaozen oil workers", "mangystau")
    request = await movement.message_with_buttons(council, "Zhanaozen oil workers", since)
    member = await movement.member(council, "Council member")
    seen = await audit_rows(movement)

    # Refused: not a delegate of the council; a second verdict on a committee already decided.
    refused = await movement.press(council, member, request, "Approve")
    assert refused["show_alert"] and "council's delegates" in refused["text"]
    assert (await movement.press(council, council_admin, request, "Approve"))["text"] == "Approved."
    assert len(await audit_rows(movement)) == len(seen) + 1
    again = await movement.press(council, council_admin, request, "Reject")
    assert again["text"] == "Another delegate has already decided on this committee."
    await movement.drained()
    merged = await movement.say(council, council_admin, "/merge 1 1")
    assert merged["text"] == "Demand #1 is not before this council."
    await movement.settle()
    assert len(await audit_rows(movement)) == len(seen) + 1

    # The audit row cannot be written: the action is undone with it (one transaction).
    since = await movement.client.seq()
    other, _other_admin = await movement.committee("Aktau port workers", "mangystau")
    request = await movement.message_with_buttons(council, "Aktau port workers", since)
    before = await audit_rows(movement)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit row could not be written")

    movement.store.audit.record = broken
    try:
        failed = await movement.press(council, council_admin, request, "Approve")
    finally:
        del movement.store.audit.record
    assert "nothing was changed" in failed["text"]
    movement.errors.clear()  # the failure was the point
    assert await audit_rows(movement) == before
    async with movement.store.db.read() as conn:
        committee = await movement.store.committees.by_chat(conn, other)
    assert committee.status.value == "pending"
    # And the same press, with the log working again, does both.
    assert (await movement.press(council, council_admin, request, "Approve"))["text"] == "Approved."
    assert kinds(await new_rows(movement, len(before))) == [("committee_approved", "council_delegate")]


# -- /audit ---------------------------------------------------------------------------------------


async def test_audit_is_for_a_councils_delegates_only(movement: Movement):
    council, council_admin = await movement.council("mangystau")
    chat, admin = await movement.committee(
        "Zhanaozen oil workers", "mangystau", council=council, council_admin=council_admin
    )
    member = await movement.member(council, "Council member")
    await movement.client.set_member(council, admin["id"], "member")  # a committee's delegate, a member here
    await movement.drained()
    before = await movement.rows()
    for person in (member, admin):
        refused = await movement.say(council, person, "/audit")
        assert refused["text"] == "Only the council's delegates (the admins of this chat) can read the audit log."
    elsewhere = await movement.say(chat, admin, "/audit")
    assert "/audit works in a council's chat" in elsewhere["text"]
    for wrong in ("/audit soon", "/audit 0", "/audit 91"):
        answer = await movement.say(council, council_admin, wrong)
        assert answer["text"] == "Write the number of days to look back, from 1 to 90, for example: /audit 30"
    await movement.settle()
    assert await movement.rows() == before


async def test_a_regional_council_sees_its_region_and_the_coordinating_council_everything(movement: Movement):
    coordinating, coordinator = await movement.council("kz")
    mangystau, m_admin, [(zhanaozen, z_admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    _atyrau, a_council_admin, [(refinery, r_admin)] = await approved_region(movement, "atyrau", ["Atyrau refinery"])
    await movement.call(zhanaozen, z_admin, "/strike now | at the gates | We stop work | here")
    await movement.call(refinery, r_admin, "/rally tomorrow 11:00 | the square | A rally | here")
    people = [coordinator, m_admin, z_admin, a_council_admin, r_admin]
    await movement.drained()

    regional = (await movement.say(mangystau, m_admin, "/audit 30"))["text"]
    assert regional.startswith("📋 Audit log of the area of Mangystau regional council, the last 30 days")
    assert "4 privileged actions, by 2 different people." in regional
    assert "• committees approved: 1, by 1 person" in regional
    assert "• council link codes made by the operator: 1\n" in regional
    assert "• council chats linked: 1, by 1 person" in regional
    assert "• calls issued: 1, by 1 person (strike 1)" in regional
    assert "• committee delegates: 1, by 1 person" in regional and "• the operator: 1" in regional
    assert "• council delegates: 2, by 1 person" in regional
    assert "• Mangystau regional council: 2" in regional and "• Zhanaozen oil workers: 2" in regional
    assert "Atyrau" not in regional and "rally" not in regional

    everything = (await movement.say(coordinating, coordinator, "/audit"))["text"]
    assert "the last 7 days" in everything
    assert "10 privileged actions, by 5 different people." in everything
    assert "• calls issued: 2, by 2 different people (" in everything
    assert "strike 1" in everything and "rally 1" in everything
    for place in ("Coordinating council: 2", "Mangystau regional council: 2", "Atyrau regional council: 2"):
        assert f"• {place}" in everything
    assert "• Zhanaozen oil workers: 2" in everything and "• Atyrau refinery: 2" in everything

    # Counts and roles only: no name, id or pseudonym of anyone who acted.
    for text in (regional, everything):
        for person in people:
            assert person["first_name"] not in text
            assert str(person["id"]) not in text
            assert pseudonym(movement, person).hex() not in text


async def test_the_daily_purge_takes_rows_older_than_the_retention(movement: Movement):
    await movement.council("atyrau")
    [(first, last)] = await movement.query("SELECT min(at), max(at) FROM audit")
    days = movement.config.retention_days
    await purge(movement.store.db, now=first + days * DAY_S, retention_days=days)  # not older yet
    assert len(await audit_rows(movement)) == 2
    counts = await purge(movement.store.db, now=last + days * DAY_S + 1, retention_days=days)
    assert counts.get("audit") == 2 and await audit_rows(movement) == []


async def test_a_quiet_period_says_so(movement: Movement):
    council, council_admin = await movement.council("atyrau")
    async with movement.store.db.transaction() as tx:
        await tx.execute("DELETE FROM audit")  # the link and its code: as if long ago
    answer = await movement.say(council, council_admin, "/audit 1")
    assert answer["text"] == "📋 No privileged action in the area of Atyrau regional council in the last 1 day."


# -- the rules, without the bot ---------------------------------------------------------------------


def test_the_period_is_whole_days_up_to_the_retention():
    assert parse_days("", 90) == 7 and parse_days(" 30 ", 90) == 30 and parse_days("", 3) == 3
    for wrong in ("0", "91", "-1", "7d", "٣", "1.5"):
        with pytest.raises(AuditRefused):
            parse_days(wrong, 90)


def test_only_code_words_are_stored():
    assert check_code_word("general_strike") == "general_strike" and check_code_word(None) is None
    for text in ("Free the drivers", "strike!", "", "x" * 33, "Стачка", "1087968824"):
        with pytest.raises(ValueError):
            check_code_word(text)


def test_a_summary_orders_kinds_roles_and_places_and_drops_unknown_ones():
    summary = summarise(
        [("call_issued", 3, 2), ("committee_approved", 1, 1), ("from_a_newer_version", 5, 1)],
        [("call_issued", "rally", 1), ("call_issued", "strike", 2)],
        [("operator", 1, 0), ("committee_delegate", 3, 2), ("someone_else", 1, 1)],
        [(None, "mangystau", 1), (7, None, 3), (3, None, 3)],
        total=10,
        actors=4,
    )
    assert [k.kind for k in summary.kinds] == [Kind.COMMITTEE_APPROVED, Kind.CALL_ISSUED]
    assert summary.kinds[1].details == (("strike", 2), ("rally", 1))
    assert summary.roles == ((Role.COMMITTEE_DELEGATE, 3, 2), (Role.OPERATOR, 1, 0))
    assert [(p.committee_id, p.region) for p in summary.places] == [(3, None), (7, None), (None, "mangystau")]


def test_no_one_in_particular_is_counted_for_a_channel_post_or_an_anonymous_admin():
    now = datetime.now(UTC)
    group, channel = Chat(-1001, "supergroup"), Chat(-1002, "channel")

    def written_by(user: User) -> Update:
        return Update(1, message=Message(1, now, group, from_user=user))

    assert acting_person(written_by(User(4242, "Aliya", False))) == 4242
    assert acting_person(written_by(User(ANONYMOUS_ADMIN_ID, "Group", True))) is None
    assert acting_person(Update(1, channel_post=Message(1, now, channel, sender_chat=channel))) is None
