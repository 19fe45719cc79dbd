"""A seized disk reveals no one, at the scale of a movement (issue 6, part 8).

1,000 canary people, each with a distinctive Telegram id (42 to 46 bits, drawn so that no
timestamp, counter or chance can look like one), a Kazakh first name, a Russian last name and a
username made of canary tokens, act through the real bot and the sandbox: two councils link their
chats, eight committees register and are approved, 990 members join them, each puts one demand
forward (some through the private deep link), votes on proposals, puts a demand to the assembly,
is elected; delegates issue a strike call, answer it and report a head count; members pick their
language and check a wrong code in private.

Then the database file, its -wal and -shm (while the bot runs, and again after it stops), the
bot's log (bot/logs.py at DEBUG, the most an operator can ask of `asamblea run --log-level`) and
an export in JSON and CSV are read byte by byte for every canary in every form it could take:
the id in decimal and hexadecimal (lower and upper case, with and without 0x, and both in
UTF-16), as 6- and 8-byte big- and little-endian integers (SQLite writes an INTEGER column as a
big-endian integer of the fewest bytes, 6 for these ids) and as a SQLite varint (how a rowid is
stored); names, usernames and texts in UTF-8, casefolded UTF-8, UTF-16-LE and UTF-16-BE. Expected:
0 hits. (4-byte forms do not exist for ids of more than 32 bits, as new Telegram accounts have;
tests/test_privacy.py covers small ids and their 4-byte forms.)

Clear canaries never reach the disk, so after the purge the meaningful check is of what does:
the clock jumps past `[privacy] retention_days`, the daily purge runs with its rebuild of the
file and its truncating checkpoint (`Database.scrub`), and every 16-byte piece of every
ciphertext of every purged row, and the pseudonyms of the people whose data was all old, must be
gone from the database, -wal and -shm (they were all found there before the purge, so the scan
sees them when they are there).

Two paces are changed, as tests/test_permissions.py changes its own, because this test is about
the disk and not about Telegram's limits: a group takes a message a second (`quick_groups`: the
bot's pacing, PTB's limiter and the sandbox alike) instead of 20 a minute, at which a committee's
two dozen messages (registration, proposals, acknowledgements, privately put demands, a call and
its answers, results) would take over a minute; and the sandbox enforces its limits with a fifth
more room than the bot keeps to (HEADROOM). The bot counts a message when its turn comes, and here
the sandbox, the bot and a thousand people share one event loop on two cores, whose stalls deliver
a second's worth of paced requests bunched: at the exact limits one such bunch meets a 429, after
which PTB's rate limiter holds every request and lets them go together, and the 429s multiply
(flood control is part 6 of issue 6).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bot import app, pacing
from bot.app import stop_polling_application
from bot.cli import main as cli_main
from bot.clock import ReplayClock
from bot.logs import CAPPED_LOGGERS, apply_levels, log_handler
from bot.sandbox import SandboxClient, SandboxServer
from storage.retention import DAY_S
from tests.movement import SECRET_KEY, WAIT_S, Movement
from tests.test_cli_run import write_config
from tests.test_privacy import raw_files

T = TypeVar("T")
ALMATY = ZoneInfo("Asia/Almaty")

CANARIES = 1000
SEED = 20220105
REGIONS = ("mangystau", "atyrau")
COMMITTEES_PER_REGION = 4
RETENTION_DAYS = 2
# The canaries' ids: more than 2**41 (beyond millisecond timestamps of this century), less than
# 2**47 (six bytes as a SQLite INTEGER); Telegram's own ids may have up to 52 bits.
ID_RANGE = (2**41, 2**47)
KAZAKH = "әғқңөұүһі"
RUSSIAN = "бвгджзклмнпрстфхцчшщ"
LATIN = "abcdefghijkmnpqrstuvwxyz23456789"
# Members per committee who put their demand forward through the private link, in each cohort.
PRIVATE_PER_COHORT = 2
# One old member in this many picks a language and checks a wrong code in private.
PRIVATE_CHAT_EVERY = 8
VOTERS_ON_SPECIAL = 15  # members voting on an endorsement or an election
WIDTH = 24  # requests in flight from the people at once
WINDOW = 6  # bytes every needle has at least; the scan looks up each 6-byte window of a file
CHUNK = 1 << 22
PIECE = 16  # bytes of a purged ciphertext looked for at once: random data, never found by chance
SANDBOX_LOGGERS = ("bot.sandbox", "tornado")  # Telegram's side of the loopback, not the bot's
# Paces changed for this test only (the module's docstring says why).
GROUP_PER_MINUTE = 60
HEADROOM = {"global_per_second": 36, "per_chat_burst": 4, "group_per_minute": 72}


def almaty(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2022, 1, day, hour, minute, tzinfo=ALMATY).timestamp()


START = almaty(3, 7, 30)
OLD_DONE = almaty(4, 10)  # the first proposals close on the way here
RECENT = almaty(4, 20)  # the recent cohort acts; after the purge's cutoff at SEIZED - 2 days
SEIZED = almaty(6, 16)  # the purge that rings on the way takes everything before 4 January, 16:00


# -- the canaries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Canary:
    """One person whose every trace the scan looks for."""

    number: int
    user_id: int
    first_name: str
    last_name: str
    username: str
    language: str
    demand: str
    tokens: tuple[str, ...]  # the distinctive parts alone, to catch a name cut short

    @property
    def texts(self) -> tuple[str, ...]:
        full = f"{self.first_name} {self.last_name}"
        return (self.first_name, self.last_name, self.username, full, self.demand, *self.tokens)


def draw(rng: random.Random, alphabet: str, length: int, taken: set[str]) -> str:
    while True:
        token = "".join(rng.choice(alphabet) for _ in range(length))
        if token not in taken:
            taken.add(token)
            return token


def make_canaries(count: int = CANARIES, seed: int = SEED) -> list[Canary]:
    """People made of canary tokens: unique ids, Kazakh and Russian names, Latin usernames, demands
    mixing the three scripts (each token long enough that no other text contains it by chance)."""
    rng = random.Random(seed)
    taken: set[str] = set()
    ids = rng.sample(range(*ID_RANGE), count)
    canaries = []
    for number, user_id in enumerate(ids):
        kazakh, russian, latin = draw(rng, KAZAKH, 7, taken), draw(rng, RUSSIAN, 7, taken), draw(rng, LATIN, 10, taken)
        slogan = draw(rng, KAZAKH, 8, taken)
        canaries.append(
            Canary(
                number=number,
                user_id=user_id,
                first_name=kazakh.capitalize(),
                last_name=f"{russian.capitalize()}ова",
                username=f"cn_{latin}",
                language=("kk", "ru", "en")[number % 3],
                demand=f"Талап {slogan.capitalize()}: жалақы {number + 1}% өссін, {russian} {latin}",
                tokens=(kazakh, russian, latin, slogan),
            )
        )
    return canaries


# -- the forms a canary may take on disk ------------------------------------------------------------


def sqlite_varint(value: int) -> bytes:
    """SQLite's varint (rowids, record headers): 7 bits a byte, big-endian; a 9th byte takes 8."""
    value &= (1 << 64) - 1
    if value >> 56:
        tail, value = [value & 0xFF], value >> 8
        for _ in range(8):
            tail.append((value & 0x7F) | 0x80)
            value >>= 7
        return bytes(reversed(tail))
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def id_forms(value: int) -> dict[str, bytes]:
    """An id as text (decimal, hex with and without 0x, in UTF-8 and UTF-16) and as the binary
    integers a careless schema or log would hold: 6 and 8 bytes in both orders, SQLite's varint."""
    size = abs(value)
    texts = {
        "decimal": str(value),
        "decimal unsigned": str(size),
        "hex": f"{size:x}",
        "HEX": f"{size:X}",
        "0x hex": f"0x{size:x}",
        "0x HEX": f"0x{size:X}",
    }
    forms = {name: text.encode() for name, text in texts.items()}
    for name in ("decimal unsigned", "hex"):
        forms[f"{name} utf-16-le"] = texts[name].encode("utf-16-le")
        forms[f"{name} utf-16-be"] = texts[name].encode("utf-16-be")
    for size_bytes in (6, 8):
        for order in ("big", "little"):
            forms[f"{size_bytes}-byte {order}-endian"] = value.to_bytes(size_bytes, order, signed=True)
    forms["sqlite varint"] = sqlite_varint(value)
    return forms


