"""Every wrong move around a call gets a clear answer, and nothing is written.

Issuing in the wrong place, by the wrong person, with a time, text or scope that cannot stand;
pressing a preview's or a copy's buttons when they are forged, stale or not one's own; replying
to a head count with something that is no number.
"""

from __future__ import annotations

from tests.movement import TABLES, Movement
from tests.test_calls import approved_region, button

# The tables a call writes to, next to those every person's action may write to.
CALL_TABLES = tuple(
    dict.fromkeys(
        (
            *TABLES,
            "calls",
            "call_deliveries",
            "call_answers",
            "call_tallies",
            "call_reminders",
            "strike_status",
            "outbox",
            "committees",
            "verify_misses",
        )
    )
)
CALL = "/strike now | at the gates | We stop work until fuel prices come down"


# The outbox's own progress in sending what was already queued is no write by the person acting.
SENDING_PROGRESS = ("state", "attempts", "sent_at", "message_id", "error")


async def rows(movement: Movement) -> dict[str, list[tuple]]:
    """Every row of every table a call or an answer writes to (sorted: some tables have no id)."""
    state: dict[str, list[tuple]] = {}
    async with movement.store.db.read() as conn:
        for table in CALL_TABLES:
            async with conn.execute(f"SELECT * FROM {table}") as cursor:
                names = [column[0] for column in cursor.description]
                found = [
                    tuple(value for name, value in zip(names, row, strict=True) if name not in SENDING_PROGRESS)
                    if table == "outbox"
                    else tuple(row)
                    async for row in cursor
                ]
            state[table] = sorted(found, key=repr)
    return state


async def count(movement: Movement, sql: str, *parameters: object) -> int:
    async with movement.store.db.read() as conn, conn.execute(sql, parameters) as cursor:
        return (await cursor.fetchone())[0]


async def test_calls_that_cannot_stand_are_refused(movement: Movement):
    council, council_admin, committees = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    (zhanaozen, zhanaozen_admin), (aktau, aktau_admin) = committees
    member = await movement.member(zhanaozen, "Member")
    before = await rows(movement)

    # Telegram lets the bot send about one message a second in a chat: the refusals take turns.
    refusals = [
        (
            zhanaozen,
            zhanaozen_admin,
            "/strike whenever | at the gates | We stop work",
            "I cannot read the time “whenever”",
        ),
        (aktau, aktau_admin, CALL + " | karaganda", "cannot reach that far"),
        (council, council_admin, "/call strike now | everywhere | We stop work | atyrau", "cannot reach that far"),
        (zhanaozen, zhanaozen_admin, "/strike 01.01.2020 10:00 | at the gates | We stop work", "has already passed"),
        (aktau, aktau_admin, CALL + " | all", "cannot reach that far"),
        (council, council_admin, "/call picnic now | the beach | Bring food", "Unknown kind of call “picnic”"),
        (zhanaozen, zhanaozen_admin, "/strike now | at the gates |", "The call needs a text"),
        (aktau, aktau_admin, "/rally general now | Central square | Rally", "does not go with this command"),
        (council, council_admin, CALL, "In a council's chat, calls are made with /call"),
        (zhanaozen, zhanaozen_admin, "/strike now | at the gates", "A call needs a time, a place and a text"),
        (aktau, aktau_admin, "/call strike now | at the gates | We stop work", "/call works in a council's chat"),
        (zhanaozen, zhanaozen_admin, CALL + " | mordor", "Unknown region “mordor”"),
        # A neighbour it may reach, but no committee is there yet: no draft either.
        (aktau, aktau_admin, CALL + " | atyrau", "would reach nobody"),
        (zhanaozen, member, CALL, "Only delegates (the admins of this chat) can issue calls"),
    ]
    for chat, person, command, expected in refusals:
        answer = await movement.say(chat, person, command)
        assert expected in answer["text"], (command, answer["text"])
    assert await rows(movement) == before


