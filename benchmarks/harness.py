"""What the benchmarks share: a sandbox, a seeded movement, the real bot as a process, a call.

The broadcast and crash benchmarks measure the bot as an operator runs it, so nothing is done
in-process (the ingest benchmark uses only the sandbox process and the folder from here, and
runs the Application in its own process to see each update enter its queue; see ingest.py):

- the Bot API sandbox runs in its own process with Telegram's limits on (`python -m bot.sandbox
  --port 0`), and the bot in another (`python -m bot run --config ...`), each pinned to its own
  CPU where there are two or more, so neither steals the other's core and a kill -9 of the bot
  is a real kill -9;
- setup is not measured: the committees (active, spread over the federation's regions) and the
  coordinating council's link are written straight into the database with the storage
  repositories before the bot starts, and the chats are created in the sandbox without telling
  the bot (no updates for them), so the only thing the committee chats ever get is the call;
- the call is issued as a coordinator issues it (`/call ...` in the council chat, then the
  preview's Send button), and the clock starts at that press;
- deliveries are read from the sandbox's log of sent messages, incrementally (`/sandbox/sent`
  since the last seq seen, a few times a second, so the poller costs the bot nothing; a long
  poll only where a wait must end at a delivery) and timed by the sandbox's own `sent_at` stamp
  of each message, not by the polling granularity; the counts are taken once the bot has gone
  quiet, so a late duplicate is not missed.

Everything started is stopped again, on success, error, Ctrl-C or SIGTERM (and, on Linux, the
children die with the harness even if it is killed); the temporary folder with the config, the
database and the logs is removed unless `--keep` is given, which also saves the sandbox's
stats, call log and sent log there as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bot.sandbox import SandboxClient
from bot.sandbox.client import SandboxTimeout

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "config.example.toml"

# The coordinator's call, and how its preview's confirm button is recognised (the handler's contract).
CALL_COMMAND = "/call strike now | Everywhere | General strike until our demands are met | all"
SEND_LABEL = "Send"
SEND_DATA_PREFIX = "v1:cs:"

# Telegram's documented overall limit: about 30 messages per second for one bot. The sandbox
# enforces it as 30 sends (messages and edits) per sliding second.
GLOBAL_MESSAGES_PER_SECOND = 30

POLL_INTERVAL_S = 0.3  # how often the sent log is read while a broadcast runs
PROGRESS_EVERY_S = 5.0  # how often a progress line goes to stderr
STALL_S = 60.0  # give up when no committee message arrived for this long
READY_TIMEOUT_S = 60.0  # for the sandbox's URL, the bot's first poll, the call's preview
SETTLE_QUIET_S = 2.0  # after the last delivery, how long the bot must be quiet before counting
SETUP_CONCURRENCY = 16  # control-API requests in flight while creating the chats


class BenchError(RuntimeError):
    """The benchmark could not run (not: the bot did badly, which is a result)."""


def progress(message: str) -> None:
    """A progress line on stderr; stdout is kept for the JSON result."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    """What the figures were measured on, for docs/benchmarks.md."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "platform": platform.platform(),
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


# --- processes ------------------------------------------------------------------------------


def _cpu_plan() -> tuple[set[int] | None, set[int] | None]:
    """CPUs for (sandbox, bot): the last usable CPU for the sandbox, the others for the bot."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return {cpus[-1]}, set(cpus[:-1])


def _child_setup(cpus: set[int] | None) -> Callable[[], None] | None:
    """Run in the child before exec: pin it to `cpus`, and have it killed if the harness dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        prctl = None
    pr_set_pdeathsig = 1

    def setup() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)
        if prctl is not None:
            prctl(pr_set_pdeathsig, signal.SIGKILL)

    return setup


async def _stop(process: asyncio.subprocess.Process | None, *, graceful: bool, within: float) -> None:
    """SIGINT and wait (when graceful), then SIGKILL; always reaps the process."""
    if process is None or process.returncode is not None:
        return
    if graceful:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), within)
            return
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    return ""


# --- deliveries -----------------------------------------------------------------------------


