"""The world as plain state, without HTTP: ids, updates, membership, the sent log."""

from __future__ import annotations

import pytest

from bot.sandbox.world import World, WorldError


@pytest.fixture
def world() -> World:
    return World("777:TOKEN", "asamblea_bot", clock=lambda: 1_700_000_000.5)


def kinds(world: World) -> list[str]:
    return [next(k for k in u if k != "update_id") for u in world.updates]


def test_ids_count_up_per_chat_and_per_update(world: World) -> None:
    alice = world.create_user("Alice")
    group = world.create_chat("group", "Workers", alice.id, bot_member=True, announce=False)
    first = world.user_message(group.id, alice.id, "one")
    private = world.user_message(alice.id, alice.id, "/start")
    second = world.user_message(group.id, alice.id, "two")
    assert (first["message_id"], second["message_id"], private["message_id"]) == (1, 2, 1)
    assert first["date"] == 1_700_000_000
    assert [u["update_id"] for u in world.updates] == [1, 2, 3]
    assert group.id < -4_000_000_000 and str(world.migrate(group.id).id).startswith("-100")


def test_a_user_can_have_a_chosen_id(world: World) -> None:
    """Telegram's ids go up to 52 bits; a chosen one is kept, and counting skips it."""
    chosen = world.create_user("Ardak", user_id=1_000_002)
    first, second = world.create_user("Alice"), world.create_user("Bob")
    assert (chosen.id, first.id, second.id) == (1_000_002, 1_000_001, 1_000_003)
    assert world.create_user("Big", user_id=2**52 - 1).id == 2**52 - 1
    for wrong in (0, -5, 2**52):
        with pytest.raises(WorldError, match="52 bits"):
            world.create_user("Wrong", user_id=wrong)
    with pytest.raises(WorldError, match="taken"):
        world.create_user("Again", user_id=1_000_002)


def test_bot_hears_only_where_it_is(world: World) -> None:
    alice = world.create_user("Alice")
    group = world.create_chat("supergroup", "Workers", alice.id)
    world.user_message(group.id, alice.id, "unheard")
    assert world.updates == []
    world.bot_action(group.id, "add", alice.id)
    assert kinds(world) == ["my_chat_member", "message"]
    with pytest.raises(WorldError, match="already"):
        world.bot_action(group.id, "add", alice.id)


def test_privacy_mode_lets_only_commands_through() -> None:
    world = World("1:T", "asamblea_bot", privacy_mode=True)
    alice = world.create_user("Alice")
    group = world.create_chat("group", "Workers", alice.id, bot_member=True, announce=False)
    world.user_message(group.id, alice.id, "chatter")
    world.user_message(group.id, alice.id, "/status")
    assert [u["message"]["text"] for u in world.updates] == ["/status"]


def test_migration_carries_members_over(world: World) -> None:
    alice, bob = world.create_user("Alice"), world.create_user("Bob")
    group = world.create_chat("group", "Workers", alice.id, bot_member=True, announce=False)
    world.set_member(group.id, bob.id, "member")
    new = world.migrate(group.id)
    assert new.status_of(bob.id) == "member" and new.status_of(world.bot.id) == "member"
    assert group.migrated_to == new.id and new.migrated_from == group.id
    with pytest.raises(WorldError, match="upgraded"):
        world.user_message(group.id, alice.id, "hello?")


def test_sent_log_tracks_edits_and_deletions_by_seq(world: World) -> None:
    alice = world.create_user("Alice")
    world.user_message(alice.id, alice.id, "/start")
    chat = world.chats[alice.id]
    sent = world.bot_message(chat, {"text": "v1"}, "sendMessage")
    other = world.bot_message(chat, {"text": "other"}, "sendMessage")
    world.bot_edit(chat, sent["message_id"], {"text": "v2"}, (), "editMessageText")
    assert [m["text"] for m in world.sent_since(2)] == ["v2"]
    world.delete_message(chat, other["message_id"])
    [deleted] = world.sent_since(3)
    assert deleted["deleted"] and deleted["seq"] == 4
    assert world.sent_since(0)[0]["original"]["text"] == "v1"


def test_queued_updates_are_snapshots(world: World) -> None:
    alice = world.create_user("Alice")
    world.user_message(alice.id, alice.id, "/start")
    chat = world.chats[alice.id]
    sent = world.bot_message(chat, {"text": "Tap"}, "sendMessage")
    world.press(chat.id, sent["message_id"], alice.id, "x")
    world.bot_edit(chat, sent["message_id"], {"text": "Tapped"}, (), "editMessageText")
    assert world.updates[-1]["callback_query"]["message"]["text"] == "Tap"


def test_control_errors_are_clear(world: World) -> None:
    alice = world.create_user("Alice")
    with pytest.raises(WorldError, match="no chat"):
        world.user_message(-5, alice.id, "hi")
    group = world.create_chat("group", "Workers", alice.id)
    with pytest.raises(WorldError, match="not a member"):
        world.user_message(group.id, world.create_user("Bob").id, "hi")
    with pytest.raises(WorldError, match="status must be"):
        world.set_member(group.id, alice.id, "overlord")