def text_forms(text: str) -> dict[str, bytes]:
    """A text as a log, a UTF-8 database, a lower-casing index or a UTF-16 database would hold it."""
    return {
        "utf-8": text.encode(),
        "casefolded utf-8": text.casefold().encode(),
        "utf-16-le": text.encode("utf-16-le"),
        "utf-16-be": text.encode("utf-16-be"),
    }


class Needles:
    """What to look for, each with a label saying whose it is and in which form."""

    def __init__(self) -> None:
        self.labels: dict[bytes, str] = {}

    def add(self, needle: bytes, label: str) -> None:
        if len(needle) < WINDOW:
            raise ValueError(f"{label}: a needle of {len(needle)} bytes would be found by chance")
        self.labels.setdefault(needle, label)

    def add_id(self, value: int, whose: str) -> None:
        for form, needle in id_forms(value).items():
            self.add(needle, f"{whose}: id as {form}")

    def add_text(self, text: str, whose: str) -> None:
        for form, needle in text_forms(text).items():
            self.add(needle, f"{whose}: {text!r} as {form}")

    def __len__(self) -> int:
        return len(self.labels)


class Scanner:
    """Every needle over a file in one pass: each 6-byte window of the file is looked up (with
    numpy, a few million a second) among the needles' first six bytes, and only the rare windows
    that match one are compared in full. Looking for 40,000 needles one by one with bytes.find
    would read each file 40,000 times."""

    def __init__(self, needles: Needles) -> None:
        self.labels = needles.labels
        self.by_prefix: dict[int, list[bytes]] = {}
        for needle in self.labels:
            self.by_prefix.setdefault(int.from_bytes(needle[:WINDOW], "little"), []).append(needle)
        self.prefixes = np.array(sorted(self.by_prefix), dtype=np.uint64)

    def hits(self, data: bytes) -> list[tuple[str, int]]:
        """(label, offset) of every needle found in `data`."""
        found: list[tuple[str, int]] = []
        positions = len(data) - WINDOW + 1
        view = np.frombuffer(data, dtype=np.uint8)
        for start in range(0, max(positions, 0), CHUNK):
            count = min(CHUNK, positions - start)
            window = view[start : start + count + WINDOW - 1].astype(np.uint64)
            keys = window[:count].copy()
            for shift in range(1, WINDOW):
                keys |= window[shift : shift + count] << np.uint64(8 * shift)
            at = np.minimum(np.searchsorted(self.prefixes, keys), len(self.prefixes) - 1)
            for offset in np.nonzero(self.prefixes[at] == keys)[0]:
                position = start + int(offset)
                for needle in self.by_prefix[int(keys[offset])]:
                    if data.startswith(needle, position):
                        found.append((self.labels[needle], position))
        return found

    def scan(self, files: dict[str, bytes]) -> list[tuple[str, str, int]]:
        """(file, label, offset) of every hit in every file."""
        return [(name, label, offset) for name, data in files.items() for label, offset in self.hits(data)]


