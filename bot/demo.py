"""The offline demo: the real bot against the built-in Bot API sandbox, no token, no internet.

People are played through the sandbox's control API exactly as tests play them: they create
groups, add the bot, type commands and press buttons; the bot answers over the Bot API.
Everything the chats see is printed, so a reader can follow the movement forming.
"""

from __future__ import annotations

import secrets
import tempfile
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.app import build_application, start_polling_application, stop_polling_application
from bot.clock import ScaledClock
from bot.config import Config, parse_config
from bot.council_codes import issue_code
from bot.credentials import Credentials
from bot.sandbox.client import SandboxClient
from bot.sandbox.server import SandboxServer

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "config.example.toml"
WAIT_S = 15.0
# The demo clock runs 360 times faster than real time: an hour passes in ten seconds.
DEMO_SPEED = 360.0


def demo_config(base_url: str, database: Path) -> Config:
    raw = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["telegram"]["base_url"] = base_url
    raw["storage"]["path"] = str(database)
    raw["i18n"]["default_language"] = "en"
    # The demo's movement is small and its assemblies quick: a decision is open an hour of
    # the demo clock (ten seconds), and two committees of a region bring a demand to its council.
    raw["decisions"]["deadline_hours"] = 1.0
    raw["demands"]["council_committees"] = 2
    return parse_config(raw)


class Stage:
    """Plays people in chats and prints what each chat sees."""

    def __init__(self, client: SandboxClient, titles: dict[int, str] | None = None) -> None:
        self.client = client
        self.titles: dict[int, str] = titles or {}
        self.names: dict[int, str] = {}
        self.seen: dict[int, int] = {}

    @staticmethod
    def narrate(text: str) -> None:
        print(f"\n== {text}")

    async def person(self, name: str, language: str = "en") -> dict[str, Any]:
        user = await self.client.create_user(name, language_code=language)
        self.names[user["id"]] = name
        return user

    async def group(self, title: str, admin: dict[str, Any], *, channel: bool = False) -> int:
        if channel:
            chat = await self.client.create_channel(title, admin["id"])
        else:
            chat = await self.client.create_group(title, admin["id"], supergroup=True, with_bot=False)
        self.titles[chat["id"]] = title
        self.seen[chat["id"]] = 0
        await self.client.add_bot(chat["id"], admin["id"])
        await self.show(chat["id"])
        return chat["id"]

    async def say(
        self, chat_id: int, user: dict[str, Any] | None, text: str, reply_to: int | None = None
    ) -> list[dict]:
        who = self.names.get(user["id"], "?") if user else "(channel)"
        print(f"[{self.titles[chat_id]}] {who}: {text}")
        await self.client.send(chat_id, user["id"] if user else None, text, reply_to=reply_to)
        return await self.show(chat_id)

    async def press(
        self, chat_id: int, user: dict[str, Any], message: dict, label: str, *, changes: bool = True
    ) -> list[dict]:
        """Tap a button; `changes` says whether the chat is expected to change (else only a toast)."""
        print(f"[{self.titles[chat_id]}] {self.names[user['id']]} presses «{label}»")
        query = await self.client.press_button(chat_id, user["id"], message, label)
        answer = None
        while answer is None:  # every button handler answers its query
            await self.client.wait_idle(timeout=WAIT_S, quiet=0.05)
            answer = await self.client.callback_answer(query)
        if answer.get("text"):
            print(_indent(f"[{self.titles[chat_id]}] bot, to {self.names[user['id']]} only: {answer['text']}"))
        return await self.show(chat_id, expect=changes)

    async def press_action(
        self, chat_id: int, user: dict[str, Any], message: dict, action: str, *, changes: bool = True
    ) -> list[dict]:
        """Tap the button whose data ends with `action` (its label may be in any language)."""
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        label = next(b["text"] for row in rows for b in row if b.get("callback_data", "").endswith(action))
        return await self.press(chat_id, user, message, label, changes=changes)

    async def show_when(self, chat_id: int, contains: str) -> list[dict]:
        """Wait until the chat shows a text (a tally is edited every few seconds), then print."""
        await self.client.wait_for_text(chat_id, contains, since=self.seen.get(chat_id, 0), timeout=WAIT_S * 2)
        return await self.show(chat_id, expect=False)

    async def show(self, chat_id: int, *, expect: bool = True) -> list[dict]:
        """Wait for the bot's next messages in a chat and print them."""
        since = self.seen.get(chat_id, 0)
        if expect:
            await self.client.wait_for(chat_id, since, timeout=WAIT_S)
        await self.client.wait_idle(timeout=WAIT_S)
        messages = await self.client.messages(chat_id, since=since)
        for message in messages:
            self.seen[chat_id] = max(self.seen.get(chat_id, 0), message["seq"])
            text = message.get("text") or message.get("caption") or ""
            if message.get("deleted"):
                text = "(deleted) " + text
            buttons = _buttons(message)
            print(_indent(f"[{self.titles[chat_id]}] bot: {text}{buttons}"))
        return messages


