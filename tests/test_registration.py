"""Councils link, committees register, councils decide: through the real bot and the sandbox."""

from __future__ import annotations

from tests.movement import Movement


async def test_private_start_and_help(movement: Movement):
    person = await movement.person("Asel")
    start = await movement.say(person["id"], person, "/start")
    assert "two-step verification" in start["text"]
    assert "/register" in (await movement.say(person["id"], person, "/help"))["text"]
    assert "/help" in (await movement.say(person["id"], person, "/nonsense"))["text"]


async def test_bot_greets_a_group_it_joins(movement: Movement):
    admin = await movement.person("Nurlan")
    chat = await movement.client.create_group("Oil workers", admin["id"], supergroup=True, announce=True)
    greeting = (await movement.client.wait_for(chat["id"], 0, timeout=20))[0]
    assert "/register" in greeting["text"]


async def test_register_with_arguments_is_approved_by_the_regional_council(movement: Movement):
    council, council_admin = await movement.council("mangystau")
    admin = await movement.person("Nurlan")
    chat = await movement.group("Zhanaozen oil workers", admin)
    since = await movement.client.seq()
    answer = await movement.say(chat, admin, "/register mangystau workplace Zhanaozen oil workers")
    assert "Status: pending" in answer["text"]
    assert "Mangystau regional council" in answer["text"]

    request = await movement.next_message(council, since)
    assert "Zhanaozen oil workers" in request["text"]
    assert [b["text"] for b in request["reply_markup"]["inline_keyboard"][0]] == ["Approve", "Reject"]

    since = await movement.client.seq()
    assert (await movement.press(council, council_admin, request, "Approve"))["text"] == "Approved."
    outcome = await movement.next_message(chat, since)
    assert "has approved this committee" in outcome["text"]
    edited = await movement.client.messages(council, since=since)
    assert any("Approved by a council delegate" in m["text"] and not m.get("reply_markup") for m in edited)
    assert "Status: active" in (await movement.say(chat, admin, "/committee"))["text"]


async def test_interactive_registration_with_buttons_and_a_reply(movement: Movement):
    council, _ = await movement.council("kz")
    admin = await movement.person("Dana")
    chat = await movement.group("Aktau neighbourhood", admin)
    question = await movement.say(chat, admin, "/register")
    since = await movement.client.seq()
    await movement.press(chat, admin, question, "Mangystau Region")
    kinds = await movement.next_message(chat, since)
    assert "What kind" in kinds["text"]
    since = await movement.client.seq()
    await movement.press(chat, admin, kinds, "neighbourhood")
    prompt = await movement.client.wait_for_text(chat, "Reply to this message", since=since, timeout=20)
    since = await movement.client.seq()
    answer = await movement.say(chat, admin, "Aktau 14th microdistrict", reply_to=prompt["message_id"])
    assert "Committee: Aktau 14th microdistrict" in answer["text"]
    assert "Kind: neighbourhood" in answer["text"]
    assert "Aktau 14th microdistrict" in (await movement.next_message(council, since))["text"]


async def test_interactive_registration_can_take_the_group_title(movement: Movement):
    admin = await movement.person("Saule")
    chat = await movement.group("Tengiz oil workers", admin)
    answer = await movement.say(chat, admin, "/register atyrau workplace")
    assert "Reply to this message" in answer["text"]
    since = await movement.client.seq()
    await movement.press(chat, admin, answer, "Use “Tengiz oil workers”")
    done = await movement.client.wait_for_text(chat, "Committee: Tengiz oil workers", since=since, timeout=20)
    assert "No council is linked for your region yet" in done["text"]


async def test_a_council_linked_later_receives_waiting_requests(movement: Movement):
    committee, _ = await movement.committee("Temirtau miners", "karaganda")
    admin = await movement.person("Karaganda delegate")
    council = await movement.group("Karaganda council", admin)
    since = await movement.client.seq()
    await movement.say(council, admin, f"/council {await movement.code('karaganda')}")
    request = await movement.client.wait_for_text(council, "Temirtau miners", since=since, timeout=20)
    await movement.press(council, admin, request, "Reject")
    outcome = await movement.client.wait_for_text(committee, "rejected", since=since, timeout=20)
    assert "/register again" in outcome["text"]


async def test_a_channel_can_be_the_coordinating_council(movement: Movement):
    admin = await movement.person("Coordinator")
    channel = (await movement.client.create_channel("Coordinating council", admin["id"]))["id"]
    since = await movement.client.seq()
    await movement.client.post(channel, f"/council {await movement.code('kz')}")
    linked = await movement.next_message(channel, since)
    assert "Coordinating council" in linked["text"]
    committee, _ = await movement.committee("Uralsk teachers", "west-kazakhstan")
    request = await movement.client.wait_for_text(channel, "Uralsk teachers", since=since, timeout=20)
    outsider = await movement.person("Subscriber")
    await movement.client.set_member(channel, outsider["id"], "member")
    refusal = await movement.press(channel, outsider, request, "Approve")
    assert refusal["show_alert"] and "delegates" in refusal["text"]
    await movement.press(channel, admin, request, "Approve")
    await movement.client.wait_for_text(committee, "approved", since=since, timeout=20)


async def test_commands_are_registered_per_chat_type_and_language(movement: Movement):
    menus = await movement.client.commands()
    scopes = {(m["scope"]["type"], m.get("language_code") or "") for m in menus}
    for scope in ("all_private_chats", "all_group_chats", "all_chat_administrators"):
        for language in ("", "en", "ru", "kk", "es", "de"):
            assert (scope, language) in scopes
    russian_private = next(
        m for m in menus if m["scope"]["type"] == "all_private_chats" and m.get("language_code") == "ru"
    )
    assert any(
        c["command"] == "start" and c["description"] != "About Asamblea and how to stay safe"
        for c in russian_private["commands"]
    )