def assert_none(scanner: Scanner, files: dict[str, bytes], what: str = "canaries on disk") -> None:
    hits = scanner.scan(files)
    assert not hits, f"{what}: {len(hits)} hits, e.g. {hits[:5]}"


def on_disk(database: Path, log: Path) -> dict[str, bytes]:
    """The database, its -wal and -shm as they are now, and the bot's log."""
    return {**raw_files(database), log.name: log.read_bytes()}


def export_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


# -- the scan finds what it looks for ------------------------------------------------------------------


def test_the_scan_finds_every_form_of_a_canary(tmp_path: Path):
    """Planted in noise, and stored by SQLite the careless way (ids as INTEGER, rowids, names as
    TEXT in a UTF-8 and a UTF-16 database), every form of a canary is found where it is; in noise
    alone, nothing is."""
    canaries = make_canaries(50, seed=7)
    needles = Needles()
    for canary in canaries:
        needles.add_id(canary.user_id, f"canary {canary.number}")
        for text in canary.texts:
            needles.add_text(text, f"canary {canary.number}")
    scanner = Scanner(needles)
    rng = random.Random(1)
    planted = bytearray(rng.randbytes(3 * CHUNK // 2))
    where = {}
    for n, needle in enumerate(needles.labels):
        at = 5 + n * (len(planted) - 200) // len(needles)
        planted[at : at + len(needle)] = needle
        where[needle] = at
    found = scanner.hits(bytes(planted))
    expected = {(needles.labels[needle], at) for needle, at in where.items()}
    assert expected <= set(found), sorted(expected - set(found))[:3]
    assert scanner.hits(rng.randbytes(CHUNK)) == []

    for encoding in ("UTF-8", "UTF-16le", "UTF-16be"):
        database = tmp_path / f"careless-{encoding}.sqlite3"
        with sqlite3.connect(database) as conn:
            conn.execute(f"PRAGMA encoding = '{encoding}'")
            conn.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, same_id INTEGER, name TEXT)")
            conn.executemany(
                "INSERT INTO person VALUES (?, ?, ?)", [(c.user_id, c.user_id, c.first_name) for c in canaries]
            )
        labels = {label for label, _offset in scanner.hits(database.read_bytes())}
        for canary in canaries:
            whose = f"canary {canary.number}"
            assert f"{whose}: id as 6-byte big-endian" in labels  # the INTEGER column
            assert f"{whose}: id as sqlite varint" in labels  # the rowid
            form = "utf-8" if encoding == "UTF-8" else encoding.lower().replace("utf-16", "utf-16-")
            assert f"{whose}: {canary.first_name!r} as {form}" in labels


# -- the bot's log, as an operator's server writes it ------------------------------------------------


@pytest.fixture
def clock() -> ReplayClock:
    return ReplayClock(START, speed=60.0)


@pytest.fixture
def config_changes() -> dict[str, dict]:
    # An endorsed demand rises to the regional council at once, so the flow reaches the councils too.
    return {"privacy": {"retention_days": RETENTION_DAYS}, "demands": {"council_committees": 1}}


@pytest.fixture
def bot_log(server: SandboxServer, tmp_path: Path) -> Iterator[Path]:
    """The bot's own handler and levels (bot/logs.py, as `asamblea run` sets them up) at DEBUG, the
    most an operator can ask for, into a file; set up before the bot starts, so the file has all it
    logs. pytest's own handlers stay (setup_logging would replace them), and the sandbox's records
    are left out: it shares the process, but it is Telegram here, not the bot."""
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in CAPPED_LOGGERS}
    path = tmp_path / "asamblea.log"
    with path.open("a", encoding="utf-8") as stream:
        handler = log_handler(secrets=(server.token,), stream=stream)
        handler.addFilter(lambda record: not record.name.startswith(SANDBOX_LOGGERS))
        root.addHandler(handler)
        apply_levels("DEBUG")
        try:
            yield path
        finally:
            root.removeHandler(handler)
            root.setLevel(saved[0])
            for name, level in saved[1].items():
                logging.getLogger(name).setLevel(level)


