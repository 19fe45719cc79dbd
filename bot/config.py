"""The operator's one config file: TOML in, a typed, validated `Config` out.

Every problem is collected with its key path (`federation.regions[3].neighbours`) so that
`asamblea check-config` can list them all at once instead of failing on the first. Secrets are
never read from this file; `bot.secrets` reads them from the environment or from files named here.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from domain.demands import Threshold
from domain.federation import CouncilSeat, Federation, Region
from domain.flood import Limits
from domain.schedule import parse_daily_time

LANGUAGES = ("en", "ru", "kk", "es", "de")
MODES = ("polling", "webhook")
SOLIDARITY_MODES = ("off", "suggest", "auto")
TELEGRAM_BASE_URL = "https://api.telegram.org"


@dataclass(frozen=True)
class WebhookConfig:
    listen: str = "127.0.0.1"
    port: int = 8443
    url_path: str = "telegram"
    public_url: str = ""


@dataclass(frozen=True)
class TelegramConfig:
    base_url: str = TELEGRAM_BASE_URL
    mode: str = "polling"
    poll_timeout: int = 30
    webhook: WebhookConfig = field(default_factory=WebhookConfig)


@dataclass(frozen=True)
class SecretFiles:
    bot_token_file: str = ""
    secret_key_file: str = ""
    operator_chat_id_file: str = ""


@dataclass(frozen=True)
class Config:
    """Everything the bot needs to know besides its secrets."""

    federation: Federation
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    secrets: SecretFiles = field(default_factory=SecretFiles)
    storage_path: str = "asamblea.sqlite3"
    retention_days: int = 90
    default_language: str = "ru"
    safety_url: str = ""
    council_code_hours: int = 24
    reminder_hours: tuple[float, ...] = (24.0, 1.0)
    decision_hours: float = 24.0
    decision_quorum: float = 0.5
    delegate_reminder_hours: float = 24.0
    council_threshold: Threshold = field(default_factory=lambda: Threshold(committees=3))
    coordinating_threshold: Threshold = field(default_factory=lambda: Threshold(committees=3, regions=2))
    digest_every_hours: float | None = 6.0
    digest_daily_at: tuple[time, ...] = (time(8, 0),)
    solidarity: str = "suggest"
    # Input limits per person and per chat (domain/flood.py); None: flood control off.
    flood: Limits | None = field(default_factory=Limits)
    source: Path | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config file, located by its key path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(Exception):
    """The config file cannot be used; `problems` says every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class _Reader:
    """Reads typed values out of a TOML table, recording problems instead of raising."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def table(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problems.append(Problem(_join(path, key), "must be a table"))
            return {}
        return value

    def value(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        kind: type,
        default: Any,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        if key not in data:
            return default
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # "24" is as good a number of hours as "24.0"
        # TOML booleans are ints to Python; a number where a bool is meant (or the reverse) is a typo.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(Problem(_join(path, key), f"must be {_KIND_NAMES[kind]}, got {type(value).__name__}"))
            return default
        if check is not None and (message := check(value)):
            self.problems.append(Problem(_join(path, key), message))
            return default
        return value

    def unknown(self, data: Mapping[str, Any], known: set[str], path: str) -> None:
        for key in sorted(set(data) - known):
            self.problems.append(Problem(_join(path, key), "unknown key"))


_KIND_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    list: "a list",
    dict: "a table",
    bool: "true or false",
}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _reminder_hours(value: list) -> str | None:
    valid = all(isinstance(h, int | float) and not isinstance(h, bool) and 0 < h <= 24 * 14 for h in value)
    return None if valid else "must be a list of hours before a rally, each greater than 0 and at most 336"


def _decision_hours(value: float) -> str | None:
    return None if 0 < value <= 24 * 30 else "must be more than 0 and at most 720 hours"


def _every_hours(value: float) -> str | None:
    if value == 0 or 1 / 60 <= value <= 24 * 7:
        return None
    return "must be 0 (no periodic digests) or between one minute (0.0167) and 168 hours"


def _daily_times(value: list) -> str | None:
    for item in value:
        if not isinstance(item, str):
            return 'must be a list of local times such as "08:00"'
        try:
            parse_daily_time(item)
        except ValueError as problem:
            return str(problem)
    return None


def _fraction(value: float) -> str | None:
    return None if 0 < value <= 1 else "must be a fraction above 0 and at most 1"


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _http_url(value: str) -> str | None:
    return None if value.startswith(("http://", "https://")) else "must start with http:// or https://"


def _safety_url(value: str) -> str | None:
    # Plain http could be rewritten on the way by whoever watches the network: safety advice included.
    if value and not value.startswith("https://"):
        return "must be empty or start with https://"
    return None


def _parse_flood(table: Mapping[str, Any], read: _Reader) -> Limits | None:
    """The input limits (domain/flood.py explains the defaults); `enabled = false` turns them off."""
    read.unknown(table, {"enabled", "person_burst", "person_per_minute", "chat_burst", "chat_per_minute"}, "flood")
    default = Limits()
    limits = Limits(
        person_burst=read.value(table, "person_burst", "flood", int, default.person_burst, _positive),
        person_per_minute=read.value(table, "person_per_minute", "flood", float, default.person_per_minute, _positive),
        chat_burst=read.value(table, "chat_burst", "flood", int, default.chat_burst, _positive),
        chat_per_minute=read.value(table, "chat_per_minute", "flood", float, default.chat_per_minute, _positive),
    )
    return limits if read.value(table, "enabled", "flood", bool, True) else None


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "file not found")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(str(path), f"not valid TOML: {exc}")]) from None
    return parse_config(raw, source=path)


def parse_config(raw: Mapping[str, Any], source: Path | None = None) -> Config:
    """Validate an already parsed TOML document."""
    problems: list[Problem] = []
    read = _Reader(problems)
    read.unknown(
        raw,
        {
            "telegram",
            "secrets",
            "storage",
            "privacy",
            "i18n",
            "registration",
            "calls",
            "decisions",
            "delegates",
            "demands",
            "digests",
            "spread",
            "flood",
            "federation",
        },
        "",
    )

    tg = read.table(raw, "telegram", "")
    read.unknown(tg, {"base_url", "mode", "poll_timeout", "webhook"}, "telegram")
    hook = read.table(tg, "webhook", "telegram")
    read.unknown(hook, {"listen", "port", "url_path", "public_url"}, "telegram.webhook")
    mode = read.value(tg, "mode", "telegram", str, "polling", _one_of(MODES))
    public_url = read.value(hook, "public_url", "telegram.webhook", str, "")
    # Telegram posts only to https; a Bot API server on the same machine may post to loopback http.
    loopback = public_url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
    if mode == "webhook" and not (public_url.startswith("https://") or loopback):
        problems.append(Problem("telegram.webhook.public_url", "webhook mode needs the https:// URL Telegram posts to"))
    telegram = TelegramConfig(
        base_url=read.value(tg, "base_url", "telegram", str, TELEGRAM_BASE_URL, _http_url).rstrip("/"),
        mode=mode,
        poll_timeout=read.value(tg, "poll_timeout", "telegram", int, 30, _positive),
        webhook=WebhookConfig(
            listen=read.value(hook, "listen", "telegram.webhook", str, "127.0.0.1"),
            port=read.value(
                hook,
                "port",
                "telegram.webhook",
                int,
                8443,
                lambda p: None if 0 < p < 65536 else "must be a TCP port (1-65535)",
            ),
            url_path=read.value(hook, "url_path", "telegram.webhook", str, "telegram").strip("/"),
            public_url=public_url,
        ),
    )

    sec = read.table(raw, "secrets", "")
    read.unknown(sec, {"bot_token_file", "secret_key_file", "operator_chat_id_file"}, "secrets")
    secrets = SecretFiles(
        bot_token_file=read.value(sec, "bot_token_file", "secrets", str, ""),
        secret_key_file=read.value(sec, "secret_key_file", "secrets", str, ""),
        operator_chat_id_file=read.value(sec, "operator_chat_id_file", "secrets", str, ""),
    )

    storage = read.table(raw, "storage", "")
    read.unknown(storage, {"path"}, "storage")
    privacy = read.table(raw, "privacy", "")
    read.unknown(privacy, {"retention_days"}, "privacy")
    i18n = read.table(raw, "i18n", "")
    read.unknown(i18n, {"default_language", "safety_url"}, "i18n")
    registration = read.table(raw, "registration", "")
    read.unknown(registration, {"council_code_hours"}, "registration")

    calls = read.table(raw, "calls", "")
    read.unknown(calls, {"reminder_hours"}, "calls")
    reminder_hours = read.value(calls, "reminder_hours", "calls", list, [24, 1], _reminder_hours)

    decisions = read.table(raw, "decisions", "")
    read.unknown(decisions, {"deadline_hours", "quorum"}, "decisions")
    decision_hours = read.value(decisions, "deadline_hours", "decisions", float, 24.0, _decision_hours)
    decision_quorum = read.value(decisions, "quorum", "decisions", float, 0.5, _fraction)

    delegates = read.table(raw, "delegates", "")
    read.unknown(delegates, {"term_reminder_hours"}, "delegates")
    delegate_reminder_hours = read.value(delegates, "term_reminder_hours", "delegates", float, 24.0, _decision_hours)

    demands = read.table(raw, "demands", "")
    read.unknown(demands, {"council_committees", "coordinating_committees", "coordinating_regions"}, "demands")
    council_threshold = Threshold(committees=read.value(demands, "council_committees", "demands", int, 3, _positive))
    coordinating_threshold = Threshold(
        committees=read.value(demands, "coordinating_committees", "demands", int, 3, _positive),
        regions=read.value(demands, "coordinating_regions", "demands", int, 2, _positive),
    )

    digests = read.table(raw, "digests", "")
    read.unknown(digests, {"every_hours", "daily_at"}, "digests")
    every_hours = read.value(digests, "every_hours", "digests", float, 6.0, _every_hours)
    daily_at = read.value(digests, "daily_at", "digests", list, ["08:00"], _daily_times)
    spread = read.table(raw, "spread", "")
    read.unknown(spread, {"solidarity"}, "spread")
    solidarity = read.value(spread, "solidarity", "spread", str, "suggest", _one_of(SOLIDARITY_MODES))
    flood = _parse_flood(read.table(raw, "flood", ""), read)

    storage_path = read.value(storage, "path", "storage", str, "asamblea.sqlite3")
    retention_days = read.value(privacy, "retention_days", "privacy", int, 90, _positive)
    default_language = read.value(i18n, "default_language", "i18n", str, "ru", _one_of(LANGUAGES))
    safety_url = read.value(i18n, "safety_url", "i18n", str, "", _safety_url).strip()
    council_code_hours = read.value(registration, "council_code_hours", "registration", int, 24, _positive)
    federation = _parse_federation(read.table(raw, "federation", ""), read)
    if problems or federation is None:
        raise ConfigError(problems)
    if source is not None and not Path(storage_path).is_absolute():
        # Relative to the config file, so the service finds its database whatever its working directory.
        storage_path = str(source.parent / storage_path)
    return Config(
        federation=federation,
        telegram=telegram,
        secrets=secrets,
        storage_path=storage_path,
        retention_days=retention_days,
        default_language=default_language,
        safety_url=safety_url,
        council_code_hours=council_code_hours,
        decision_hours=decision_hours,
        decision_quorum=decision_quorum,
        delegate_reminder_hours=delegate_reminder_hours,
        council_threshold=council_threshold,
        coordinating_threshold=coordinating_threshold,
        digest_every_hours=float(every_hours) or None,
        digest_daily_at=tuple(sorted({parse_daily_time(t) for t in daily_at})),
        solidarity=solidarity,
        flood=flood,
        reminder_hours=tuple(sorted({float(h) for h in reminder_hours}, reverse=True)),
        source=source,
    )


def _parse_federation(data: Mapping[str, Any], read: _Reader) -> Federation | None:
    """Build the region tree, checking ids, parents, timezones, neighbours and councils."""
    problems = read.problems
    before = len(problems)
    read.unknown(data, {"name", "regions", "councils"}, "federation")
    name = read.value(data, "name", "federation", str, "")
    if not name:
        problems.append(Problem("federation.name", "missing"))
    raw_regions = read.value(data, "regions", "federation", list, [])
    if not raw_regions:
        problems.append(Problem("federation.regions", "at least one region is needed"))

    regions: dict[str, Region] = {}
    for index, item in enumerate(raw_regions):
        path = f"federation.regions[{index}]"
        if not isinstance(item, dict):
            problems.append(Problem(path, "must be a table"))
            continue
        read.unknown(item, {"id", "name", "names", "parent", "timezone", "neighbours", "position"}, path)
        region_id = read.value(item, "id", path, str, "")
        if not region_id or not region_id.replace("-", "").replace("_", "").isalnum():
            problems.append(Problem(f"{path}.id", "must be a non-empty id of letters, digits, - or _"))
            continue
        if region_id in regions:
            problems.append(Problem(f"{path}.id", f"duplicate region id {region_id!r}"))
            continue
        names = read.value(item, "names", path, dict, {})
        for lang, text in names.items():
            if lang not in LANGUAGES or not isinstance(text, str):
                problems.append(Problem(f"{path}.names.{lang}", f"must be a name in one of {', '.join(LANGUAGES)}"))
        neighbours = read.value(item, "neighbours", path, list, [])
        if not all(isinstance(n, str) for n in neighbours):
            problems.append(Problem(f"{path}.neighbours", "must be a list of region ids"))
            neighbours = []
        regions[region_id] = Region(
            id=region_id,
            name=read.value(item, "name", path, str, region_id),
            parent=read.value(item, "parent", path, str, None),
            timezone=read.value(item, "timezone", path, str, "UTC", _timezone),
            neighbours=tuple(neighbours),
            names={k: v for k, v in names.items() if isinstance(v, str)},
            position=_position(read.value(item, "position", path, list, None, _lon_lat)),
        )

    paths = {region_id: f"federation.regions[{i}]" for i, region_id in enumerate(regions)}
    roots = [r.id for r in regions.values() if r.parent is None]
    if regions and len(roots) != 1:
        problems.append(
            Problem("federation.regions", f"exactly one region must have no parent (the root), found {len(roots)}")
        )
    for region in regions.values():
        path = paths[region.id]
        if region.parent is not None and region.parent not in regions:
            problems.append(Problem(f"{path}.parent", f"unknown region {region.parent!r}"))
        elif _has_cycle(region.id, regions):
            problems.append(Problem(f"{path}.parent", "the parents form a cycle"))
        for neighbour in region.neighbours:
            if neighbour == region.id:
                problems.append(Problem(f"{path}.neighbours", f"{region.id!r} cannot neighbour itself"))
            elif neighbour not in regions:
                problems.append(Problem(f"{path}.neighbours", f"unknown region {neighbour!r}"))
            elif region.id not in regions[neighbour].neighbours:
                problems.append(
                    Problem(
                        f"{path}.neighbours",
                        f"{region.id!r} lists {neighbour!r} but {neighbour!r} does not list {region.id!r}",
                    )
                )

    councils: dict[str, CouncilSeat] = {}
    for index, item in enumerate(read.value(data, "councils", "federation", list, [])):
        path = f"federation.councils[{index}]"
        if not isinstance(item, dict):
            problems.append(Problem(path, "must be a table"))
            continue
        read.unknown(item, {"region", "name", "names"}, path)
        node = read.value(item, "region", path, str, "")
        if node not in regions:
            problems.append(Problem(f"{path}.region", f"unknown region {node!r}"))
        elif node in councils:
            problems.append(Problem(f"{path}.region", f"a council for {node!r} is already configured"))
        else:
            names = read.value(item, "names", path, dict, {})
            councils[node] = CouncilSeat(
                region=node,
                name=read.value(item, "name", path, str, node),
                names={k: v for k, v in names.items() if k in LANGUAGES and isinstance(v, str)},
            )
    if len(roots) == 1 and roots[0] not in councils:
        problems.append(
            Problem("federation.councils", f"the root region {roots[0]!r} needs a council (the coordinating council)")
        )
    if len(problems) > before:
        return None
    return Federation(name=name, regions=regions, councils=councils)


def _lon_lat(value: list) -> str | None:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    if len(value) != 2 or not numbers or not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90):
        return "must be [longitude, latitude]: two numbers, longitude -180..180, latitude -90..90"
    return None


def _position(value: list | None) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def _timezone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown IANA timezone {value!r}"
    return None


def _has_cycle(start: str, regions: Mapping[str, Region]) -> bool:
    seen: set[str] = set()
    current: str | None = start
    while current is not None and current in regions:
        if current in seen:
            return True
        seen.add(current)
        current = regions[current].parent
    return False