async def test_calls_from_chats_that_may_not_issue_them(movement: Movement):
    # No council is linked anywhere, so the committee's request waits: it is pending.
    pending, pending_admin = await movement.committee("Zhanaozen oil workers", "mangystau")
    outsider = await movement.person("Outsider")
    unregistered = await movement.group("Just a group", outsider)
    before = await rows(movement)

    answer = await movement.say(pending, pending_admin, CALL)
    assert "still waiting for its council's approval" in answer["text"]
    answer = await movement.say(pending, pending_admin, "/rally now | Central square | Rally")
    assert "still waiting for its council's approval" in answer["text"]
    answer = await movement.say(unregistered, outsider, CALL)
    assert "not a registered committee" in answer["text"] and "/register" in answer["text"]
    answer = await movement.say(unregistered, outsider, "/call strike now | a | b")
    assert "/call works in a council's chat" in answer["text"]
    answer = await movement.say(outsider["id"], outsider, CALL)
    assert "works in a committee's or council's group" in answer["text"]
    assert await rows(movement) == before


async def test_wrong_presses_on_a_preview(movement: Movement):
    council, _, committees = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    (chat, admin), (aktau, aktau_admin) = committees
    member = await movement.member(chat, "Member")

    preview = await movement.say(chat, admin, CALL + " | region")
    assert "This call will reach 2 committees" in preview["text"]
    call_id = button_data(preview, "Send").split(":")[2]
    before = await rows(movement)

    answer = await movement.press(chat, member, preview, button(preview, "Send"))
    assert answer["show_alert"] and "Only delegates" in answer["text"]
    answer = await movement.press(chat, member, preview, button(preview, "Instead"))
    assert answer["show_alert"] and "Only delegates" in answer["text"]
    for data in (
        "v1:cs:999:send",
        "v1:cs:x",
        "v1:cs:",
        f"v1:cs:{call_id}:launch",
        f"v1:cs:{call_id}:s:everyone",  # beyond a committee's rights
        f"v1:cs:{call_id}:s:regions",  # a scope by name needs names
        f"v1:cs:{call_id}:s:moon",
    ):
        answer = await movement.press_data(chat, admin, preview["message_id"], data)
        assert answer["show_alert"] and "no longer valid" in answer["text"], (data, answer)
    # The draft's button replayed in another committee's chat, by that committee's admin.
    some_message = (await movement.client.messages(aktau))[-1]
    answer = await movement.press_data(aktau, aktau_admin, some_message["message_id"], button_data(preview, "Send"))
    assert answer["show_alert"] and "no longer valid" in answer["text"]
    assert await rows(movement) == before

    # Send pressed twice before the first press is answered: one call, one set of copies.
    since = await movement.client.seq()
    first = await movement.client.press_button(chat, admin["id"], preview, button(preview, "Send"))
    second = await movement.client.press_button(chat, admin["id"], preview, button(preview, "Send"))
    answers = [await movement.answer_to(first), await movement.answer_to(second)]
    assert answers[0]["text"] == "Sent."
    assert answers[1]["show_alert"] and "already been sent" in answers[1]["text"]
    await movement.client.wait_for_text(aktau, "We stop work", since=since, timeout=20)
    await movement.client.wait_for_text(council, "Status of the strike call", since=since, timeout=20)
    await movement.settle()
    assert await rows(movement) != before  # the snapshot does see a call being sent
    assert await count(movement, "SELECT count(*) FROM call_deliveries WHERE call_id = ?", int(call_id)) == 2
    assert await count(movement, "SELECT count(*) FROM outbox WHERE purpose = 'call'") == 2
    copies = [m for m in await movement.client.messages(aktau, since=since) if "Verification code" in m["text"]]
    assert len(copies) == 1


