"""Putting demands forward: in the group, privately through the committee's link, and /demands."""

from __future__ import annotations

import re

from tests.movement import Movement
from tests.test_calls import approved_region


async def test_demands_in_the_group_are_recorded_listed_and_not_repeated(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    member = await movement.member(chat, "Oil worker")
    recorded = await movement.say(chat, member, "/demand A 100% wage rise for all oil workers")
    assert "Demand #1 is recorded" in recorded["text"]

    await movement.settle()  # the acknowledgement came through the outbox, which records it as sent
    before = await movement.rows()
    again = await movement.say(chat, admin, "/demand a 100 % wage rise for all oil workers!")
    assert "already has this demand: #1" in again["text"]
    empty = await movement.say(chat, member, "/demand")
    assert "/demand TEXT" in empty["text"]
    long = await movement.say(chat, member, "/demand " + "x" * 600)
    assert "too long" in long["text"]
    assert await movement.rows() == before

    await movement.say(chat, member, "/demand Freedom to form independent unions")
    listed = await movement.say(chat, member, "/demands")
    assert "#1 (proposed" in listed["text"] and "Freedom to form independent unions" in listed["text"]


async def test_groups_that_are_no_active_committee_take_no_demands(movement: Movement):
    admin = await movement.person("Someone")
    chat = await movement.group("Not a committee", admin)
    before = await movement.rows()
    answer = await movement.say(chat, admin, "/demand Lower fuel prices")
    assert "not a registered committee" in answer["text"]
    pending, pending_admin = await movement.committee("Waiting committee", "atyrau")
    answer = await movement.say(pending, pending_admin, "/demand Lower fuel prices")
    assert "not active yet" in answer["text"]
    assert (await movement.rows())["demands"] == before["demands"]


async def test_a_member_puts_a_demand_forward_privately_without_being_named(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    member = await movement.member(chat, "Aigul Shy")
    refused = await movement.say(chat, member, "/demand link")
    assert "Only delegates" in refused["text"]
    answer = await movement.say(chat, admin, "/demand link")
    link = re.search(r"https://t\.me/(\S+)\?start=(d_[\w-]+)", answer["text"])
    assert link, answer["text"]

    prompt = await movement.say(member["id"], member, f"/start {link.group(2)}")
    assert "Zhanaozen oil workers" in prompt["text"]
    since = await movement.client.seq()
    thanks = await movement.say(member["id"], member, "An end to unreasonable production targets")
    assert "without your name" in thanks["text"]
    posted = await movement.client.wait_for_text(chat, "unreasonable production targets", since=since)
    assert "put forward privately" in posted["text"] and "Aigul" not in posted["text"]

    # A new link revokes the old one; other private text gets the usual answer.
    await movement.say(chat, admin, "/demand link")
    stale = await movement.say(member["id"], member, f"/start {link.group(2)}")
    assert "no longer works" in stale["text"]
    chatter = await movement.say(member["id"], member, "hello?")
    assert "I answer commands" in chatter["text"]
    async with movement.store.db.read() as conn:
        demands = await movement.store.demands.of_committee(
            conn, (await movement.store.committees.by_chat(conn, chat)).id
        )
    assert [(d.via, d.text) for d in demands] == [("private", "An end to unreasonable production targets")]