def _buttons(message: dict) -> str:
    markup = message.get("reply_markup") or {}
    rows: Sequence[Sequence[dict]] = markup.get("inline_keyboard", [])
    labels = [button["text"] for row in rows for button in row]
    return f"\n  [ {' | '.join(labels)} ]" if labels else ""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


async def run_demo(output: Path) -> int:
    """Link councils, register committees in several regions, decide on them; exit 0."""
    with tempfile.TemporaryDirectory() as workdir:
        async with SandboxServer() as server, SandboxClient(server.base_url) as client:
            config = demo_config(server.base_url, Path(workdir) / "demo.sqlite3")
            credentials = Credentials(bot_token=server.token, secret_key=secrets.token_bytes(32))
            application = build_application(config, credentials, clock=ScaledClock(time.time(), DEMO_SPEED))
            await start_polling_application(application, poll_timeout=1)
            try:
                await _play(Stage(client), application, config)
            finally:
                await stop_polling_application(application)
    print("\nThe demo ran against the built-in sandbox; nothing left this machine.")
    return 0


async def _play(stage: Stage, application: Any, config: Config) -> None:
    store = application.bot_data["store"]
    now = int(application.bot_data["clock"].time())

    stage.narrate("The operator makes one-time codes for the coordinating council and the Mangystau council")
    kz_code = await issue_code(store, region="kz", now=now, valid_hours=config.council_code_hours)
    mangystau_code = await issue_code(store, region="mangystau", now=now, valid_hours=config.council_code_hours)
    print(f"asamblea council-code --council kz        -> {kz_code}")
    print(f"asamblea council-code --council mangystau -> {mangystau_code}")

    aigerim = await stage.person("Aigerim")
    coordinating = await stage.group("Coordinating council", aigerim)
    await stage.say(coordinating, aigerim, f"/council {kz_code}")

    bolat = await stage.person("Bolat")
    mangystau = await stage.group("Mangystau council", bolat)
    await stage.say(mangystau, bolat, f"/council {mangystau_code}")
    stage.narrate("Someone tries the same code again: it was used")
    await stage.say(mangystau, bolat, f"/council {mangystau_code}")

    stage.narrate("Zhanaozen oil workers register with arguments")
    nurlan = await stage.person("Nurlan")
    zhanaozen = await stage.group("Zhanaozen oil workers", nurlan)
    await stage.say(zhanaozen, nurlan, "/register mangystau workplace Zhanaozen oil workers")
    request = (await stage.show(mangystau))[-1]
    stage.narrate("The Zhanaozen committee speaks Russian: its admin switches the group's language")
    shown = await stage.say(zhanaozen, nurlan, "/settings")
    choice = next(m for m in shown if "language" in m["text"])
    await stage.press(zhanaozen, nurlan, choice, "Русский")

    stage.narrate("A member who is not an admin tries to register the Aktau group; then the admin does it with buttons")
    dana = await stage.person("Dana")
    aktau = await stage.group("Aktau neighbourhood", dana)
    marat = await stage.person("Marat")
    await stage.client.set_member(aktau, marat["id"], "member")
    await stage.say(aktau, marat, "/register")
    question = (await stage.say(aktau, dana, "/register"))[-1]
    kinds = (await stage.press(aktau, dana, question, "Mangystau Region"))[-1]
    await stage.press(aktau, dana, kinds, "neighbourhood")
    prompt = await stage.client.wait_for_text(aktau, "Reply to this message", since=0, timeout=WAIT_S)
    await stage.say(aktau, dana, "Aktau 14th microdistrict", reply_to=prompt["message_id"])
    aktau_request = (await stage.show(mangystau))[-1]

    stage.narrate("Atyrau has no regional council linked: its request rises to the coordinating council")
    saule = await stage.person("Saule")
    atyrau = await stage.group("Tengiz oil workers", saule)
    await stage.say(atyrau, saule, "/register atyrau-oblast workplace Tengiz oil workers")
    await stage.say(atyrau, saule, "/register atyrau workplace Tengiz oil workers")
    atyrau_request = (await stage.show(coordinating))[-1]

    ruslan = await stage.person("Ruslan")
    spam = await stage.group("Totally real strike", ruslan)
    await stage.say(spam, ruslan, "/register karaganda other Totally real strike committee")
    spam_request = (await stage.show(coordinating))[-1]

    stage.narrate("The councils decide; a member of the Mangystau council who is not its admin cannot")
    await stage.client.set_member(mangystau, marat["id"], "member")
    await stage.press(mangystau, marat, request, "Approve", changes=False)
    await stage.press(mangystau, bolat, request, "Approve")
    await stage.press(mangystau, bolat, aktau_request, "Approve")
    await stage.press(coordinating, aigerim, atyrau_request, "Approve")
    await stage.press(coordinating, aigerim, spam_request, "Reject")
    for chat in (zhanaozen, aktau, atyrau, spam):
        await stage.show(chat)

    stage.narrate("/committee answers in each group")
    await stage.say(zhanaozen, nurlan, "/committee")
    await stage.say(atyrau, saule, "/committee")
    await stage.say(spam, ruslan, "/committee")

    committees = {"zhanaozen": zhanaozen, "aktau": aktau, "atyrau": atyrau}
    people = {"nurlan": nurlan, "dana": dana, "marat": marat, "saule": saule, "aigerim": aigerim}
    await _calls(stage, committees, people, mangystau, coordinating)
    await _demands(stage, committees, people, mangystau, coordinating)


