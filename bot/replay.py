"""The Mangistau replay: January 2022 as the movement would have lived it through the bot.

SPEC §1: a fuel-price protest in Zhanaozen becomes the general strike of Mangystau on 3 January,
spreads to Atyrau, on 4 January to the Tengiz oil workers and, in solidarity, to the oil workers
of Aktobe, West Kazakhstan and Kyzylorda; that evening to the miners of Temirtau and the copper
workers of Kazakhmys (Karaganda); rallies the same day in Atyrau, Uralsk, Aktobe, Kyzylorda,
Taraz, Taldykorgan, Turkestan, Shymkent, Ekibastuz and Almaty; on 5 January the north and east
join. The Zhanaozen demands are taken up across the regions, rise and enter the programme.

Everything happens through the real bot against the sandbox: people create groups, type
commands and press buttons. The clock is a ReplayClock: it runs a minute a second while people
act and jumps over the quiet hours, and the bot's alarms (decision deadlines, the digests at
08:00) ring as the days pass.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ReplayClock
from bot.config import Config
from bot.council_codes import issue_code
from bot.digest_schedule import schedule_of
from bot.sandbox.client import SandboxClient
from domain.schedule import next_slot

AQTAU = timezone(timedelta(hours=5))  # Mangystau's time; the narration gives local times there
WAIT_S = 30.0
# Flows that run side by side; the sandbox and the bot's limits set the pace, not this.
CONCURRENCY = 12


def at(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2022) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=AQTAU).timestamp()


START = at(2, 8, 10)


@dataclass(frozen=True)
class Place:
    key: str
    region: str
    kind: str
    name: str


# About fifty committees across the regions, named after the places of January 2022.
PLACES: tuple[Place, ...] = (
    Place("zhanaozen", "mangystau", "workplace", "Zhanaozen oil workers"),
    Place("zhanaozen-residents", "mangystau", "neighbourhood", "Zhanaozen residents"),
    Place("aktau", "mangystau", "neighbourhood", "Aktau 14th microdistrict"),
    Place("tengiz", "atyrau", "workplace", "Tengiz oil workers"),
    Place("atyrau-refinery", "atyrau", "workplace", "Atyrau refinery workers"),
    Place("atyrau-city", "atyrau", "neighbourhood", "Atyrau city residents"),
    Place("aktobe-oil", "aktobe", "workplace", "Aktobe oil workers"),
    Place("khromtau", "aktobe", "workplace", "Khromtau miners"),
    Place("aktobe-city", "aktobe", "neighbourhood", "Aktobe residents"),
    Place("karachaganak", "west-kazakhstan", "workplace", "Karachaganak oil workers"),
    Place("uralsk", "west-kazakhstan", "neighbourhood", "Uralsk residents"),
    Place("uralsk-students", "west-kazakhstan", "campus", "Uralsk students"),
    Place("kyzylorda-oil", "kyzylorda", "workplace", "Kyzylorda oil workers"),
    Place("kyzylorda-city", "kyzylorda", "neighbourhood", "Kyzylorda residents"),
    Place("aralsk", "kyzylorda", "neighbourhood", "Aralsk residents"),
    Place("temirtau", "karaganda", "workplace", "ArcelorMittal Temirtau miners"),
    Place("kazakhmys", "karaganda", "workplace", "Kazakhmys copper workers"),
    Place("karaganda-city", "karaganda", "neighbourhood", "Karaganda residents"),
    Place("taraz", "jambyl", "neighbourhood", "Taraz residents"),
    Place("taraz-students", "jambyl", "campus", "Taraz students"),
    Place("taraz-chemical", "jambyl", "workplace", "Taraz chemical workers"),
    Place("taldykorgan", "almaty-region", "neighbourhood", "Taldykorgan residents"),
    Place("kapchagay", "almaty-region", "neighbourhood", "Kapchagay residents"),
    Place("turkestan", "turkistan", "neighbourhood", "Turkestan residents"),
    Place("kentau", "turkistan", "workplace", "Kentau workers"),
    Place("shymkent", "shymkent", "neighbourhood", "Shymkent residents"),
    Place("shymkent-refinery", "shymkent", "workplace", "Shymkent refinery workers"),
    Place("ekibastuz", "pavlodar", "workplace", "Ekibastuz coal miners"),
    Place("pavlodar", "pavlodar", "neighbourhood", "Pavlodar residents"),
    Place("aksu", "pavlodar", "workplace", "Aksu ferroalloy workers"),
    Place("almaty", "almaty", "neighbourhood", "Almaty residents"),
    Place("almaty-couriers", "almaty", "workplace", "Almaty couriers"),
    Place("almaty-metro", "almaty", "workplace", "Almaty metro workers"),
    Place("petropavlovsk", "north-kazakhstan", "neighbourhood", "Petropavlovsk residents"),
    Place("petropavlovsk-students", "north-kazakhstan", "campus", "Petropavlovsk students"),
    Place("ust-kamenogorsk", "east-kazakhstan", "neighbourhood", "Ust-Kamenogorsk residents"),
    Place("semey", "east-kazakhstan", "neighbourhood", "Semey residents"),
    Place("ridder", "east-kazakhstan", "workplace", "Ridder zinc workers"),
    Place("kostanay", "kostanay", "neighbourhood", "Kostanay residents"),
    Place("rudny", "kostanay", "workplace", "Rudny iron ore miners"),
    Place("lisakovsk", "kostanay", "workplace", "Lisakovsk miners"),
    Place("kokshetau", "akmola", "neighbourhood", "Kokshetau residents"),
    Place("stepnogorsk", "akmola", "workplace", "Stepnogorsk workers"),
    Place("kokshetau-students", "akmola", "campus", "Kokshetau students"),
    Place("nur-sultan", "nur-sultan", "neighbourhood", "Nur-Sultan residents"),
    Place("nur-sultan-students", "nur-sultan", "campus", "Nur-Sultan students"),
)

GAS_PRICE = "Вернуть цену на сжиженный газ 50 тенге за литр"
RESIGNATION = "Отставка правительства"


def demo_councils(raw: dict[str, Any]) -> None:
    """A council for every region: each region of the replay has its own, as the movement grew."""
    seats = {seat["region"] for seat in raw["federation"]["councils"]}
    for region in raw["federation"]["regions"]:
        if region.get("parent") and region["id"] not in seats:
            raw["federation"]["councils"].append({"region": region["id"], "name": f"{region['name']} council"})


async def bounded(jobs: Iterable[Awaitable[Any]], limit: int = CONCURRENCY) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


class Replay:
    """People and chats of the replay, and what they do."""

    def __init__(self, client: SandboxClient, application: Any, config: Config, clock: ReplayClock) -> None:
        self.client = client
        self.application = application
        self.config = config
        self.clock = clock
        self.store = application.bot_data["store"]
        self.councils: dict[str, int] = {}  # region -> council chat
        self.council_admins: dict[str, dict] = {}
        self.chats: dict[str, int] = {}  # place key -> committee group
        self.delegates: dict[str, dict] = {}  # place key -> its delegate
        self.printed: dict[int, int] = {}
        self.started = time.monotonic()

    # -- narration ------------------------------------------------------------------------------

    async def day(self, moment: float, text: str) -> None:
        """Let time pass until `moment`; each digest due meanwhile is printed as it arrives."""
        schedule = schedule_of(self.config)
        while (slot := next_slot(schedule, int(self.clock.time()))) is not None and slot < moment:
            await self.settle()
            self.clock.jump_to(slot + 60)
            self.headline(f"the digest of {_local(slot, self.config.federation.root.timezone)}")
            await self.digest()
        self.clock.jump_to(moment)
        self.headline(text)

    def headline(self, text: str) -> None:
        local = datetime.fromtimestamp(self.clock.time(), AQTAU).strftime("%a %d %b %Y, %H:%M")
        print(f"\n== {local} (Aqtau): {text}  [{time.monotonic() - self.started:.1f} s]")

    @staticmethod
    def say(text: str) -> None:
        print(f"   {text}")

    async def show(self, chat_id: int, title: str, *, contains: str | None = None) -> list[dict]:
        """Print the bot's messages in a chat since last shown (after waiting for one with `contains`)."""
        since = self.printed.get(chat_id, 0)
        if contains is not None:
            await self.client.wait_for_text(chat_id, contains, since=since, timeout=WAIT_S)
        messages = await self.client.messages(chat_id, since=since)
        for message in messages:
            self.printed[chat_id] = max(self.printed.get(chat_id, 0), message["seq"])
            text = message.get("text") or message.get("caption") or ""
            marker = "(chart) " if message.get("photo") else ""
            print(
                "\n".join(
                    f"      [{title}] {line}" if i == 0 else f"      {line}"
                    for i, line in enumerate((marker + text).splitlines() or [""])
                )
            )
        return messages

    # -- steps ----------------------------------------------------------------------------------

    async def link_councils(self) -> None:
        now = int(self.clock.time())
        regions = list(self.config.federation.councils)

        async def link(region: str) -> None:
            code = await issue_code(self.store, region=region, now=now, valid_hours=self.config.council_code_hours)
            admin = await self.client.create_user(f"Coordinator of {region}")
            seat = self.config.federation.councils[region]
            chat = await self.client.create_group(seat.name, admin["id"], supergroup=True, with_bot=False)
            await self.client.add_bot(chat["id"], admin["id"])
            since = await self.client.seq()
            await self.client.send(chat["id"], admin["id"], f"/council {code}")
            await self.client.wait_for(chat["id"], since, timeout=WAIT_S)
            self.councils[region], self.council_admins[region] = chat["id"], admin

        await bounded(link(region) for region in regions)
        self.printed[self.councils["kz"]] = await self.client.seq()

    async def register(self, place: Place) -> None:
        """A committee's delegate registers the group; its council approves it."""
        delegate = await self.client.create_user(f"Delegate of {place.name}")
        chat = await self.client.create_group(place.name, delegate["id"], supergroup=True, with_bot=False)
        await self.client.add_bot(chat["id"], delegate["id"])
        self.chats[place.key], self.delegates[place.key] = chat["id"], delegate
        await self.client.send(chat["id"], delegate["id"], f"/register {place.region} {place.kind} {place.name}")
        council = self.councils[place.region]
        request = await self.client.wait_for_text(council, place.name, since=0, timeout=WAIT_S)
        await self.press(council, self.council_admins[place.region], request, "Approve")
        await self.client.wait_for_text(chat["id"], "It is now active", since=0, timeout=WAIT_S)

    async def press(self, chat_id: int, person: dict, message: dict, label_or_data: str) -> dict | None:
        query = await self.client.press_button(chat_id, person["id"], message, label_or_data)
        for _ in range(int(WAIT_S / 0.05)):
            answer = await self.client.callback_answer(query)
            if answer is not None:
                return answer
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no answer to a button press in chat {chat_id}")

    async def press_action(self, chat_id: int, person: dict, message: dict, action: str) -> dict | None:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        data = next(b["callback_data"] for row in rows for b in row if b.get("callback_data", "").endswith(action))
        return await self.press(chat_id, person, message, data)

    async def call(self, chat: int, person: dict, command: str) -> str:
        """Someone issues a call and sends it after the preview; returns its verification code."""
        since = await self.client.seq()
        await self.client.send(chat, person["id"], command)
        preview = await self.client.wait_for_text(chat, "Verification code", since=since, timeout=WAIT_S)
        await self.press_action(chat, person, preview, ":send")
        return next(line.split(": ")[-1] for line in preview["text"].splitlines() if "Verification code" in line)

    async def verify(self, code: str) -> None:
        """A member checks the call privately, and a forged one a provocateur posted."""
        member = await self.client.create_user("A member in Taraz")
        self.say("A member in Taraz checks the rally call privately, and a forged call someone posted")
        for text in (f"/verify {code}", "/verify ABCDE-FGHJK"):
            since = await self.client.seq()
            await self.client.send(member["id"], member["id"], text)
            await self.client.wait_for(member["id"], since, timeout=WAIT_S)
            await self.show(member["id"], "private chat")

    async def join_call(self, key: str, code: str) -> None:
        """A committee's delegate answers its copy of a call with “We join”."""
        chat = self.chats[key]
        cursor = 0
        while True:
            for message in await self.client.wait_for(chat, cursor, timeout=WAIT_S):
                cursor = max(cursor, message["seq"])
                if code in (message.get("text") or "") and _has_button(message, ":j"):
                    await self.press_action(chat, self.delegates[key], message, ":j")
                    return

    async def status(self, key: str, words: str) -> None:
        chat = self.chats[key]
        since = await self.client.seq()
        await self.client.send(chat, self.delegates[key]["id"], f"/status {words}")
        await self.client.wait_for_text(chat, "Recorded", since=since, timeout=WAIT_S)

    async def send_appeals(self) -> int:
        """Council delegates send every solidarity appeal suggested to them (one tap each)."""
        sent = 0
        for region, chat in self.councils.items():
            for message in await self.client.messages(chat):
                markup = (message.get("reply_markup") or {}).get("inline_keyboard", [])
                if any(b.get("callback_data", "").startswith("v1:sa:") for row in markup for b in row):
                    await self.press_action(chat, self.council_admins[region], message, ":s")
                    sent += 1
        return sent

    async def mark_read(self) -> None:
        """From here on, show only what chats get next (not their welcome and registration)."""
        seq = await self.client.seq()
        for chat in [*self.chats.values(), *self.councils.values()]:
            self.printed[chat] = seq

    async def settle(self) -> None:
        """Until the bot has answered everything and the outbox is empty."""
        outbox = self.application.bot_data["outbox"]
        for _ in range(int(WAIT_S * 4 / 0.1)):
            await self.client.wait_idle(timeout=WAIT_S, quiet=0.1)
            async with self.store.db.read() as conn:
                counts = await self.store.outbox.counts(conn)
            if not counts.get("pending") and not counts.get("inflight"):
                return
            outbox.wake()
            await asyncio.sleep(0.1)
        raise TimeoutError("the outbox did not empty")

    async def digest(self) -> None:
        """Wait for the coordinating council's digest and print it as its coordinators read it."""
        await self.client.wait_for_text(
            self.councils["kz"], "📰", since=self.printed.get(self.councils["kz"], 0), timeout=WAIT_S
        )
        await self.settle()
        await self.show(self.councils["kz"], "Coordinating council")


