"""`/verify CODE`: anyone can tell a genuine call from a forged one, privately, without walking the codes."""

from __future__ import annotations

import re

from domain.codes import ALPHABET, format_code
from handlers.verify import MISSES_PER_HOUR
from tests.movement import Movement
from tests.test_calls import approved_region, button

CODE = re.compile(r"Verification code: ([A-Z0-9]{5}-[A-Z0-9]{5})")
UNKNOWN = "❌ Unknown code"
# Well formed ("AAAAA-AAAAA", "BBBBB-BBBBB", ...) but never issued: among 31^10 codes a clash is unthinkable.
NEVER_ISSUED = [format_code(symbol * 10, 5) for symbol in ALPHABET[: MISSES_PER_HOUR + 1]]


def code_in(message: dict) -> str:
    found = CODE.search(message["text"])
    assert found, message["text"]
    return found.group(1)


async def misses(movement: Movement) -> int:
    async with movement.store.db.read() as conn, conn.execute("SELECT count(*) FROM verify_misses") as cursor:
        return (await cursor.fetchone())[0]


async def test_a_genuine_code_names_its_issuer_however_it_is_typed(movement: Movement):
    _, _, committees = await approved_region(movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"])
    (zhanaozen, admin), (aktau, _) = committees
    preview = await movement.say(zhanaozen, admin, "/strike now | at the gates | We stop work | region")
    since = await movement.client.seq()
    assert (await movement.press(zhanaozen, admin, preview, button(preview, "Send")))["text"] == "Sent."
    await movement.client.wait_for_text(zhanaozen, "Sent to", since=since, timeout=20)
    copy = await movement.client.wait_for_text(aktau, "Strike call", since=since, timeout=20)
    code = code_in(copy)
    # A second call, previewed and never sent: its code is not genuine (yet).
    draft = await movement.say(zhanaozen, admin, "/strike tomorrow 08:00 | at the gates | A draft only")
    assert "Preview" in draft["text"]
    draft_code = code_in(draft)
    worker = await movement.person("Worker")

    answer = await movement.say(worker["id"], worker, f"/verify {code}")
    assert (
        "✅ Genuine: this strike call was issued by committee “Zhanaozen oil workers” (Mangystau Region)"
        in (answer["text"])
    )
    assert "cancelled" not in answer["text"]
    answer = await movement.say(worker["id"], worker, f"/verify {code.lower().replace('-', ' ')}")
    assert "Genuine" in answer["text"] and "Zhanaozen oil workers" in answer["text"]

    answer = await movement.say(worker["id"], worker, f"/verify {draft_code}")
    assert UNKNOWN in answer["text"] and "may be forged" in answer["text"]
    assert await misses(movement) == 1

    # Cancelled: still genuine (it was issued), and the answer says it no longer stands.
    since = await movement.client.seq()
    tally = await movement.client.wait_for_text(zhanaozen, "Status of the strike call", since=0, timeout=20)
    await movement.press(zhanaozen, admin, tally, button(tally, "Cancel the call"))
    question = await movement.client.wait_for_text(zhanaozen, "for every committee it reached", since=since, timeout=20)
    assert (await movement.press(zhanaozen, admin, question, "Yes, cancel it"))["text"] == "Cancelled."
    answer = await movement.say(worker["id"], worker, f"/verify {code}")
    assert "Genuine" in answer["text"] and "Zhanaozen oil workers" in answer["text"]
    assert "It has since been cancelled" in answer["text"]
    assert await misses(movement) == 1


async def test_unknown_codes_are_counted_and_limited(movement: Movement):
    _, _, [(zhanaozen, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    # The code as the issuer sees it once the call is sent (test above: the copies carry the same).
    preview = await movement.say(zhanaozen, admin, "/strike now | at the gates | We stop work")
    since = await movement.client.seq()
    await movement.press(zhanaozen, admin, preview, button(preview, "Send"))
    code = code_in(await movement.client.wait_for_text(zhanaozen, "✅ Sent to 1 committee", since=since, timeout=20))
    guesser = await movement.person("Guesser")
    worker = await movement.person("Worker")

    # Junk is no code: the usage, and no miss counted.
    for junk in ("/verify", "/verify hello!", "/verify 0O1IL"):
        answer = await movement.say(worker["id"], worker, junk)
        assert "Send /verify with the code printed under a call" in answer["text"], (junk, answer["text"])
    assert await misses(movement) == 0

    # In a group, nobody should see who doubts which call.
    answer = await movement.say(zhanaozen, admin, f"/verify {code}")
    assert "Send /verify CODE to me in a private chat" in answer["text"]
    assert "Genuine" not in answer["text"]

    answer = await movement.say(guesser["id"], guesser, f"/verify {NEVER_ISSUED[0]}")
    assert UNKNOWN in answer["text"]
    assert await misses(movement) == 1
    for guess in NEVER_ISSUED[1:MISSES_PER_HOUR]:
        assert UNKNOWN in (await movement.say(guesser["id"], guesser, f"/verify {guess}"))["text"]
    assert await misses(movement) == MISSES_PER_HOUR

    # From now on this person learns nothing, not even about a genuine code; nothing more is written.
    for guess in (NEVER_ISSUED[MISSES_PER_HOUR], code):
        answer = await movement.say(guesser["id"], guesser, f"/verify {guess}")
        assert "Too many unknown codes in the last hour" in answer["text"], (guess, answer["text"])
        assert "Genuine" not in answer["text"]
    assert await misses(movement) == MISSES_PER_HOUR

    # Someone else is not limited by the guesser's misses.
    assert "Genuine" in (await movement.say(worker["id"], worker, f"/verify {code}"))["text"]