async def _calls(
    stage: Stage, committees: dict[str, int], people: dict[str, dict], mangystau: int, coordinating: int
) -> None:
    """A strike call across the Mangystau region and a rally from the coordinating council."""
    zhanaozen, aktau, atyrau = committees["zhanaozen"], committees["aktau"], committees["atyrau"]
    nurlan, dana, marat, saule, aigerim = (people[n] for n in ("nurlan", "dana", "marat", "saule", "aigerim"))

    stage.narrate("Zhanaozen's delegate calls the Mangystau region out on strike (in Russian); first a preview")
    preview = (
        await stage.say(
            zhanaozen,
            nurlan,
            "/strike сейчас | у ворот Озенмунайгаза | Бастуем, пока цену на газ не вернут к 50 тенге | регион",
        )
    )[-1]
    await stage.press_action(zhanaozen, nurlan, preview, ":send")
    stage.narrate("The call reaches every active committee of the region, each in its own language")
    copy = (await stage.show_when(aktau, "Strike call"))[-1]
    await stage.show(mangystau)
    stage.narrate("Aktau answers: a member cannot answer for the committee, its delegate can")
    await stage.press(aktau, marat, copy, "✅ We join", changes=False)
    await stage.press(aktau, dana, copy, "✅ We join")
    await stage.press_action(aktau, dana, copy, ":h")
    prompt = await stage.client.wait_for_text(aktau, "How many people", since=0, timeout=WAIT_S)
    await stage.say(aktau, dana, "300", reply_to=prompt["message_id"])
    stage.narrate("The live tally in the Mangystau council follows the answers")
    await stage.show_when(mangystau, "Head count: 300")

    stage.narrate("The coordinating council calls a solidarity rally in the west for tomorrow morning")
    preview = (
        await stage.say(
            coordinating,
            aigerim,
            "/call rally tomorrow 11:00 | the central squares | Rally in solidarity with Zhanaozen | mangystau, atyrau",
        )
    )[-1]
    await stage.press_action(coordinating, aigerim, preview, ":send")
    rally = (await stage.show_when(atyrau, "Rally call"))[-1]
    code = next(line.split(": ")[-1] for line in rally["text"].splitlines() if line.startswith("Verification code"))
    await stage.press(atyrau, saule, rally, "✅ We join")
    await stage.show_when(zhanaozen, code)
    await stage.show_when(coordinating, "Joining: 1")

    stage.narrate("Marat checks the rally call privately, and a forged one someone posted")
    stage.titles[marat["id"]] = "Marat, private chat with the bot"
    await stage.say(marat["id"], marat, f"/verify {code}")
    await stage.say(marat["id"], marat, "/verify ABCDE-FGHJK")