def _has_button(message: dict, action: str) -> bool:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return any(b.get("callback_data", "").endswith(action) for row in rows for b in row)


def _local(moment: int, zone: str) -> str:
    return datetime.fromtimestamp(moment, ZoneInfo(zone)).strftime("%d %B, %H:%M") + f" ({zone})"


async def play(client: SandboxClient, application: Any, config: Config, clock: ReplayClock, output: Path) -> Path:
    """The whole replay; returns the path of the spread chart it wrote."""
    replay = Replay(client, application, config, clock)

    await replay.day(START, "Councils form in every region; the operator gives each a one-time code")
    await replay.link_councils()
    kz, coordinator = replay.councils["kz"], replay.council_admins["kz"]
    replay.say(f"{len(replay.councils)} councils linked: the coordinating council and one per region")

    await replay.day(at(2, 8, 30), f"{len(PLACES)} committees register; their councils approve them")
    await bounded(replay.register(place) for place in PLACES)
    replay.say(f"{len(replay.chats)} committees active in {len({p.region for p in PLACES})} regions")
    await replay.settle()
    await replay.mark_read()

    await replay.day(at(2, 10), "Zhanaozen: the oil workers call a strike against the doubled gas price")
    code = await replay.call(
        replay.chats["zhanaozen"],
        replay.delegates["zhanaozen"],
        "/strike now | the square by the akimat | The gas price back to 50 tenge. We strike until it is. | region",
    )
    await replay.status("zhanaozen", "strike")
    await replay.join_call("zhanaozen-residents", code)
    await replay.show(replay.chats["zhanaozen-residents"], "Zhanaozen residents", contains=code)
    replay.say("Mangystau is on strike: its council is asked to appeal to the neighbouring regions, and does")
    await replay.settle()
    await replay.show(replay.councils["mangystau"], "Mangystau council")
    await replay.send_appeals()
    await replay.show(replay.chats["tengiz"], "Tengiz oil workers", contains="Solidarity appeal")

    await replay.day(at(3, 9), "The general strike of the whole Mangystau region: Aktau's assemblies declare it")
    await replay.status("aktau", "strike")

    await replay.day(at(3, 15), "Atyrau: the refinery workers and the towns of the region join")
    await bounded(replay.status(key, "strike") for key in ("atyrau-refinery", "atyrau-city"))
    await replay.settle()
    await replay.send_appeals()
    await _demands(replay)

    await replay.day(at(4, 9), "Tengiz; and in solidarity the oil workers of Aktobe, West Kazakhstan and Kyzylorda")
    await bounded(replay.status(key, "strike") for key in ("tengiz", "aktobe-oil", "karachaganak", "kyzylorda-oil"))
    await replay.settle()
    await replay.send_appeals()

    await replay.day(at(4, 11), "The coordinating council calls rallies in the named cities")
    rally_code = await replay.call(
        kz,
        coordinator,
        "/call rally today 17:00 | the central squares | Rallies in solidarity with Mangystau | "
        "atyrau, west-kazakhstan, aktobe, kyzylorda, jambyl, almaty-region, turkistan, shymkent, pavlodar, almaty",
    )
    rallying = ("atyrau-city", "uralsk", "aktobe-city", "kyzylorda-city", "taraz", "taldykorgan", "turkestan",
                "shymkent", "ekibastuz", "almaty")  # fmt: skip
    await bounded(replay.join_call(key, rally_code) for key in rallying)
    await replay.verify(rally_code)

    await replay.day(at(4, 19), "Evening: the miners of Temirtau and the copper workers of Kazakhmys (Karaganda)")
    await bounded(replay.status(key, "strike") for key in ("temirtau", "kazakhmys"))
    await replay.settle()
    await replay.send_appeals()

    await replay.day(
        at(5, 10), "The north and east, where there had been nothing: Petropavlovsk, Pavlodar, Ust-Kamenogorsk, Semey"
    )
    await bounded(replay.status(key, "strike") for key in ("petropavlovsk", "pavlodar", "ust-kamenogorsk", "semey"))
    await replay.settle()
    await replay.send_appeals()

    await replay.day(at(6, 9), "The coordinators look at the chart and the common programme")
    since = await client.seq()
    await client.send(kz, coordinator["id"], "/spread")
    chart_message = await client.wait_for_text(kz, "The spread", since=since, timeout=WAIT_S)
    chart = output / "spread.png"
    photo = await client.photo(chart_message["photo"][-1]["file_id"])
    await asyncio.to_thread(_write, chart, photo)
    await client.send(kz, coordinator["id"], "/programme")
    await replay.settle()
    await replay.show(kz, "Coordinating council")
    return chart


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def _demands(replay: Replay) -> None:
    """The Zhanaozen demands, taken up by Aktau and Tengiz, endorsed by their assemblies, rise and
    are adopted into the programme."""
    client = replay.client
    replay.say("Zhanaozen puts its demands forward; a worker sends one privately through the committee's link")
    zhanaozen = replay.chats["zhanaozen-residents"]
    worker = await client.create_user("A Zhanaozen resident", language_code="ru")
    await client.set_member(zhanaozen, worker["id"], "member")
    await client.send(zhanaozen, worker["id"], f"/demand {GAS_PRICE}")
    since = await client.seq()
    await client.send(zhanaozen, replay.delegates["zhanaozen-residents"]["id"], "/demand link")
    shown = await client.wait_for_text(zhanaozen, "?start=d_", since=since, timeout=WAIT_S)
    link = next(word for word in shown["text"].split() if "?start=d_" in word)
    await client.send(worker["id"], worker["id"], "/start " + link.split("?start=", 1)[1])
    await client.wait_for(worker["id"], since, timeout=WAIT_S)
    await client.send(worker["id"], worker["id"], RESIGNATION)
    for key in ("aktau", "tengiz"):
        await client.send(replay.chats[key], replay.delegates[key]["id"], f"/demand {GAS_PRICE}")
        await client.send(replay.chats[key], replay.delegates[key]["id"], f"/demand {RESIGNATION.lower()}")
    await replay.settle()
    replay.say("Each committee's assembly decides on its demands (consensus, an hour open)")

    async def assembly(key: str) -> None:
        chat, delegate = replay.chats[key], replay.delegates[key]
        since = await client.seq()
        await client.send(chat, delegate["id"], "/demands")
        listed = await client.wait_for_text(chat, "#", since=since, timeout=WAIT_S)
        for row in listed["reply_markup"]["inline_keyboard"]:
            mark = await client.seq()
            await replay.press(chat, delegate, listed, row[0]["callback_data"])
            proposal = await _with_buttons(client, chat, mark)
            await replay.press_action(chat, delegate, proposal, ":agree")

    # Zhanaozen's assembly first: its demands are the ones the others' merge into.
    await assembly("zhanaozen-residents")
    replay.clock.jump_to(replay.clock.time() + 10 * 60)
    await asyncio.gather(*(assembly(key) for key in ("aktau", "tengiz")))
    replay.clock.jump_to(replay.clock.time() + 65 * 60)
    replay.say("An hour later nobody has blocked: the demands are endorsed, merged, and rise to the councils")
    kz = replay.councils["kz"]
    await client.wait_for_text(kz, "rises to this council", since=0, timeout=WAIT_S * 2)
    await replay.settle()
    for message in await client.messages(kz):
        markup = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        if any(b.get("callback_data", "").startswith("v1:dx:") for row in markup for b in row):
            await replay.press_action(kz, replay.council_admins["kz"], message, ":a")
    replay.say("The coordinating council adopts them into the common programme; every backing committee hears it")
    await replay.settle()
    await replay.show(replay.chats["tengiz"], "Tengiz oil workers")


async def _with_buttons(client: SandboxClient, chat: int, since: int) -> dict:
    """The next message in a chat that carries buttons (a proposal put to the assembly)."""
    cursor = since
    while True:
        found = await client.wait_for(chat, cursor, timeout=WAIT_S)
        for message in found:
            if message.get("reply_markup") and not message.get("deleted"):
                return message
        cursor = max(message["seq"] for message in found)
