"""Calls through the real bot and the sandbox: issue, preview, send, answer, tally, update, cancel."""

from __future__ import annotations

from tests.movement import Movement


async def approved_region(movement: Movement, region: str, names: list[str]) -> tuple[int, dict, list]:
    """A regional council and approved committees in its region."""
    council, council_admin = await movement.council(region)
    committees = [await movement.committee(n, region, council=council, council_admin=council_admin) for n in names]
    return council, council_admin, committees


def button(message: dict, contains: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for key in row:
            if contains in key["text"]:
                return key["text"]
    raise AssertionError(f"no button with {contains!r} in {message['reply_markup']}")


async def test_a_strike_call_reaches_its_region_and_answers_are_tallied(movement: Movement):
    council, _council_admin, committees = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers", "Zhetybai drillers"]
    )
    (issuer, issuer_admin), (aktau, aktau_admin), (zhetybai, _) = committees
    outsider_chat, _ = await movement.committee("Atyrau refinery", "atyrau")

    preview = await movement.say(
        issuer, issuer_admin, "/strike now | at the gates | We stop work until fuel prices come down | region"
    )
    assert "Preview" in preview["text"] and "3 committees" in preview["text"]
    since = await movement.client.seq()
    answer = await movement.press(issuer, issuer_admin, preview, button(preview, "Send"))
    assert answer["text"] == "Sent."

    copy = await movement.client.wait_for_text(aktau, "We stop work", since=since, timeout=20)
    assert "Strike call" in copy["text"] and "Verification code" in copy["text"]
    await movement.client.wait_for_text(zhetybai, "We stop work", since=since, timeout=20)
    await movement.client.wait_for_text(council, "Status of the strike call", since=since, timeout=20)
    await movement.settle()
    assert not [m for m in await movement.client.messages(outsider_chat, since=since) if "We stop work" in m["text"]]

    # A member who is no delegate cannot answer for the committee.
    member = await movement.member(aktau, "Aktau member")
    refused = await movement.press(aktau, member, copy, button(copy, "We join"))
    assert refused["show_alert"] and "delegates" in refused["text"]

    answer = await movement.press(aktau, aktau_admin, copy, button(copy, "We join"))
    assert "joins" in answer["text"]
    tally = await movement.client.wait_for_text(issuer, "Joining: 1", since=since, timeout=30)
    assert "Delivered: 3 of 3" in tally["text"] or "Delivered" in tally["text"]
    edited = await movement.client.wait_for_text(aktau, "we join", since=since, timeout=20)
    assert edited["message_id"] == copy["message_id"]
    async with movement.store.db.read() as conn:
        aktau_committee = await movement.store.committees.by_chat(conn, aktau)
        assert await movement.store.spread.latest(conn, aktau_committee.id) == "on_strike"