@pytest.fixture
def quick_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group takes GROUP_PER_MINUTE messages a minute: in the bot's own pacing and in PTB's rate
    limiter under it (the application is built after this, with it); the sandbox's in the test."""
    monkeypatch.setattr(pacing, "GROUP_PER_MINUTE", GROUP_PER_MINUTE)
    monkeypatch.setattr(app, "SendingLimiter", functools.partial(app.SendingLimiter, group_max_rate=GROUP_PER_MINUTE))


# -- playing the movement ----------------------------------------------------------------------------


async def each(items: Iterable[T], act: Callable[[T], Awaitable[Any]], width: int = WIDTH) -> list[Any]:
    """Act for every item, `width` at once, as many people do at the same time."""
    gate = asyncio.Semaphore(width)

    async def one(item: T) -> Any:
        async with gate:
            return await act(item)

    return await asyncio.gather(*(one(item) for item in items))


@dataclass
class Committee:
    """A committee of the play: its chat, its admin, and its members in two cohorts."""

    region: str
    name: str
    chat: int
    admin: dict[str, Any]
    old: list[tuple[Canary, dict[str, Any]]]
    recent: list[tuple[Canary, dict[str, Any]]]
    link: str = ""


@dataclass
class Play:
    """Everything the bot was told, for the scan."""

    canaries: list[Canary]
    people: dict[int, dict[str, Any]]
    councils: dict[str, tuple[int, dict[str, Any]]]
    committees: list[Committee]
    texts: list[str]  # what the delegates wrote: committee names, proposals, mandates, the call
    secrets: list[str]  # the private link's token, the call's verification code


async def enrol(client: SandboxClient, canary: Canary) -> dict[str, Any]:
    return await client.create_user(
        canary.first_name,
        language_code=canary.language,
        username=canary.username,
        last_name=canary.last_name,
        user_id=canary.user_id,
    )


async def link_council(movement: Movement, region: str, admin: dict[str, Any], title: str) -> int:
    chat = await movement.group(title, admin)
    answer = await movement.say(chat, admin, f"/council {await movement.code(region)}")
    assert "now the" in answer["text"], answer["text"]
    return chat