async def test_wrong_answers_to_a_call(movement: Movement):
    council, council_admin, committees = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    (chat, admin), (aktau, aktau_admin) = committees
    member = await movement.member(aktau, "Aktau member")
    preview = await movement.say(chat, admin, CALL + " | region")
    since = await movement.client.seq()
    assert (await movement.press(chat, admin, preview, button(preview, "Send")))["text"] == "Sent."
    # Once both copies are delivered (and counted in the tallies), nothing more is queued.
    copy = await movement.client.wait_for_text(aktau, "We stop work", since=since, timeout=20)
    await movement.client.wait_for_text(chat, "We stop work", since=since, timeout=20)
    tally = await movement.client.wait_for_text(chat, "Status of the strike call", since=since, timeout=20)
    await movement.settle()
    call_id = button_data(copy, "We join").split(":")[2]
    before = await rows(movement)

    answer = await movement.press(aktau, member, copy, button(copy, "We join"))
    assert answer["show_alert"] and "delegates" in answer["text"]
    answer = await movement.press(aktau, member, copy, button(copy, "head count"))
    assert answer["show_alert"] and "delegates" in answer["text"]
    for data in ("v1:ca:x", "v1:ca:", f"v1:ca:{call_id}:z", f"v1:ca:{call_id}:j:extra", "v1:ca:999:j"):
        answer = await movement.press_data(aktau, aktau_admin, copy["message_id"], data)
        assert answer["show_alert"] and "no longer valid" in answer["text"], (data, answer)
    # The council got no copy: its admin cannot answer there.
    council_message = (await movement.client.messages(council))[-1]
    answer = await movement.press_data(council, council_admin, council_message["message_id"], f"v1:ca:{call_id}:j")
    assert answer["show_alert"] and "no longer valid" in answer["text"]

    # A head count that is no number.
    since = await movement.client.seq()
    await movement.press(aktau, aktau_admin, copy, button(copy, "head count"))
    prompt = await movement.client.wait_for_text(aktau, "How many people", since=since, timeout=20)
    for text in ("many", "-5"):
        answer = await movement.say(aktau, aktau_admin, text, reply_to=prompt["message_id"])
        assert "whole number" in answer["text"], (text, answer["text"])
    assert await rows(movement) == before

    # Cancelled from the tally: every button of the call is dead, and the prompt too.
    since = await movement.client.seq()
    await movement.press(chat, admin, tally, button(tally, "Cancel the call"))
    question = await movement.client.wait_for_text(chat, "for every committee it reached", since=since, timeout=20)
    assert (await movement.press(chat, admin, question, "Yes, cancel it"))["text"] == "Cancelled."
    await movement.settle()
    before = await rows(movement)
    for label in ("We join", "We can't", "Undecided", "head count"):
        answer = await movement.press(aktau, aktau_admin, copy, button(copy, label))
        assert answer["show_alert"] and "cancelled; there is nothing to answer" in answer["text"], (label, answer)
    answer = await movement.say(aktau, aktau_admin, "120", reply_to=prompt["message_id"])
    assert "cancelled; there is nothing to answer" in answer["text"]
    answer = await movement.press(chat, admin, question, "Yes, cancel it")
    assert answer["show_alert"] and "can no longer be changed" in answer["text"]
    assert await rows(movement) == before


async def test_a_discarded_previews_buttons_stay_dead(movement: Movement):
    _, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    discarded = await movement.say(chat, admin, CALL)
    assert (await movement.press(chat, admin, discarded, button(discarded, "Discard")))["text"] == "Discarded."
    since = await movement.client.seq()
    await movement.client.send(chat, admin["id"], "/strike tomorrow 08:00 | at the gates | Another call entirely")
    await movement.client.wait_for_text(chat, "Another call entirely", since=since)
    before = await rows(movement)
    # A discarded draft keeps its id, so its stale Send button cannot send the next draft.
    answer = await movement.press(chat, admin, discarded, button(discarded, "Send"))
    assert answer["show_alert"] and "no longer valid" in answer["text"], answer
    assert await rows(movement) == before


async def test_a_time_before_the_calendar_begins(movement: Movement):
    _, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    before = await rows(movement)
    # 01.01.0001 00:00 at UTC+5 has no UTC moment (it is before datetime.min).
    answer = await movement.say(chat, admin, "/strike 0001-01-01 00:00 | at the gates | We stop work")
    assert "has already passed" in answer["text"], answer["text"]
    assert await rows(movement) == before


async def test_a_head_count_in_superscript_digits(movement: Movement):
    _, _, committees = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    [(chat, admin)] = committees
    preview = await movement.say(chat, admin, CALL)
    since = await movement.client.seq()
    await movement.press(chat, admin, preview, button(preview, "Send"))
    copy = await movement.client.wait_for_text(chat, "We stop work", since=since, timeout=20)
    await movement.press(chat, admin, copy, button(copy, "head count"))
    prompt = await movement.client.wait_for_text(chat, "How many people", since=since, timeout=20)
    # str.isdigit() is true for superscripts, which int() cannot read.
    since = await movement.client.seq()
    await movement.client.send(chat, admin["id"], "10²", reply_to=prompt["message_id"])
    await movement.client.wait_for_text(chat, "whole number", since=since, timeout=20)


def button_data(message: dict, contains: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for key in row:
            if contains in key["text"]:
                return key["callback_data"]
    raise AssertionError(f"no button with {contains!r} in {message['reply_markup']}")
