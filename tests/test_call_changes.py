"""The issuer updates and cancels a call; every delivered copy follows, through the outbox."""

from __future__ import annotations

from tests.movement import Movement
from tests.test_calls import approved_region, button


async def test_an_update_and_a_cancellation_reach_every_copy(movement: Movement):
    _council, _, committees = await approved_region(movement, "atyrau", ["Atyrau refinery", "Tengiz oil workers"])
    (issuer, issuer_admin), (tengiz, tengiz_admin) = committees
    await movement.call(
        issuer, issuer_admin, "/rally tomorrow 11:00 | Oil workers' square | Rally for the wage rise | region"
    )
    copy = await movement.client.wait_for_text(tengiz, "Rally for the wage rise", since=0)
    status = await movement.client.wait_for_text(issuer, "Status of the rally call", since=0)

    # A member cannot change the call; a delegate can.
    member = await movement.member(issuer, "Refinery member")
    refused = await movement.press(issuer, member, status, button(status, "Update"))
    assert refused["show_alert"] and "delegates" in refused["text"]
    since = await movement.client.seq()
    await movement.press(issuer, issuer_admin, status, button(status, "Update"))
    prompt = await movement.client.wait_for_text(issuer, "WHEN | PLACE | TEXT", since=since)
    asked = await movement.client.seq()
    await movement.client.send(
        issuer, issuer_admin["id"], "tomorrow 12:30 | Isatai-Makhambet square | -", reply_to=prompt["message_id"]
    )
    # Other messages (the issuer's own copy, its tally) may arrive in between.
    await movement.client.wait_for_text(issuer, "are being edited", since=asked)
    edited = await movement.client.wait_for_text(tengiz, "Isatai-Makhambet square", since=since)
    assert edited["message_id"] == copy["message_id"]
    assert "Updated" in edited["text"] and "12:30" in edited["text"] and "Rally for the wage rise" in edited["text"]

    # Tengiz answers, then the call is cancelled: the copy says so and loses its buttons.
    await movement.press(tengiz, tengiz_admin, edited, button(edited, "We join"))
    since = await movement.client.seq()
    await movement.press(issuer, issuer_admin, status, button(status, "Cancel"))
    confirm = await movement.client.wait_for_text(issuer, "Cancel call", since=since)
    done = await movement.press(issuer, issuer_admin, confirm, "Yes, cancel it")
    assert done["text"] == "Cancelled."
    cancelled = await movement.client.wait_for_text(tengiz, "CANCELLED", since=since)
    assert cancelled["message_id"] == copy["message_id"] and not cancelled["reply_markup"]

    # The old buttons (a stale client still shows them) no longer count.
    late = await movement.press(tengiz, tengiz_admin, edited, button(edited, "We can't"))
    assert late["show_alert"] and "cancelled" in late["text"]
    await movement.settle()
    async with movement.store.db.read() as conn:
        committee = await movement.store.committees.by_chat(conn, tengiz)
        assert await movement.store.calls.answer_of(conn, 1, committee.id) == ("join", None)
        # A rally does not set a strike status.
        assert await movement.store.spread.latest(conn, committee.id) is None


async def test_a_head_count_is_reported_and_summed(movement: Movement):
    council, council_admin = await movement.council("kz")
    chats = await movement.seed_committees("pavlodar", 2)
    await movement.call(council, council_admin, "/call rally tomorrow 10:00 | Pavlodar | Rally in the north | pavlodar")
    for chat, admin in chats:
        copy = await movement.client.wait_for_text(chat, "Rally in the north", since=0)
        since = await movement.client.seq()
        await movement.press(chat, admin, copy, button(copy, "head count"))
        prompt = await movement.next_message(chat, since)
        wrong = await movement.say(chat, admin, "many", reply_to=prompt["message_id"])
        assert "whole number" in wrong["text"]
        asked = await movement.client.seq()
        await movement.client.send(chat, admin["id"], "150", reply_to=prompt["message_id"])
        # The copy's edit (through the outbox) may arrive before the reply.
        await movement.client.wait_for_text(chat, "Recorded: 150", since=asked)
    status = await movement.client.wait_for_text(council, "Head count: 300 people", since=0, timeout=30)
    assert "Joining: 2" in status["text"]