async def register(movement: Movement, committee: Committee, council: tuple[int, dict[str, Any]]) -> None:
    """/register in the group, Approve in the council's chat, as delegates do."""
    chat, admin = committee.chat, committee.admin
    since = await movement.client.seq()
    answer = await movement.say(chat, admin, f"/register {committee.region} workplace {committee.name}")
    assert "Your request has gone" in answer["text"], answer["text"]
    council_chat, council_admin = council
    request = await movement.message_with_buttons(council_chat, committee.name, since)
    await movement.press(council_chat, council_admin, request, "Approve")
    await movement.client.wait_for_text(chat, "approved", since=since, timeout=WAIT_S)


async def set_up(movement: Movement, canaries: list[Canary]) -> Play:
    """Councils and committees registered through the bot, and every member in a committee."""
    client = movement.client
    enrolled = await each(canaries, lambda canary: enrol(client, canary))
    people = {canary.user_id: person for canary, person in zip(canaries, enrolled, strict=True)}
    pool = iter(canaries)
    texts: list[str] = []
    councils: dict[str, tuple[int, dict[str, Any]]] = {}
    for region in REGIONS:
        admin = people[next(pool).user_id]
        title = f"Кеңес {draw(random.Random(region), KAZAKH, 8, set())}"
        councils[region] = (await link_council(movement, region, admin, title), admin)
        texts.append(title)
    committees = []
    rng = random.Random(SEED + 1)
    taken: set[str] = set()
    for region in REGIONS:
        for _n in range(COMMITTEES_PER_REGION):
            admin = people[next(pool).user_id]
            name = f"Комитет {draw(rng, RUSSIAN, 8, taken)} {draw(rng, KAZAKH, 8, taken)}"
            chat = await movement.group(name, admin)
            committees.append(Committee(region, name, chat, admin, old=[], recent=[]))
            texts.append(name)
    await each(committees, lambda c: register(movement, c, councils[c.region]), width=len(committees))
    members = list(pool)
    for n, committee in enumerate(committees):
        mine = [(canary, people[canary.user_id]) for canary in members[n :: len(committees)]]
        cut = len(mine) * 3 // 5  # the last 40 % act two days later
        committee.old, committee.recent = mine[:cut], mine[cut:]
    joins = [(c.chat, person) for c in committees for _canary, person in c.old + c.recent]
    await each(joins, lambda join: client.set_member(join[0], join[1]["id"], "member"))
    return Play(canaries, people, councils, committees, texts, [])


async def put_forward(movement: Movement, committee: Committee, cohort: list[tuple[Canary, dict]]) -> list[dict]:
    """Every member of the cohort puts their demand forward: the first few privately through the
    committee's link, the others with /demand in the group. Their /demand messages are returned
    (an election replies to one)."""
    client = movement.client
    private, public = cohort[:PRIVATE_PER_COHORT], cohort[PRIVATE_PER_COHORT:]

    async def privately(member: tuple[Canary, dict]) -> None:
        canary, person = member
        since = await client.seq()
        await client.send(person["id"], person, f"/start {committee.link}")
        await client.send(person["id"], person, canary.demand)
        await client.wait_for_text(person["id"], "#", since=since, timeout=WAIT_S)  # "Demand #N is posted"

    await each(private, privately)
    return await each(public, lambda m: client.send(committee.chat, m[1], f"/demand {m[0].demand}"))


async def propose(movement: Movement, committee: Committee, proposer: dict, text: str) -> dict:
    """A proposal put to the assembly; returns its message with the vote buttons."""
    since = await movement.client.seq()
    await movement.client.send(committee.chat, proposer, f"/propose {text}")
    return await movement.message_with_buttons(committee.chat, text, since)


async def vote(movement: Movement, chat: int, voters: list[dict], proposal: dict) -> list[str]:
    """Everyone presses Agree; the button presses' ids, to check their answers once handled."""
    return await each(voters, lambda person: movement.client.press_button(chat, person, proposal, "👍 Agree"))


async def voices_taken(movement: Movement, queries: list[str]) -> None:
    """Every press was answered with the voice it gave."""
    await movement.settle()
    answers = await each(queries, movement.answer_to)
    refused = [a["text"] for a in answers if not a["text"].startswith("Your voice")]
    assert not refused, refused[:3]


