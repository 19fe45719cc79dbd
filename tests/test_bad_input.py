"""Every wrong move gets a clear answer in the chat's language, and nothing is written."""

from __future__ import annotations

from tests.movement import Movement


async def test_non_admin_cannot_register(movement: Movement):
    admin = await movement.person("Admin")
    chat = await movement.group("Workers", admin)
    member = await movement.member(chat, "Member")
    before = await movement.rows()
    answer = await movement.say(chat, member, "/register mangystau workplace Workers")
    assert "Only an admin" in answer["text"]
    assert await movement.rows() == before


async def test_unknown_region_lists_the_valid_ones(movement: Movement):
    admin = await movement.person("Admin")
    chat = await movement.group("Workers", admin)
    before = await movement.rows()
    answer = await movement.say(chat, admin, "/register mordor workplace Workers")
    assert "Unknown region “mordor”" in answer["text"]
    assert "mangystau: Mangystau Region" in answer["text"] and "shymkent: Shymkent" in answer["text"]
    answer = await movement.say(chat, admin, "/register mangystau factory Workers")
    assert "Unknown kind" in answer["text"] and "workplace" in answer["text"]
    assert await movement.rows() == before


async def test_registering_twice_is_refused(movement: Movement):
    chat, admin = await movement.committee("Workers", "atyrau")
    before = await movement.rows()
    answer = await movement.say(chat, admin, "/register atyrau workplace Workers again")
    assert "already asked to register" in answer["text"]
    council, council_admin = await movement.council("kz")
    request = await movement.client.wait_for_text(council, "Workers", since=0, timeout=20)
    await movement.press(council, council_admin, request, "Approve")
    await movement.client.wait_for_text(chat, "approved", since=0, timeout=20)
    await movement.drained()
    before = await movement.rows()
    answer = await movement.say(chat, admin, "/register")
    assert "already a registered committee" in answer["text"]
    assert await movement.rows() == before


async def test_register_in_a_private_chat(movement: Movement):
    person = await movement.person("Asel")
    before = await movement.rows()
    answer = await movement.say(person["id"], person, "/register mangystau workplace Me")
    assert "works in a committee's or council's group" in answer["text"]
    assert await movement.rows() == before


async def test_overlong_name_is_refused(movement: Movement):
    admin = await movement.person("Admin")
    chat = await movement.group("Workers", admin)
    before = await movement.rows()
    answer = await movement.say(chat, admin, "/register mangystau workplace " + "x" * 80)
    assert "too long" in answer["text"] and "64" in answer["text"]
    assert await movement.rows() == before


async def test_wrong_and_used_council_codes(movement: Movement):
    admin = await movement.person("Coordinator")
    chat = await movement.group("Would-be council", admin)
    before = await movement.rows()
    answer = await movement.say(chat, admin, "/council AAAA-BBBB-CCCC")
    assert "wrong, expired or already used" in answer["text"]
    assert "one-time code" in (await movement.say(chat, admin, "/council"))["text"]
    assert await movement.rows() == before

    code = await movement.code("kz")
    member = await movement.member(chat, "Member")
    before = await movement.rows()
    assert "Only an admin" in (await movement.say(chat, member, f"/council {code}"))["text"]
    assert await movement.rows() == before  # the code is still unused
    assert "now the Coordinating council" in (await movement.say(chat, admin, f"/council {code}"))["text"]

    other_admin = await movement.person("Other")
    other = await movement.group("Another chat", other_admin)
    before = await movement.rows()
    assert "already used" in (await movement.say(other, other_admin, f"/council {code}"))["text"]
    assert await movement.rows() == before


async def test_approving_from_outside_the_council(movement: Movement):
    mangystau, mangystau_admin = await movement.council("mangystau")
    atyrau, atyrau_admin = await movement.council("atyrau")
    committee, _ = await movement.committee("Zhanaozen oil workers", "mangystau")
    request = await movement.client.wait_for_text(mangystau, "Zhanaozen", since=0, timeout=20)
    committee_id = request["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[2]
    before = await movement.rows()

    # A member of the right council who is not its admin.
    member = await movement.member(mangystau, "Member")
    answer = await movement.press(mangystau, member, request, "Approve")
    assert answer["show_alert"] and "delegates" in answer["text"]

    # The Atyrau council's admin replays the button's data in their own chat.
    some_message = (await movement.client.messages(atyrau))[-1]
    answer = await movement.press_data(atyrau, atyrau_admin, some_message["message_id"], f"v1:ap:{committee_id}:y")
    assert "not in your council's area" in answer["text"]

    # A council admin who also sits in the committee's group replays it there.
    await movement.client.set_member(committee, mangystau_admin["id"], "administrator")
    committee_message = (await movement.client.messages(committee))[-1]
    answer = await movement.press_data(
        committee, mangystau_admin, committee_message["message_id"], f"v1:ap:{committee_id}:y"
    )
    assert "Only a council" in answer["text"]

    # Forged and malformed data.
    for data in ("v1:ap:999999:y", "v1:ap:abc:y", "v1:ap:1:maybe", "v1:ap:"):
        answer = await movement.press_data(mangystau, mangystau_admin, request["message_id"], data)
        assert answer["show_alert"]
    assert await movement.rows() == before

    # Deciding twice: the second press is told someone already decided, and nothing changes.
    await movement.press(mangystau, mangystau_admin, request, "Approve")
    after_first = await movement.rows()
    answer = await movement.press_data(mangystau, mangystau_admin, request["message_id"], f"v1:ap:{committee_id}:n")
    assert "already decided" in answer["text"]
    assert await movement.rows() == after_first


async def test_refusals_come_in_the_chat_language(movement: Movement):
    admin = await movement.person("Админ", language="ru")
    chat = await movement.group("Рабочие", admin)
    question = await movement.say(chat, admin, "/settings")
    await movement.press(chat, admin, question, "Русский")
    member = await movement.member(chat, "Участник")
    answer = await movement.say(chat, member, "/register mangystau workplace Рабочие")
    assert "администратор" in answer["text"]
    answer = await movement.say(chat, admin, "/register mordor workplace Рабочие")
    assert "Мангистауская область" in answer["text"]


async def test_settings_refused_to_non_admins(movement: Movement):
    admin = await movement.person("Admin")
    chat = await movement.group("Workers", admin)
    member = await movement.member(chat, "Member")
    before = await movement.rows()
    assert "Only an admin" in (await movement.say(chat, member, "/settings"))["text"]
    question = await movement.say(chat, admin, "/settings")
    answer = await movement.press(chat, member, question, "Deutsch")
    assert answer["show_alert"]
    answer = await movement.press_data(chat, admin, question["message_id"], "v1:lang:xx")
    assert answer["show_alert"]
    assert await movement.rows() == before


async def test_stale_registration_buttons(movement: Movement):
    admin = await movement.person("Admin")
    chat = await movement.group("Workers", admin)
    question = await movement.say(chat, admin, "/register")
    before = await movement.rows()
    for data in ("v1:rg:r:atlantis", "v1:rg:k:mangystau:pirates", "v1:rg:t:mangystau:pirates", "v1:rg:zz"):
        answer = await movement.press_data(chat, admin, question["message_id"], data)
        assert "no longer valid" in answer["text"]
    assert await movement.rows() == before