GAS_PRICE = "Вернуть цену на сжиженный газ 50 тенге за литр"
RESIGNATION = "Отставка правительства"


async def _demands(
    stage: Stage, committees: dict[str, int], people: dict[str, dict], mangystau: int, coordinating: int
) -> None:
    """The Zhanaozen demands, endorsed by assemblies in two regions, rise to the coordinating council."""
    zhanaozen, aktau, atyrau = committees["zhanaozen"], committees["aktau"], committees["atyrau"]
    nurlan, dana, marat, saule, aigerim = (people[n] for n in ("nurlan", "dana", "marat", "saule", "aigerim"))
    worker = await stage.person("Oil worker", "ru")
    await stage.client.set_member(zhanaozen, worker["id"], "member")

    stage.narrate("Zhanaozen puts its demands forward; one member does it privately, through the committee's link")
    await stage.say(zhanaozen, worker, f"/demand {GAS_PRICE}")
    shown = await stage.say(zhanaozen, nurlan, "/demand link")
    link = next(word for m in shown for word in m["text"].split() if "?start=d_" in word)
    stage.titles[worker["id"]] = "Oil worker, private chat with the bot"
    await stage.say(worker["id"], worker, "/start " + link.split("?start=", 1)[1])
    await stage.say(worker["id"], worker, RESIGNATION)
    await stage.show(zhanaozen)
    stage.narrate("Aktau and Tengiz put the same demands forward, in the same words")
    await stage.say(aktau, marat, f"/demand {GAS_PRICE}!")
    await stage.say(aktau, marat, f"/demand {RESIGNATION}!")
    await stage.say(atyrau, saule, f"/demand {GAS_PRICE.lower()}")
    await stage.say(atyrau, saule, f"/demand {RESIGNATION.lower()}")

    stage.narrate("Each committee's assembly decides on its demands (consensus, open an hour)")
    voters = {zhanaozen: (nurlan, worker), aktau: (dana, marat), atyrau: (saule,)}
    for chat, people_here in voters.items():
        listed = (await stage.say(chat, people_here[0], "/demands"))[-1]
        for row in listed["reply_markup"]["inline_keyboard"]:
            shown = await stage.press(chat, people_here[0], listed, row[0]["text"])
            proposal = next(m for m in shown if m.get("reply_markup"))
            for person in people_here:
                await stage.press_action(chat, person, proposal, ":agree", changes=False)
    endorsed = {zhanaozen: "поддержано этим комитетом", aktau: "endorsed by this committee"}
    for chat in voters:
        await stage.show_when(chat, endorsed.get(chat, "endorsed by this committee"))

    stage.narrate("Aktau's and Tengiz's demands are the same as Zhanaozen's: they become one, and rise")
    await stage.show_when(mangystau, "#2 rises to this council")
    risen = await stage.show_when(coordinating, "#2 rises to this council")
    stage.narrate("The coordinating council adopts them into the common programme")
    for message in [m for m in risen if m.get("reply_markup")]:
        await stage.press_action(coordinating, aigerim, message, ":a")
    for chat in voters:
        await stage.show_when(chat, "📣")
    await stage.say(coordinating, aigerim, "/programme")