@dataclass
class Deliveries:
    """The bot's messages in the committee chats, read incrementally from the sandbox's sent log.

    A message counts once, however often it is edited later; a deleted one still counts (a
    member saw it). `first_at` is the sandbox's `sent_at` of each chat's first message."""

    chats: frozenset[int]
    per_chat: Counter[int] = field(default_factory=Counter)
    first_at: dict[int, float] = field(default_factory=dict)
    total: int = 0  # committee messages, duplicates included
    without_buttons: int = 0
    cursor: int = 0  # the highest seq read from the sent log
    progressed_at: float = field(default_factory=time.monotonic)
    _seen: set[tuple[int, int]] = field(default_factory=set)

    @property
    def reached(self) -> int:
        return len(self.first_at)

    @property
    def complete(self) -> bool:
        return self.reached == len(self.chats)

    @property
    def lost(self) -> int:
        return len(self.chats) - self.reached

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.per_chat.values() if count > 1)

    @property
    def last_first_at(self) -> float | None:
        """When the last chat got its (first) message: the moment the broadcast was complete."""
        return max(self.first_at.values(), default=None)

    def ingest(self, records: Iterable[dict[str, Any]]) -> int:
        """Take sent-log records; returns how many new committee messages they held."""
        new = 0
        for record in records:
            self.cursor = max(self.cursor, int(record["seq"]))
            chat = int(record["chat_id"])
            key = (chat, int(record["message_id"]))
            if chat not in self.chats or key in self._seen:
                continue
            self._seen.add(key)
            new += 1
            self.total += 1
            self.per_chat[chat] += 1
            at = float(record["sent_at"])
            self.first_at[chat] = min(at, self.first_at.get(chat, at))
            markup = (record.get("original") or {}).get("reply_markup") or {}
            if not markup.get("inline_keyboard"):
                self.without_buttons += 1
        if new:
            self.progressed_at = time.monotonic()
        return new

    async def poll(self, client: SandboxClient, wait_s: float = 0.0) -> int:
        """Read what is new; with `wait_s`, long-poll the sandbox until something is sent."""
        if wait_s <= 0:
            return self.ingest(await client.sent(self.cursor))
        try:
            return self.ingest(await client.wait_for(None, since=self.cursor, timeout=wait_s))
        except SandboxTimeout:
            return 0

    def summary(self) -> str:
        return f"{self.reached}/{len(self.chats)} committee chats reached, {self.duplicates} duplicates"


# --- the harness ----------------------------------------------------------------------------


@dataclass
class Movement:
    """What the harness created in the sandbox (ids only)."""

    council_chat: int
    council_admin: int
    committee_chats: list[int]
    committee_admins: list[int]


@dataclass
class IssuedCall:
    pressed_at: float  # time.time() just before the Send press was handed to the sandbox
    too_many_requests: int  # the sandbox's 429 count at that moment