async def private_chats(movement: Movement, members: list[tuple[Canary, dict]]) -> None:
    """Members pick their language and check a code that is not genuine, in private."""
    client = movement.client

    async def chat(member: tuple[Canary, dict]) -> None:
        canary, person = member
        question = await movement.say(person["id"], person, "/settings")
        other = {"kk": "ru", "ru": "kk", "en": "kk"}[canary.language]
        await movement.press(person["id"], person, question, f"v1:lang:{other}")
        await client.send(person["id"], person, "/verify ABCDE-FGHJK")

    await each(members, chat)


async def old_cohort(movement: Movement, play: Play) -> int:
    """3 January: the private links, the first proposals and the old cohort's demands and voices,
    private chats (how many people had one), and a strike call answered across the region."""
    rng = random.Random(SEED + 2)

    async def committee_acts(committee: Committee) -> list[str]:
        since = await movement.client.seq()
        await movement.client.send(committee.chat, committee.admin, "/demand link")
        link = await movement.client.wait_for_text(committee.chat, "?start=", since=since, timeout=WAIT_S)
        committee.link = "d_" + link["text"].split("?start=d_", 1)[1].split()[0]
        play.secrets.append(committee.link)
        text = f"Ұсыныс {draw(rng, KAZAKH, 8, set())}: ереуіл қоры"
        play.texts.append(text)
        proposal = await propose(movement, committee, committee.admin, text)
        await put_forward(movement, committee, committee.old)
        return await vote(movement, committee.chat, [person for _c, person in committee.old], proposal)

    queries = [q for found in await each(play.committees, committee_acts, width=len(play.committees)) for q in found]
    await voices_taken(movement, queries)
    chatting = [m for c in play.committees for m in c.old[PRIVATE_PER_COHORT:] if m[0].number % PRIVATE_CHAT_EVERY == 0]
    await private_chats(movement, chatting)

    # A strike call to Mangystau; the other committees there join, one reports its head count.
    issuer, *others = [c for c in play.committees if c.region == "mangystau"]
    place, text = f"Қақпа {draw(rng, KAZAKH, 8, set())}", f"Ереуіл {draw(rng, KAZAKH, 8, set())}: біз тоқтаймыз"
    play.texts += [place, text]
    since = await movement.client.seq()
    await movement.call(issuer.chat, issuer.admin, f"/strike now | {place} | {text} | region")

    async def answer(committee: Committee) -> dict:
        copy = await movement.client.wait_for_text(committee.chat, text, since=since, timeout=WAIT_S)
        reply = await movement.press(committee.chat, committee.admin, copy, "✅ We join")
        assert "joins" in reply["text"], reply
        return copy

    copies = await each(others, answer)
    code = next(line.split(": ")[-1] for line in copies[0]["text"].splitlines() if line.startswith("Verification"))
    play.secrets += [code, code.replace("-", "")]
    counted = others[0]
    prompted = await movement.client.seq()
    await movement.press(counted.chat, counted.admin, copies[0], "👥 Report head count")
    prompt = await movement.client.wait_for_text(counted.chat, "How many", since=prompted, timeout=WAIT_S)
    await movement.client.send(counted.chat, counted.admin, "347", reply_to=prompt["message_id"])
    await movement.drained()
    return len(chatting)


