"""Demands rising through the federation, merging, and the common programme, through the bot.

The clock runs 1,800 times faster and an assembly decision stays open one hour, so each
endorsement takes about two seconds; tests wait for messages, never for time."""

from __future__ import annotations

import time

import pytest

from bot.clock import ScaledClock
from tests.movement import Movement
from tests.test_calls import approved_region, button


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(time.time(), speed=1800.0)


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return {
        "decisions": {"deadline_hours": 1.0},
        "demands": {"council_committees": 2, "coordinating_committees": 3, "coordinating_regions": 2},
    }


async def said(movement: Movement, chat: int, since: int, text: str) -> bool:
    return any(text in (m.get("text") or "") for m in await movement.client.messages(chat, since))


async def put_and_endorse(movement: Movement, chat: int, admin: dict, text: str) -> int:
    """A member puts a demand forward and the assembly endorses it; the demand's number."""
    member = await movement.member(chat, "Member")
    since = await movement.client.seq()
    await movement.client.send(chat, member["id"], f"/demand {text}")
    await movement.settle()
    listed = await movement.say(chat, member, "/demands")
    label = button(listed, "Put #")
    demand_id = int(label.split("#")[1].split()[0])
    await movement.press(chat, member, listed, label)
    proposal = await movement.client.wait_for_text(chat, f"Endorse demand #{demand_id}", since=since)
    await movement.press(chat, member, proposal, button(proposal, "Agree"))
    await movement.press(chat, admin, proposal, button(proposal, "Agree"))
    await movement.client.wait_for_text(chat, "now endorsed", since=since, timeout=30)
    return demand_id