class Harness:
    """The sandbox and the bot as processes, a movement of `chats` committees, and a call."""

    def __init__(
        self,
        chats: int,
        *,
        keep: bool = False,
        stall_s: float = STALL_S,
        limits: bool = True,
        log_level: str = "WARNING",
    ) -> None:
        if chats < 1:
            raise ValueError("at least one committee chat")
        self.chats = chats
        self.keep = keep
        self.limits = limits  # Telegram's limits in the sandbox; off where the bot itself is measured
        self.log_level = log_level  # the bot's; INFO where a benchmark reads what it says at start
        self.stall_s = stall_s
        self.workdir = Path(tempfile.mkdtemp(prefix="asamblea-bench-"))
        self.config_path = self.workdir / "config.toml"
        self.database = self.workdir / "asamblea.sqlite3"
        self.sandbox_log = self.workdir / "sandbox.log"
        self.bot_log = self.workdir / "bot.log"
        self.token = f"{700_000_000 + secrets.randbelow(100_000_000)}:BENCH-{secrets.token_hex(16)}"
        self.secret_key = secrets.token_urlsafe(32)
        self.sandbox_cpus, self.bot_cpus = _cpu_plan()
        self.sandbox: asyncio.subprocess.Process | None = None
        self.bot: asyncio.subprocess.Process | None = None
        self.bot_starts = 0
        self.base_url = ""
        self._client: SandboxClient | None = None
        self._logs: list[IO[bytes]] = []
        self.movement: Movement | None = None

    @property
    def client(self) -> SandboxClient:
        if self._client is None:
            raise RuntimeError("the harness is not started")
        return self._client

    def pinning(self) -> dict[str, list[int]] | None:
        if self.sandbox_cpus is None or self.bot_cpus is None:
            return None
        return {"sandbox": sorted(self.sandbox_cpus), "bot": sorted(self.bot_cpus)}

    async def __aenter__(self) -> Harness:
        try:
            await self._start_sandbox()
        except BaseException:
            await self.close(graceful=False)
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        await self.close(graceful=exc_type is None)

    async def close(self, *, graceful: bool) -> None:
        """Stop the bot and the sandbox, close the logs, remove the folder unless kept."""
        with contextlib.suppress(Exception):
            await _stop(self.bot, graceful=graceful, within=20.0)
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None
        with contextlib.suppress(Exception):
            await _stop(self.sandbox, graceful=graceful, within=10.0)
        for handle in self._logs:
            with contextlib.suppress(OSError):
                handle.close()
        self._logs.clear()
        if self.keep:
            progress(f"kept {self.workdir} (config, database, logs, the sandbox's records)")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _log_file(self, path: Path) -> IO[bytes]:
        handle = path.open("ab")
        self._logs.append(handle)
        return handle

    # -- the sandbox -------------------------------------------------------------------------
    async def _start_sandbox(self) -> None:
        self.sandbox = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.sandbox", "--port", "0", "--token", self.token,
            *(() if self.limits else ("--no-limits",)),
            stdin=asyncio.subprocess.DEVNULL, stdout=self._log_file(self.sandbox_log), stderr=asyncio.subprocess.STDOUT,
            cwd=self.workdir, start_new_session=True, preexec_fn=_child_setup(self.sandbox_cpus),
        )  # fmt: skip
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:  # its first line is the base URL (it picked a free port)
            first = self.sandbox_log.read_text(encoding="utf-8", errors="replace").split("\n", 1)
            if len(first) == 2 and first[0].startswith("http"):
                self.base_url = first[0].strip()
                break
            if self.sandbox.returncode is not None or time.monotonic() > deadline:
                raise BenchError(f"the sandbox did not start:\n{_tail(self.sandbox_log)}")
            await asyncio.sleep(0.05)
        self._client = SandboxClient(self.base_url, timeout=60.0)
        limits = await self.client.limits()
        if bool(limits.get("enabled")) != self.limits:
            raise BenchError(f"the sandbox's rate limits are {'off' if self.limits else 'on'}")
        progress(f"sandbox at {self.base_url} with Telegram's limits {'on' if self.limits else 'off'} ({self.workdir})")

    # -- the movement ------------------------------------------------------------------------
    def write_config(self) -> None:
        """config.example.toml with the sandbox as server, short polls, the database here, English."""
        text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
        for pattern, value in (
            (r'^base_url = ".*"$', f"base_url = {json.dumps(self.base_url)}"),
            (r"^poll_timeout = \d+$", "poll_timeout = 2"),
            (r'^path = ".*"$', f"path = {json.dumps(str(self.database))}"),
            (r'^default_language = ".*"$', 'default_language = "en"'),
        ):
            text, count = re.subn(pattern, lambda _, line=value: line, text, count=1, flags=re.MULTILINE)
            if count != 1:
                raise BenchError(f"config.example.toml has no line matching {pattern!r}")
        self.config_path.write_text(text, encoding="utf-8")
        from bot.config import load_config

        config = load_config(self.config_path)
        expected = (self.base_url, 2, str(self.database), "en")
        found = (config.telegram.base_url, config.telegram.poll_timeout, config.storage_path, config.default_language)
        if found != expected or config.telegram.mode != "polling":
            raise BenchError(f"the benchmark config did not come out as meant: {found}")

    async def create_movement(self) -> Movement:
        """A council chat and `chats` committee supergroups, each with its admin; the bot is told nothing."""
        client = self.client
        admin = await client.create_user("Council coordinator")
        council = await client.create_group("Coordinating council", admin, supergroup=True, announce=False)
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def committee(number: int) -> tuple[int, int]:
            async with gate:
                delegate = await client.create_user(f"Delegate {number}")
                group = await client.create_group(
                    f"Strike committee {number:04d}", delegate, supergroup=True, announce=False
                )
                return int(group["id"]), int(delegate["id"])

        made = await asyncio.gather(*(committee(n) for n in range(1, self.chats + 1)))
        self.movement = Movement(
            council_chat=int(council["id"]),
            council_admin=int(admin["id"]),
            committee_chats=[chat for chat, _ in made],
            committee_admins=[user for _, user in made],
        )
        return self.movement

    async def seed(self) -> None:
        """Every committee active, round-robin over the committee regions; the root council linked."""
        from bot.config import load_config
        from domain.committees import Status
        from storage import Store

        movement = self.movement
        if movement is None:
            raise RuntimeError("create_movement() first")
        config = load_config(self.config_path)
        regions = [region.id for region in config.federation.committee_regions()]
        now = int(time.time())
        store = await Store.open(config.storage_path, self.secret_key.encode())
        try:
            async with store.db.transaction() as tx:
                pairs = zip(movement.committee_chats, movement.committee_admins, strict=True)
                for number, (chat, delegate) in enumerate(pairs):
                    committee = await store.committees.register(
                        tx,
                        chat_id=chat,
                        name=f"Strike committee {number + 1:04d}",
                        region=regions[number % len(regions)],
                        kind="workplace",
                        registered_by=delegate,
                        now=now,
                    )
                    await store.committees.set_status(
                        tx, committee.id, Status.ACTIVE, decided_by=movement.council_admin, now=now
                    )
                await store.councils.link(
                    tx,
                    region=config.federation.root.id,
                    chat_id=movement.council_chat,
                    chat_type="supergroup",
                    linked_by=movement.council_admin,
                    now=now,
                )
        finally:
            await store.close()

    async def prepare(self) -> Movement:
        """Config, chats, database: everything before the bot starts."""
        self.write_config()
        started = time.monotonic()
        movement = await self.create_movement()
        await self.seed()
        progress(
            f"{self.chats} committees active in {len(movement.committee_chats)} sandbox chats, "
            f"council linked ({time.monotonic() - started:.1f} s)"
        )
        return movement

    # -- the bot -----------------------------------------------------------------------------
    async def start_bot(self, *, wait_polling: bool = True) -> None:
        """`asamblea run` as its own process; with `wait_polling`, until its first getUpdates."""
        polls = int((await self.client.stats())["polls"])
        self.bot_starts += 1
        log = self._log_file(self.bot_log)
        log.write(f"--- bench: bot start #{self.bot_starts} ---\n".encode())
        log.flush()
        env = {**os.environ, "ASAMBLEA_BOT_TOKEN": self.token, "ASAMBLEA_SECRET_KEY": self.secret_key}
        env.pop("ASAMBLEA_OPERATOR_CHAT_ID", None)
        self.bot = await asyncio.create_subprocess_exec(
            *self.bot_command(),
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT, env=env,
            cwd=self.workdir, start_new_session=True, preexec_fn=_child_setup(self.bot_cpus),
        )  # fmt: skip
        if not wait_polling:
            return
        deadline = time.monotonic() + READY_TIMEOUT_S
        while int((await self.client.stats())["polls"]) <= polls:
            self.check_bot()
            if time.monotonic() > deadline:
                raise BenchError(f"the bot did not start polling within {READY_TIMEOUT_S:.0f} s:\n{self.bot_tail()}")
            await asyncio.sleep(0.1)

    def bot_command(self) -> list[str]:
        """`asamblea run` exactly as an operator starts it (the secrets come from the environment)."""
        return [sys.executable, "-m", "bot", "run", "--config", str(self.config_path), "--log-level", self.log_level]

    async def kill_bot(self) -> None:
        """kill -9, and reap it."""
        if self.bot is not None and self.bot.returncode is None:
            self.bot.kill()
            await self.bot.wait()

    async def stop_bot(self) -> None:
        """Stop it as an operator does (SIGINT), so that its database can be opened and read."""
        await _stop(self.bot, graceful=True, within=20.0)

    def check_bot(self) -> None:
        """Raise if the bot exited on its own."""
        if self.bot is not None and self.bot.returncode is not None:
            raise BenchError(f"the bot exited with code {self.bot.returncode}:\n{self.bot_tail()}")

    def bot_tail(self) -> str:
        return _tail(self.bot_log)

    # -- the call ----------------------------------------------------------------------------
    async def issue_call(self) -> IssuedCall:
        """The coordinator sends /call in the council chat and presses the preview's Send button."""
        movement = self.movement
        if movement is None:
            raise RuntimeError("prepare() first")
        client = self.client
        cursor = await client.seq()
        await client.send(movement.council_chat, movement.council_admin, CALL_COMMAND)
        said: list[str] = []
        deadline = time.monotonic() + READY_TIMEOUT_S
        button: tuple[int, str] | None = None
        while button is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                heard = " | ".join(text.replace("\n", " ")[:200] for text in said) or "nothing"
                raise BenchError(
                    f"no preview with a {SEND_LABEL!r} button ({SEND_DATA_PREFIX}...) in the council chat "
                    f"within {READY_TIMEOUT_S:.0f} s; the bot said: {heard}"
                )
            self.check_bot()
            try:
                found = await client.wait_for(movement.council_chat, since=cursor, timeout=min(remaining, 2.0))
            except SandboxTimeout:
                continue
            for message in found:
                cursor = max(cursor, int(message["seq"]))
                said.append(message.get("text") or message.get("caption") or "")
                button = button or _send_button(message)
        message_id, data = button
        too_many = int((await client.stats())["too_many_requests"])
        pressed_at = time.time()
        await client.press(movement.council_chat, movement.council_admin, message_id, data)
        progress("call issued: Send pressed in the council chat")
        return IssuedCall(pressed_at=pressed_at, too_many_requests=too_many)

    def deliveries(self) -> Deliveries:
        movement = self.movement
        if movement is None:
            raise RuntimeError("prepare() first")
        return Deliveries(frozenset(movement.committee_chats))

    async def follow(
        self,
        deliveries: Deliveries,
        since: float,
        until: Callable[[Deliveries], bool] = lambda d: d.complete,
        *,
        long_poll: bool = False,
    ) -> str:
        """Read deliveries until `until` holds ("done"), nothing arrives for the stall time
        ("stalled"), or the bot exits on its own ("bot exited with code N").

        Reads every POLL_INTERVAL_S; with `long_poll`, the sandbox answers as soon as the bot
        sent anything, for waits that must end at the very moment of a delivery."""
        next_report = time.monotonic() + PROGRESS_EVERY_S
        while True:
            await deliveries.poll(self.client, wait_s=1.0 if long_poll else 0.0)
            if until(deliveries):
                return "done"
            if self.bot is not None and self.bot.returncode is not None:
                progress(f"the bot exited with code {self.bot.returncode}:\n{self.bot_tail()}")
                return f"bot exited with code {self.bot.returncode}"
            if time.monotonic() - deliveries.progressed_at > self.stall_s:
                progress(f"nothing delivered for {self.stall_s:.0f} s; giving up: {deliveries.summary()}")
                return "stalled"
            if time.monotonic() >= next_report:
                progress(f"{deliveries.summary()}, {time.time() - since:.1f} s since Send")
                next_report += PROGRESS_EVERY_S
            if not long_poll:
                await asyncio.sleep(POLL_INTERVAL_S)

    async def settle(self, deliveries: Deliveries) -> None:
        """Wait for the bot to go quiet, so a late duplicate is still counted; then read it all."""
        with contextlib.suppress(SandboxTimeout):
            await self.client.wait_idle(timeout=30.0, quiet=SETTLE_QUIET_S)
        await deliveries.poll(self.client)
        stats = await self.client.stats()
        counted = {int(chat): n for chat, n in stats["messages_per_chat"].items() if int(chat) in deliveries.chats}
        if counted != dict(deliveries.per_chat):
            progress("warning: the sandbox's per-chat counts differ from the sent log read incrementally")
        if deliveries.without_buttons:
            progress(f"warning: {deliveries.without_buttons} committee messages carry no inline buttons")
        await self.save_records(stats)

    async def save_records(self, stats: dict[str, Any] | None = None) -> None:
        """With `keep`, for looking into a result afterwards: what the sandbox saw, request by request."""
        if not self.keep:
            return
        for name, data in (
            ("stats", stats if stats is not None else await self.client.stats()),
            ("calls", await self.client.calls()),
            ("sent", await self.client.sent()),
        ):
            (self.workdir / f"sandbox-{name}.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    async def too_many_requests_since(self, call: IssuedCall) -> int:
        return int((await self.client.stats())["too_many_requests"]) - call.too_many_requests


def _send_button(message: dict[str, Any]) -> tuple[int, str] | None:
    """(message_id, callback_data) of the preview's confirm button, if the message has it."""
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data") or ""
            if SEND_LABEL in (button.get("text") or "") and data.startswith(SEND_DATA_PREFIX):
                return int(message["message_id"]), data
    return None


# --- running one benchmark from the command line ------------------------------------------------


def run(name: str, measure: Callable[[], Awaitable[dict[str, Any]]]) -> int:
    """Run `measure`, print its result as one JSON line on stdout.

    The exit status says whether the benchmark ran to its end (0), not whether the targets were
    met: 1 if it could not run or did not finish (an "error" in the result: the bot stalled or
    exited on its own, no call preview, ...).

    Ctrl-C and SIGTERM cancel it (its harness then stops what it started): 130."""

    async def main() -> dict[str, Any]:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        return await measure()

    try:
        result = {"benchmark": name, **asyncio.run(main())}
        status = 1 if "error" in result else 0
    except (KeyboardInterrupt, asyncio.CancelledError):
        progress("interrupted")
        result, status = {"benchmark": name, "error": "interrupted", "machine": machine()}, 130
    except BenchError as exc:
        progress(str(exc))
        result, status = {"benchmark": name, "error": str(exc).split("\n", 1)[0], "machine": machine()}, 1
    except Exception as exc:  # the sandbox died, a control request failed, ...: still one JSON line
        progress("failed:\n" + traceback.format_exc().rstrip())
        result, status = {"benchmark": name, "error": f"{type(exc).__name__}: {exc}", "machine": machine()}, 1
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return status
