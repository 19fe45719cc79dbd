"""Strike status through the bot: /status for delegates, its refusals, and the solidarity appeal a
region's first striking committee sets off (suggested to its council, sent with one tap)."""

from __future__ import annotations

import pytest

from tests.movement import Movement
from tests.test_calls import approved_region, button


async def test_a_delegate_reports_status_and_history_is_kept(movement: Movement):
    _council, _, [(zhanaozen, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])

    shown = await movement.say(zhanaozen, admin, "/status")
    assert "not reported a strike status yet" in shown["text"]

    answer = await movement.say(zhanaozen, admin, "/status strike | yesterday 09:00")
    assert "Recorded: this committee is on strike since" in answer["text"]
    since = await movement.client.seq()
    assert (await movement.press(zhanaozen, admin, shown, button(shown, "Back at work")))["text"] == "Recorded."
    await movement.client.wait_for_text(zhanaozen, "is back at work since", since=since)

    shown = await movement.say(zhanaozen, admin, "/status")
    assert "This committee is back at work since" in shown["text"]
    assert "Earlier and planned:" in shown["text"] and "on strike" in shown["text"]
    async with movement.store.db.read() as conn:
        committee = await movement.store.committees.by_chat(conn, zhanaozen)
        history = await movement.store.spread.history(conn, committee.id)
    assert [status for status, _since in history] == ["back_at_work", "on_strike"]
    assert history[1][1] < history[0][1] - 3600  # "yesterday 09:00" lies in the past


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/status holiday", "Unknown status “holiday”"),
        ("/status strike | tomorrow 09:00", "has not come yet"),
        ("/status strike | someday", "I cannot read the time"),
    ],
)
async def test_bad_status_reports_are_answered_and_write_nothing(movement: Movement, command: str, expected: str):
    _council, _, [(chat, admin)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])
    before = await movement.rows()
    answer = await movement.say(chat, admin, command)
    assert expected in answer["text"]
    assert await movement.rows() == before


async def test_a_member_cannot_report_status_by_word_or_button(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])
    member = await movement.member(chat, "Worker")
    shown = await movement.say(chat, member, "/status")  # anyone may look
    before = await movement.rows()
    answer = await movement.say(chat, member, "/status strike")
    assert answer["text"] == "Only the committee's delegates report its strike status."
    pressed = await movement.press(chat, member, shown, button(shown, "On strike"))
    assert pressed["text"] == "Only the committee's delegates report its strike status." and pressed["show_alert"]
    forged = await movement.press_data(chat, admin, shown["message_id"], "v1:st:999:s")
    assert forged["text"] == "This button is no longer valid."
    assert await movement.rows() == before
    outside = await movement.person("Someone")
    group = await movement.group("Not a committee", outside)
    assert "not a registered committee" in (await movement.say(group, outside, "/status strike"))["text"]


async def test_a_region_joining_suggests_an_appeal_to_its_neighbours_only(movement: Movement):
    mangystau, m_admin, [(zhanaozen, z_admin), (aktau, a_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    _atyrau, _, [(tengiz, _t)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])
    [(aktobe, _a)] = await movement.seed_committees("aktobe", 1)  # no council of its own
    [(temirtau, _k)] = await movement.seed_committees("karaganda", 1)  # not a neighbour of Mangystau

    since = await movement.client.seq()
    await movement.say(zhanaozen, z_admin, "/status strike")
    suggestion = await movement.client.wait_for_text(mangystau, "has joined the strike", since=since)
    assert "not on strike: Atyrau Region, Aktobe Region (2 committees)?" in suggestion["text"]
    # A second committee of a region already on strike does not make the region join again.
    await movement.say(aktau, a_admin, "/status strike")
    await movement.settle()

    outsider = await movement.member(mangystau, "Council member")
    refused = await movement.press(mangystau, outsider, suggestion, button(suggestion, "Send the appeal"))
    assert refused["show_alert"]
    answer = await movement.press(mangystau, m_admin, suggestion, button(suggestion, "Send the appeal"))
    assert answer["text"] == "The appeal goes to 2 committees."
    for chat in (tengiz, aktobe):
        appeal = await movement.client.wait_for_text(chat, "Solidarity appeal", since=since)
        assert "Mangystau Region are on strike" in appeal["text"]
    await movement.client.wait_for_text(mangystau, "📣 Sent.", since=since)
    await movement.settle()
    for chat in (zhanaozen, aktau, temirtau):
        assert not any(
            "Solidarity appeal" in (m.get("text") or "") for m in await movement.client.messages(chat, since)
        )
    again = await movement.press(mangystau, m_admin, suggestion, button(suggestion, "Send the appeal"))
    assert again["text"] in ("This appeal was already decided.", "This button is no longer valid.")
    assert await movement.query("SELECT region, state FROM solidarity_appeals") == [("mangystau", "sent")]


async def test_joining_a_strike_call_brings_the_region_out(movement: Movement):
    """Joining a strike call sets the status; the region's first striker sets off the appeal."""
    mangystau, _m, [(zhanaozen, z_admin), (aktau, a_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    await approved_region(movement, "atyrau", ["Tengiz oil workers"])
    since = await movement.client.seq()
    await movement.call(zhanaozen, z_admin, "/strike now | at the gates | Gas at 50 tenge | region")
    copy = await movement.client.wait_for_text(aktau, "Strike call", since=since)
    await movement.press(aktau, a_admin, copy, button(copy, "We join"))
    suggestion = await movement.client.wait_for_text(mangystau, "has joined the strike", since=since)
    assert "not on strike: Atyrau Region (1 committee)?" in suggestion["text"]
    shown = await movement.say(aktau, a_admin, "/status")
    assert "This committee is on strike since" in shown["text"]


class TestAutomaticAppeals:
    @pytest.fixture
    def config_changes(self) -> dict[str, dict]:
        return {"spread": {"solidarity": "auto"}}

    async def test_the_appeal_goes_out_at_once_without_asking_the_council(self, movement: Movement):
        mangystau, _m, [(zhanaozen, z_admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
        _atyrau, _, [(tengiz, _t)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])
        since = await movement.client.seq()
        await movement.say(zhanaozen, z_admin, "/status strike")
        await movement.client.wait_for_text(tengiz, "Solidarity appeal", since=since)
        await movement.settle()
        assert not any("has joined" in (m.get("text") or "") for m in await movement.client.messages(mangystau, since))


class TestNoAppeals:
    @pytest.fixture
    def config_changes(self) -> dict[str, dict]:
        return {"spread": {"solidarity": "off"}}

    async def test_no_appeal_is_made(self, movement: Movement):
        mangystau, _m, [(zhanaozen, z_admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
        _atyrau, _, [(tengiz, _t)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])
        since = await movement.client.seq()
        await movement.say(zhanaozen, z_admin, "/status strike")
        await movement.settle()
        for chat in (mangystau, tengiz):
            assert not any("olidarity" in (m.get("text") or "") for m in await movement.client.messages(chat, since))
        assert await movement.query("SELECT count(*) FROM solidarity_appeals") == [(0,)]