async def test_a_demand_rises_two_levels_is_adopted_and_its_win_reaches_every_backer(movement: Movement):
    coordinating, coordinator = await movement.council("kz")
    mangystau, _, [(zhanaozen, z_admin), (aktau, a_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    _atyrau, _, [(tengiz, t_admin)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])

    since = await movement.client.seq()
    first = await put_and_endorse(movement, zhanaozen, z_admin, "Lower the price of gas to 50 tenge")
    await movement.settle()
    assert not await said(movement, mangystau, since, "rises to this council")

    # The same words in Aktau: merged without asking, two committees of the region, the regional council.
    second = await put_and_endorse(movement, aktau, a_admin, "lower the price of gas to 50 tenge!")
    told = await movement.client.wait_for_text(aktau, f"same as demand #{first}", since=since)
    assert f"#{second}" in told["text"]
    regional = await movement.client.wait_for_text(mangystau, f"Demand #{first} rises", since=since)
    assert "Support: committees 2, regions 1 (Mangystau Region 2)" in regional["text"]
    await movement.settle()
    assert not await said(movement, coordinating, since, "rises to this council")

    # A committee in a second region: three committees in two regions, the coordinating council.
    await put_and_endorse(movement, tengiz, t_admin, "Lower the price of gas to 50 tenge.")
    top = await movement.client.wait_for_text(coordinating, f"Demand #{first} rises", since=since)
    assert "committees 3, regions 2" in top["text"] and "Atyrau Region 1" in top["text"]

    # Someone in the council chat who is not its delegate cannot adopt; a delegate can, once.
    bystander = await movement.member(coordinating, "Bystander")
    before = await movement.rows()
    refused = await movement.press(coordinating, bystander, top, button(top, "Adopt"))
    assert refused["show_alert"] and "council's delegates" in refused["text"]
    assert await movement.rows() == before
    assert (await movement.press(coordinating, coordinator, top, button(top, "Adopt")))["text"] == "Adopted."
    again = await movement.press(coordinating, coordinator, top, button(top, "Adopt"))
    assert again["show_alert"] and "already decided" in again["text"]
    for chat in (zhanaozen, aktau, tengiz):
        await movement.client.wait_for_text(chat, f"adopted demand #{first} into the common programme", since=since)

    backed = await movement.say(aktau, a_admin, "/demands")
    assert (
        f"backed by this committee:\n#{first} (adopted into the programme, endorsed by 3 committees)" in backed["text"]
    )

    listed = await movement.say(coordinating, coordinator, "/programme")
    assert f"#{first} (adopted into the programme; committees 3, regions 2)" in listed["text"]
    answer = await movement.press(coordinating, coordinator, listed, button(listed, f"#{first} won"))
    assert answer["text"] == "Marked."
    for chat in (zhanaozen, aktau, tengiz):
        won = await movement.client.wait_for_text(chat, f"Demand #{first} of the common programme is won", since=since)
        assert "Lower the price of gas" in won["text"]
    in_committee = await movement.say(tengiz, t_admin, "/programme")
    assert f"#{first} (won;" in in_committee["text"] and not in_committee.get("reply_markup")


@pytest.mark.parametrize(
    "config_changes",
    [{"decisions": {"deadline_hours": 1.0}, "demands": {"council_committees": 1}}],
)
async def test_close_demands_are_suggested_for_a_merge_and_merged_across_languages(movement: Movement):
    mangystau, council_admin, [(zhanaozen, z_admin), (aktau, a_admin), (zhetybai, j_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers", "Zhetybai drillers"]
    )
    since = await movement.client.seq()
    first = await put_and_endorse(movement, zhanaozen, z_admin, "Double the wages of oil workers")
    await movement.client.wait_for_text(mangystau, f"Demand #{first} rises", since=since)
    second = await put_and_endorse(movement, aktau, a_admin, "A doubling of the wages of all oil workers")
    close = await movement.client.wait_for_text(mangystau, f"Demand #{second} rises", since=since)
    assert f"Similar demands before this council: #{first} (" in close["text"]

    suggestion_since = await movement.client.seq()
    await movement.press(mangystau, council_admin, close, button(close, "Merge"))
    offer = await movement.client.wait_for_text(mangystau, "Merge demand", since=suggestion_since)
    await movement.press(mangystau, council_admin, offer, button(offer, f"#{second} into #{first}"))
    merged = await movement.client.wait_for_text(mangystau, f"Demand #{first} rises", since=suggestion_since)
    assert "Support: committees 2," in merged["text"]  # the first demand's message, edited
    await movement.client.wait_for_text(aktau, f"same as demand #{first}", since=since)

    # The same demand in Kazakh: no score sees it, a delegate merges it by hand.
    third = await put_and_endorse(movement, zhetybai, j_admin, "Мұнайшылардың жалақысын екі есе көтеру")
    await movement.client.wait_for_text(mangystau, f"Demand #{third} rises", since=since)
    answer = await movement.say(mangystau, council_admin, f"/merge {third} {first}")
    assert answer["text"] == f"Demand #{third} is merged into #{first}."
    await movement.client.wait_for_text(mangystau, "Support: committees 3,", since=since)

    before = await movement.rows()
    twice = await movement.say(mangystau, council_admin, f"/merge {third} {first}")
    assert twice["text"] == "That demand was already merged into another one."
    assert await movement.rows() == before


@pytest.mark.parametrize(
    "config_changes",
    [{"decisions": {"deadline_hours": 1.0}, "demands": {"council_committees": 1}}],
)
async def test_bad_merges_and_verdicts_get_an_answer_and_change_nothing(movement: Movement):
    mangystau, council_admin, [(zhanaozen, z_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers"]
    )
    since = await movement.client.seq()
    first = await put_and_endorse(movement, zhanaozen, z_admin, "Release the detained strikers")
    escalated = await movement.client.wait_for_text(mangystau, f"Demand #{first} rises", since=since)
    await movement.settle()

    before = await movement.rows()
    itself = await movement.say(mangystau, council_admin, f"/merge {first} {first}")
    assert itself["text"] == "A demand cannot be merged into itself."
    unknown = await movement.say(mangystau, council_admin, f"/merge 999 {first}")
    assert unknown["text"] == "Demand #999 is not before this council."
    garbled = await movement.say(mangystau, council_admin, "/merge three one")
    assert "/merge 12 7" in garbled["text"]
    outsider = await movement.member(mangystau, "Outsider")
    not_delegate = await movement.say(mangystau, outsider, f"/merge {first} 2")
    assert "council's delegates" in not_delegate["text"]
    refused = await movement.press(mangystau, outsider, escalated, button(escalated, "Reject"))
    assert refused["show_alert"] and "council's delegates" in refused["text"]
    in_committee = await movement.say(zhanaozen, z_admin, f"/merge {first} 2")
    assert in_committee["text"] == "This works in a council's chat."
    forged = await movement.press_data(zhanaozen, z_admin, 1, f"v1:dx:{first}:1:a")
    assert forged["show_alert"]
    other_council = await movement.press_data(mangystau, council_admin, escalated["message_id"], f"v1:dx:{first}:99:a")
    assert other_council["show_alert"] and "no longer valid" in other_council["text"]
    mark_here = await movement.press_data(mangystau, council_admin, escalated["message_id"], f"v1:dp:{first}:w")
    assert mark_here["show_alert"]
    assert await movement.rows() == before


@pytest.mark.parametrize(
    "config_changes",
    [{"decisions": {"deadline_hours": 1.0}, "demands": {"council_committees": 1}}],
)
async def test_a_delegates_council_vote_shows_their_mandate(movement: Movement):
    mangystau, _council_admin, [(zhanaozen, z_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers"]
    )
    aliya = await movement.member(zhanaozen, "Aliya")
    offer = await movement.client.send(zhanaozen, aliya["id"], "I will speak for us at the regional council")
    since = await movement.client.seq()
    mandate = "Adopt the gas price demand; nothing else without the assembly"
    proposal = await movement.say(zhanaozen, z_admin, f"/elect {mandate}", reply_to=offer["message_id"])
    await movement.press(zhanaozen, z_admin, proposal, button(proposal, "Agree"))
    await movement.client.wait_for_text(zhanaozen, "Elected: delegate #1", since=since, timeout=30)

    first = await put_and_endorse(movement, zhanaozen, z_admin, "Lower the price of gas to 50 tenge")
    escalated = await movement.client.wait_for_text(mangystau, f"Demand #{first} rises", since=since)
    await movement.client.set_member(mangystau, aliya["id"], "administrator")
    assert (await movement.press(mangystau, aliya, escalated, button(escalated, "Adopt")))["text"] == "Adopted."
    decided = await movement.client.wait_for_text(mangystau, "adopted by the delegate of", since=since)
    assert f"“Zhanaozen oil workers”, mandate: {mandate}" in decided["text"] and "Aliya" not in decided["text"]
    assert not decided.get("reply_markup")