async def recent_cohort(movement: Movement, play: Play) -> None:
    """4 January, evening: the recent cohort's demands and voices; in some committees a member puts
    a demand to the assembly, in others the assembly elects a member as delegate."""
    rng = random.Random(SEED + 3)

    async def committee_acts(n: int, committee: Committee) -> list[str]:
        messages = await put_forward(movement, committee, committee.recent)
        text = f"Ұсыныс {draw(rng, KAZAKH, 8, set())}: жиналыс сенбіде"
        play.texts.append(text)
        proposal = await propose(movement, committee, committee.admin, text)
        voters = [person for _c, person in committee.recent]
        queries = await vote(movement, committee.chat, voters, proposal)
        special = voters[PRIVATE_PER_COHORT : PRIVATE_PER_COHORT + VOTERS_ON_SPECIAL]
        since = await movement.client.seq()
        if n % 2 == 0:  # a member puts a demand to the assembly
            await movement.client.send(committee.chat, special[0], "/demands")
            listing = await movement.message_with_buttons(committee.chat, "Demands of this committee", since)
            first = listing["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            await movement.press(committee.chat, special[0], listing, first)
            question = await movement.message_with_buttons(committee.chat, "Endorse demand", since)
        else:  # the assembly elects the author of a demand, with a mandate
            mandate = f"Мандат {draw(rng, KAZAKH, 8, set())}: ештеңеге жалғыз келіспеу"
            play.texts.append(mandate)
            candidate = messages[0]["message_id"]
            await movement.client.send(committee.chat, committee.admin, f"/elect {mandate}", reply_to=candidate)
            question = await movement.message_with_buttons(committee.chat, "Elect a delegate", since)
        return queries + await vote(movement, committee.chat, special, question)

    found = await each(list(enumerate(play.committees)), lambda item: committee_acts(*item), width=len(play.committees))
    await voices_taken(movement, [q for queries in found for q in queries])
    await movement.drained()


# -- looking at the disk ---------------------------------------------------------------------------------


def canary_needles(play: Play, token: str) -> Needles:
    """Every form of every canary, and of what the delegates wrote, the chats' ids and the token."""
    needles = Needles()
    for canary in play.canaries:
        whose = f"canary {canary.number}"
        needles.add_id(canary.user_id, whose)
        for text in canary.texts:
            needles.add_text(text, whose)
    for text in play.texts + play.secrets:
        needles.add_text(text, "a delegate's text or a secret")
    chats = [c.chat for c in play.committees] + [chat for chat, _admin in play.councils.values()]
    for chat in chats:
        needles.add_id(chat, f"chat {chat}")
    needles.add_text(token, "the bot token")
    return needles


async def sealed_rows(movement: Movement) -> dict[str, bytes]:
    """Every ciphertext in the database, by table, column and row (its primary key)."""
    sealed: dict[str, bytes] = {}
    tables = [row[0] for row in await movement.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        info = await movement.query(f"PRAGMA table_info({table})")
        key = " || '/' || ".join(row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]) or "rowid"
        for column in [row[1] for row in info if row[1].endswith("_ct")]:
            query = f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL"
            for row, blob in await movement.query(query):
                sealed[f"{table}.{column} row {row}"] = bytes(blob)
    return sealed


def pieces(blob: bytes) -> Iterator[bytes]:
    """The ciphertext cut in PIECE-byte pieces: one that straddles an overflow page's edge is not
    found whole, its neighbours are."""
    for start in range(0, len(blob) - PIECE + 1, PIECE):
        yield blob[start : start + PIECE]


def log_lines(path: Path, contains: str) -> int:
    return sum(contains in line for line in path.read_text(encoding="utf-8").splitlines())


async def purge_done(path: Path, before: int) -> None:
    """Until the bot logs a purge after `before` of them (the log line follows the rebuild and the
    checkpoint)."""
    while True:
        if log_lines(path, "retention: purged") > before:
            return
        await asyncio.sleep(0.05)


async def decisions_closed(movement: Movement) -> None:
    """Until every decision's deadline alarm has rung (after a jump of the clock)."""
    while True:
        if await movement.query("SELECT count(*) FROM decisions WHERE status = 'open'") == [(0,)]:
            return
        await asyncio.sleep(0.05)


async def exported(tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """`asamblea export` as an operator runs it, in JSON and in CSV, beside the running bot."""
    monkeypatch.setenv("ASAMBLEA_SECRET_KEY", SECRET_KEY.decode())
    config = tmp_path / "config.toml"
    write_config(config, "http://127.0.0.1:9", database, None)
    folder = tmp_path / "export"
    folder.mkdir()
    for fmt, target in (("json", folder / "movement.json"), ("csv", folder / "csv")):
        argv = ["export", "--config", str(config), "--format", fmt, "--output", str(target)]
        assert await asyncio.to_thread(cli_main, argv) == 0
    return export_files(folder)


async def test_a_seized_disk_holds_no_canary(
    bot_log: Path,
    quick_groups: None,
    movement: Movement,
    clock: ReplayClock,
    database: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    await movement.client.set_limits(**HEADROOM)
    play = await set_up(movement, make_canaries())
    chatted = await old_cohort(movement, play)
    # Misses of /verify count for an hour: the purge on the way to OLD_DONE takes them.
    assert await movement.query("SELECT count(*) FROM verify_misses") == [(chatted,)] and chatted > 50
    clock.jump_to(OLD_DONE)
    await decisions_closed(movement)
    await movement.drained()
    clock.jump_to(RECENT)
    await recent_cohort(movement, play)

    # What the flow wrote: every person's demand, every voice, the private paths, the call.
    members = [m for c in play.committees for m in c.old + c.recent]
    assert len(play.people) == CANARIES and len(members) == CANARIES - len(REGIONS) * (1 + COMMITTEES_PER_REGION)
    vias = dict(await movement.query("SELECT via, count(*) FROM demands GROUP BY via"))
    private = 2 * PRIVATE_PER_COHORT * len(play.committees)
    assert vias == {"group": len(members) - private, "private": private}
    assert (await movement.query("SELECT count(*) FROM decision_voices"))[0][0] >= len(members)
    answers = await movement.query("SELECT answer, headcount FROM call_answers ORDER BY headcount DESC")
    assert answers == [("join", 347)] + [("join", None)] * (COMMITTEES_PER_REGION - 2)

    needles = canary_needles(play, movement.server.token)
    scanner = Scanner(needles)
    running = on_disk(database, bot_log)
    assert {f"{database.name}-wal", f"{database.name}-shm"} <= set(running)
    export = await exported(tmp_path, database, monkeypatch)
    # The export has the movement's demands, calls and regions, only nothing personal.
    assert len(json.loads(export["movement.json"])["demands"]) == len(members) and len(export) == 4
    assert_none(scanner, {**running, **export})

    # Before the purge: the sealed rows, and the pseudonyms of those whose data is all old.
    sealed_before = await sealed_rows(movement)
    crypto = movement.store.db.crypto
    old_people = [canary for c in play.committees for canary, _person in c.old]
    traces = Needles()
    for canary in old_people:
        for form, pseudonym in (("user", crypto.user(canary.user_id)), ("private chat", crypto.chat(canary.user_id))):
            whose = f"canary {canary.number}: {form} pseudonym"
            traces.add(pseudonym, whose)
            traces.add(pseudonym.hex().encode(), f"{whose} in hex")
    files = raw_files(database)
    seen = {label for _file, label, _offset in Scanner(traces).scan(files)}
    assert {f"canary {c.number}: user pseudonym" for c in old_people} <= seen, "the scan sees pseudonyms"

    # The clock passes the retention period: the daily purge takes everything before the cutoff.
    purges = log_lines(bot_log, "retention: purged")
    clock.jump_to(SEIZED)
    await purge_done(bot_log, purges)
    await decisions_closed(movement)
    await movement.drained()
    cutoff = (await movement.query("SELECT cutoff FROM retention_runs"))[0][0]
    assert OLD_DONE < cutoff < RECENT and cutoff >= SEIZED - RETENTION_DAYS * DAY_S
    assert await movement.query("SELECT count(*) FROM demands WHERE created_at < ?", cutoff) == [(0,)]
    recent_demands = sum(len(c.recent) for c in play.committees)
    assert await movement.query("SELECT count(*) FROM demands") == [(recent_demands,)]
    sealed_after = await sealed_rows(movement)
    # A purged row's key is gone (SQLite gives a new row the largest id plus one, and newer rows stay).
    purged = {where: blob for where, blob in sealed_before.items() if where not in sealed_after}
    assert sum(where.startswith("demands.text_ct") for where in purged) == len(old_people)
    for where, blob in purged.items():
        for n, piece in enumerate(pieces(blob)):
            traces.add(piece, f"{where}, piece {n}")
    trace_scanner = Scanner(traces)
    # Every purged ciphertext was on disk before: the scan would see it if it lingered.
    lingering_before = {label.split(", piece")[0] for _f, label, _o in trace_scanner.scan(files)}
    assert set(purged) <= lingering_before

    after_purge = on_disk(database, bot_log)
    assert_none(trace_scanner, after_purge, "purged data lingers")
    assert_none(scanner, after_purge)
    assert b"could not be truncated" not in after_purge[bot_log.name]

    # The bot stops (a seizure after a shutdown): the database alone, and the log, hold nothing.
    await stop_polling_application(movement.app)
    stopped = on_disk(database, bot_log)
    assert stopped[database.name]
    assert_none(trace_scanner, stopped, "purged data lingers")
    assert b"retention: purged" in stopped[bot_log.name] and b"a decision closed" in stopped[bot_log.name]
    assert_none(scanner, stopped)
    sizes = {name: len(data) for name, data in {**running, **export}.items()}
    print(
        f"\nseized disk: {CANARIES} canaries, {len(needles)} needles; {len(purged)} purged rows, {len(traces)} "
        f"purged traces; scanned running {sizes}, after the purge {sorted(after_purge)}, stopped {sorted(stopped)}; "
        "0 hits"
    )
