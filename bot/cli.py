"""The `asamblea` command: run the bot, the offline demo, the sandbox, and operator tasks."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.config import Config, ConfigError, load_config
from bot.credentials import CredentialError, credential_problems, load_credentials

EXIT_PROBLEM = 1
T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="asamblea", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the bot (polling or webhook, as the config says)")
    run.add_argument("--config", required=True, type=Path)
    run.add_argument("--log-level", default="INFO")

    demo = commands.add_parser("demo", help="the offline demo against the built-in Bot API sandbox")
    demo.add_argument("--output", type=Path, default=Path("demo-output"), help="folder for the demo's files")

    check = commands.add_parser("check-config", help="check a config file and the secrets it needs")
    check.add_argument("config", type=Path)
    check.add_argument(
        "--require-secrets", action="store_true", help="also fail when a secret is not set in this environment"
    )

    sandbox = commands.add_parser("sandbox", help="run the Bot API sandbox alone, to try the bot by hand")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.add_argument("--token", default="123456:SANDBOX-TOKEN")
    sandbox.add_argument("--no-limits", action="store_true", help="do not enforce Telegram's rate limits")

    code = commands.add_parser("council-code", help="print a one-time code that links a chat as a council")
    code.add_argument("--config", required=True, type=Path)
    code.add_argument(
        "--council", required=True, help="the region id of the council (the root for the coordinating council)"
    )

    export = commands.add_parser("export", help="write the movement's aggregates (no personal data) as JSON or CSV")
    export.add_argument("--config", required=True, type=Path)
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument(
        "--output", required=True, help="a JSON file, or a new folder for the CSV tables; '-' writes JSON to stdout"
    )

    wipe = commands.add_parser(
        "wipe", help="destroy the database's key and empty it: nothing in it can be read again (crypto-shredding)"
    )
    wipe.add_argument("--config", required=True, type=Path)
    wipe.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    bench = commands.add_parser(
        "bench", help="the benchmarks of SPEC §5, against the sandbox; one JSON object as the last line of stdout"
    )
    benchmarks = bench.add_subparsers(dest="benchmark", required=True)
    broadcast = benchmarks.add_parser("broadcast", help="one call to many committee chats under Telegram's limits")
    broadcast.add_argument("--chats", type=_at_least(1), default=1000, help="committee chats to reach (default 1000)")
    crash = benchmarks.add_parser("crash", help="kill -9 the bot again and again during a broadcast, restarting it")
    crash.add_argument("--chats", type=_at_least(1), default=500, help="committee chats to reach (default 500)")
    crash.add_argument("--kills", type=_at_least(0), default=20, help="how many times to kill the bot (default 20)")
    crash.add_argument("--seed", type=int, default=None, help="seed of the random kill points (default: random)")
    kill_updates = benchmarks.add_parser(
        "kill-updates", help="kill -9 the bot again and again while it handles demands and presses, restarting it"
    )
    kill_updates.add_argument("--committees", type=_at_least(1), default=100, help="committee groups (default 100)")
    kill_updates.add_argument(
        "--members", type=_at_least(1), default=4, help="members of each committee, its delegate among them (default 4)"
    )
    kill_updates.add_argument(
        "--kills", type=_at_least(0), default=50, help="how many times to kill the bot (default 50)"
    )
    kill_updates.add_argument(
        "--rate", type=float, default=20.0, help="updates a second the members send, in turns (default 20)"
    )
    kill_updates.add_argument(
        "--seed", type=int, default=None, help="seed of the stream and the kill points (default: random)"
    )
    kill_updates.add_argument(
        "--no-catch-up",
        action="store_true",
        help="kill again before the restarted bot has handled what came while it was down (overload)",
    )
    for each in (broadcast, crash, kill_updates):
        each.add_argument("--keep", action="store_true", help="keep the temporary folder (config, database, logs)")
        each.add_argument(
            "--stall", type=float, default=60.0, help="give up when no committee message arrives for so many seconds"
        )
    ingest = benchmarks.add_parser(
        "ingest", help="demand submissions and vote presses through the whole bot, with many committees stored"
    )
    ingest.add_argument("--committees", type=_at_least(1), default=10_000, help="committees stored (default 10000)")
    ingest.add_argument("--demands", type=_at_least(0), default=1_000_000, help="demands stored (default 1000000)")
    ingest.add_argument(
        "--active", type=_at_least(1), default=1_000, help="committees in session, which the updates come from"
    )
    ingest.add_argument("--updates", type=_at_least(1), default=10_000, help="updates per measured phase")
    ingest.add_argument(
        "--warmup",
        type=_at_least(0),
        default=1_000,
        help="random updates before measuring, after a demand and votes in every committee in session (default 1000)",
    )
    ingest.add_argument("--rate", type=float, default=1000.0, help="updates/s offered in the latency phase")
    ingest.add_argument("--votes", type=float, default=0.5, help="share of the updates that are vote presses")
    ingest.add_argument("--seed", type=int, default=1, help="seed of the stored texts and of the workload")
    ingest.add_argument("--no-cache", action="store_true", help="write the database anew, do not keep it")
    ingest.add_argument("--keep", action="store_true", help="keep the temporary folder (config, database, logs)")
    ingest.add_argument("--profile", type=Path, help="write cProfile stats of the bot's throughput phase here")
    digest = benchmarks.add_parser("digest", help="the coordinating council's digest and spread chart, at scale")
    digest.add_argument("--committees", type=_at_least(1), default=10_000, help="committees stored (default 10000)")
    digest.add_argument("--demands", type=_at_least(0), default=100_000, help="demands stored (default 100000)")
    digest.add_argument("--calls", type=_at_least(0), default=1_000, help="calls stored (default 1000)")
    digest.add_argument("--seed", type=int, default=1, help="seed of the stored movement")
    digest.add_argument("--no-cache", action="store_true", help="write the database anew, do not keep it")
    digest.add_argument("--keep", action="store_true", help="keep the temporary folder (database, digest, chart)")
    flood = benchmarks.add_parser(
        "flood", help="others' waits while one person floods a committee's group and another their private chat"
    )
    flood.add_argument(
        "--per-minute", type=_at_least(1), default=1000, help="messages a minute of each flood (default 1000)"
    )
    flood.add_argument("--seconds", type=_at_least(1), default=60, help="how long the floods last (default 60)")
    flood.add_argument("--keep", action="store_true", help="keep the temporary folder (config, database, logs)")

    args = parser.parse_args(argv)
    handler = {
        "run": _run,
        "demo": _demo,
        "check-config": _check_config,
        "sandbox": _sandbox,
        "council-code": _council_code,
        "export": _export,
        "wipe": _wipe,
        "bench": _bench,
    }[args.command]
    return handler(args)


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    parse.__name__ = "number"
    return parse


def _load(path: Path) -> Config | None:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return None


def _check_config(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return EXIT_PROBLEM
    problems = credential_problems(config, require_env=args.require_secrets)
    for problem in problems:
        print(f"{args.config}: {problem}", file=sys.stderr)
    if problems:
        return EXIT_PROBLEM
    for missing in credential_problems(config, require_env=True):
        print(f"{args.config}: note: {missing} — `asamblea run` needs it", file=sys.stderr)
    federation = config.federation
    print(
        f"{args.config}: OK — {federation.name}: {len(federation.committee_regions())} committee regions, "
        f"{len(federation.councils)} councils, mode {config.telegram.mode}, server {config.telegram.base_url}"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken

    from bot import collector
    from bot.app import ALLOWED_UPDATES, build_application, run_polling
    from bot.logs import setup_logging
    from storage import WrongSecretKey

    config = _load(args.config)
    if config is None:
        return EXIT_PROBLEM
    try:
        credentials = load_credentials(config)
    except CredentialError as exc:
        for problem in exc.problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        return EXIT_PROBLEM
    setup_logging(args.log_level, secrets=(credentials.bot_token,))
    application = build_application(config, credentials)
    collector.settle()  # everything is imported and built (bot/collector.py)
    try:
        if config.telegram.mode == "webhook":
            hook = config.telegram.webhook
            application.run_webhook(
                listen=hook.listen,
                port=hook.port,
                url_path=hook.url_path,
                webhook_url=hook.public_url,
                secret_token=secrets.token_urlsafe(32),
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            asyncio.run(run_polling(application, poll_timeout=config.telegram.poll_timeout))
    except WrongSecretKey as exc:
        print(f"asamblea: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    except InvalidToken:
        print("asamblea: the Bot API server refused the token (ASAMBLEA_BOT_TOKEN)", file=sys.stderr)
        return EXIT_PROBLEM
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(args.output))


def _sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.cli import run as run_sandbox

    run_sandbox(args.host, args.port, args.token, not args.no_limits)
    return 0


def _bench(args: argparse.Namespace) -> int:
    try:
        import benchmarks  # noqa: F401
    except ModuleNotFoundError as exc:
        # An editable install maps only the packaged folders; the benchmarks live beside them.
        checkout = Path(__file__).resolve().parent.parent
        if exc.name != "benchmarks" or not (checkout / "benchmarks" / "__init__.py").is_file():
            raise
        sys.path.insert(0, str(checkout))
    if args.benchmark == "broadcast":
        from benchmarks import broadcast

        return broadcast.main(args.chats, keep=args.keep, stall_s=args.stall)
    if args.benchmark == "ingest":
        from benchmarks import ingest

        return ingest.main(
            args.committees,
            args.demands,
            args.active,
            args.updates,
            warmup=args.warmup,
            rate=args.rate,
            votes=args.votes,
            seed=args.seed,
            use_cache=not args.no_cache,
            keep=args.keep,
            profile=args.profile,
        )
    if args.benchmark == "digest":
        from benchmarks import digest

        return digest.main(
            args.committees, args.demands, args.calls, seed=args.seed, keep=args.keep, use_cache=not args.no_cache
        )
    if args.benchmark == "flood":
        from benchmarks import flood

        return flood.main(args.per_minute, args.seconds, keep=args.keep)
    if args.benchmark == "kill-updates":
        from benchmarks import crash_updates

        return crash_updates.main(
            args.committees,
            args.members,
            args.kills,
            args.rate,
            args.seed,
            keep=args.keep,
            stall_s=args.stall,
            catch_up=not args.no_catch_up,
        )
    from benchmarks import crash

    return crash.main(args.chats, args.kills, args.seed, keep=args.keep, stall_s=args.stall)


def _export(args: argparse.Namespace) -> int:
    import json

    from bot.export import ExportRefused, check_target, collect, write

    config = _load(args.config)
    if config is None:
        return EXIT_PROBLEM
    to_stdout = args.output == "-"
    if to_stdout and args.format != "json":
        print("asamblea export: CSV is several tables; give --output a new folder for them", file=sys.stderr)
        return EXIT_PROBLEM
    output = Path(args.output)
    try:
        if not to_stdout:
            check_target(output, args.format)
        credentials = load_credentials(config, need_token=False)
    except ExportRefused as exc:
        print(f"asamblea export: cannot write there: {exc}. Nothing was written.", file=sys.stderr)
        return EXIT_PROBLEM
    except CredentialError as exc:
        for problem in exc.problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        return EXIT_PROBLEM
    if not Path(config.storage_path).is_file():
        print(f"asamblea export: no database at {config.storage_path}", file=sys.stderr)
        return EXIT_PROBLEM

    data = _with_store(config, credentials.secret_key, lambda store: collect(store, config, now=int(time.time())))
    if data is None:
        return EXIT_PROBLEM
    if to_stdout:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    try:
        written = write(data, args.format, output)
    except ExportRefused as exc:
        print(f"asamblea export: cannot write there: {exc}. Nothing was written.", file=sys.stderr)
        return EXIT_PROBLEM
    for path in written:
        print(path)
    return 0


def _council_code(args: argparse.Namespace) -> int:
    from bot.council_codes import issue_code

    config = _load(args.config)
    if config is None:
        return EXIT_PROBLEM
    if args.council not in config.federation.councils:
        known = ", ".join(config.federation.councils)
        print(
            f"{args.config}: federation.councils: no council for {args.council!r} (configured: {known})",
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    try:
        credentials = load_credentials(config, need_token=False)
    except CredentialError as exc:
        for problem in exc.problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        return EXIT_PROBLEM

    code = _with_store(
        config,
        credentials.secret_key,
        lambda store: issue_code(
            store, region=args.council, now=int(time.time()), valid_hours=config.council_code_hours
        ),
    )
    if code is None:
        return EXIT_PROBLEM
    seat = config.federation.councils[args.council]
    print(code)
    print(
        f"Post `/council {code}` in the chat that becomes the {seat.name}, as one of its admins. "
        f"The code works once and expires in {config.council_code_hours} hours.",
        file=sys.stderr,
    )
    return 0


def _wipe(args: argparse.Namespace) -> int:
    """Crypto-shredding (storage/wipe.shred); the bot, once started again, begins a new database."""
    import sqlite3

    from storage.wipe import is_shredded, shred

    config = _load(args.config)
    if config is None:
        return EXIT_PROBLEM
    path = Path(config.storage_path)
    if not path.is_file():
        print(f"asamblea wipe: no database at {path}; nothing was wiped", file=sys.stderr)
        return EXIT_PROBLEM
    if is_shredded(path):
        print(f"asamblea wipe: {path} is already wiped; the bot starts a new database at its next start")
        return 0
    if not args.yes:
        print(
            f"This destroys the key of {path} and empties it: every committee, council, call, demand and "
            "decision is lost for good, and not even ASAMBLEA_SECRET_KEY can bring it back. Stop the bot first. "
            "Type WIPE to go on: ",
            end="",
            file=sys.stderr,
            flush=True,
        )
        try:
            answer = input()
        except EOFError:
            answer = ""
        if answer.strip() != "WIPE":
            print("asamblea wipe: not confirmed; nothing was changed", file=sys.stderr)
            return EXIT_PROBLEM
    try:
        shred(path, now=int(time.time()))
    except sqlite3.Error as exc:
        print(f"asamblea wipe: {path}: {exc}; is the bot still running? Stop it and try again", file=sys.stderr)
        return EXIT_PROBLEM
    print(
        f"{path}: wiped. Its key is destroyed and its tables are empty; the bot starts a new database at its next "
        "start. Backups of the database still hold the old key's salt: destroy them, or ASAMBLEA_SECRET_KEY with them."
    )
    return 0


def _with_store(config: Config, secret_key: bytes, work: Callable[[Any], Awaitable[T]]) -> T | None:
    """Open the database, do one piece of operator's work, close it; None (said why) if the secret
    key does not open it."""
    from storage import Store, WrongSecretKey

    async def run() -> T:
        store = await Store.open(config.storage_path, secret_key)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except WrongSecretKey as exc:
        print(f"asamblea: {exc}", file=sys.stderr)
        return None


if __name__ == "__main__":
    raise SystemExit(main())
