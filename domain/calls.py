"""Calls to strike or rally: who may address whom, how people name kinds and scopes, and the tally.

A call is the movement's sharpest tool, and a forged or over-broad one does real harm: a committee
that could call "everyone" out would speak for the whole movement. So the reach of a call is
a rule of the federation (SPEC §2): a committee's delegates address their own committee, their
region, the regions around it or some of those by name; a regional council addresses its own
area; only the coordinating council addresses everyone. These rules, the words people type for
kinds and scopes (in any of the bot's languages, since people mix them) and the counting of
deliveries and answers are plain data and functions, tested without Telegram or a database.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from domain.federation import Federation, Region
from domain.words import fold


class CallKind(StrEnum):
    STRIKE = "strike"
    GENERAL_STRIKE = "general_strike"
    SOLIDARITY_STRIKE = "solidarity_strike"
    RALLY = "rally"
    BLOCKADE = "blockade"


# Joining one of these sets the committee on strike (its strike status), not just "taking part".
STRIKE_KINDS: frozenset[CallKind] = frozenset({CallKind.STRIKE, CallKind.GENERAL_STRIKE, CallKind.SOLIDARITY_STRIKE})
RALLY_KINDS: frozenset[CallKind] = frozenset({CallKind.RALLY, CallKind.BLOCKADE})


class ScopeKind(StrEnum):
    COMMITTEE = "committee"
    REGION = "region"
    NEIGHBOURS = "neighbours"
    REGIONS = "regions"
    EVERYONE = "everyone"


class CallRefused(Exception):
    """Why a call cannot be made as asked; `reason` is a message key, `detail` what to quote back."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Scope:
    """Whom a call addresses; `regions` only for REGIONS, as region ids."""

    kind: ScopeKind
    regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.kind is ScopeKind.REGIONS) != bool(self.regions):
            raise ValueError(f"a {self.kind} scope {'needs' if self.kind is ScopeKind.REGIONS else 'takes no'} regions")

    def encode(self) -> str:
        """The short form stored with a call: "region", "everyone", "regions:atyrau,aktobe"."""
        if self.kind is ScopeKind.REGIONS:
            return f"{self.kind}:{','.join(self.regions)}"
        return str(self.kind)

    @classmethod
    def decode(cls, text: str) -> Scope:
        """The scope `encode` stored; ValueError for anything else, since that is a bug, not input."""
        kind, _, regions = text.partition(":")
        return cls(ScopeKind(kind), tuple(r for r in regions.split(",") if r))


@dataclass(frozen=True)
class Issuer:
    """Who issues a call: a committee (its leaf region and id) or a council (the node it speaks for).

    The council at the root of the tree is the coordinating council.
    """

    region: str
    committee_id: int | None = None

    @property
    def is_council(self) -> bool:
        return self.committee_id is None


# -- reach -------------------------------------------------------------------------------------


def allowed_scopes(federation: Federation, issuer: Issuer) -> list[ScopeKind]:
    """The kinds of scope an issuer has the right to use, narrowest first (e.g. to offer as buttons)."""
    _issuer_region(federation, issuer)
    if not issuer.is_council:
        return [ScopeKind.COMMITTEE, ScopeKind.REGION, ScopeKind.NEIGHBOURS, ScopeKind.REGIONS]
    if issuer.region == federation.root.id:
        return [ScopeKind.REGION, ScopeKind.REGIONS, ScopeKind.EVERYONE]
    return [ScopeKind.REGION, ScopeKind.REGIONS]


def default_scope(federation: Federation, issuer: Issuer) -> Scope:
    """The scope when none is given: a committee its own members, a council its whole area."""
    if not issuer.is_council:
        return Scope(ScopeKind.COMMITTEE)
    if issuer.region == federation.root.id:
        return Scope(ScopeKind.EVERYONE)
    return Scope(ScopeKind.REGION)


def check_scope(federation: Federation, issuer: Issuer, scope: Scope) -> None:
    """Refuse a scope beyond the issuer's rights, naming unknown regions, or reaching no region."""
    target_regions(federation, issuer, scope)


def target_regions(federation: Federation, issuer: Issuer, scope: Scope) -> frozenset[str]:
    """The leaf regions a call reaches, after the same checks as `check_scope`.

    For COMMITTEE this is the issuer's own region: the caller narrows it to the one committee.
    """
    own = _issuer_region(federation, issuer)
    if scope.kind not in allowed_scopes(federation, issuer):
        raise CallRefused("scope-beyond-rights", str(scope.kind))
    targets: frozenset[str]
    match scope.kind:
        case ScopeKind.COMMITTEE:
            targets = frozenset({own.id})
        case ScopeKind.REGION:
            targets = frozenset({own.id}) if not issuer.is_council else _leaves_within(federation, own.id)
        case ScopeKind.NEIGHBOURS:
            targets = frozenset(n for n in own.neighbours if n in federation.regions)
        case ScopeKind.EVERYONE:
            targets = _leaves_within(federation, federation.root.id)
        case ScopeKind.REGIONS:
            targets = frozenset()
            for name in scope.regions:
                if name not in federation.regions:
                    raise CallRefused("unknown-region", name)
                if not _may_name(federation, issuer, own, name):
                    raise CallRefused("scope-beyond-rights", name)
                targets |= _leaves_within(federation, name)
    if not targets:
        raise CallRefused("scope-empty")
    return targets


def _issuer_region(federation: Federation, issuer: Issuer) -> Region:
    region = federation.regions.get(issuer.region)
    if region is None:
        raise CallRefused("unknown-region", issuer.region)
    return region


def _may_name(federation: Federation, issuer: Issuer, own: Region, name: str) -> bool:
    """A committee may name its region and its neighbours; a council any region in its area."""
    if issuer.is_council:
        return federation.is_within(name, own.id)
    return name == own.id or name in own.neighbours


def _leaves_within(federation: Federation, node: str) -> frozenset[str]:
    return frozenset(r.id for r in federation.committee_regions() if federation.is_within(r.id, node))


# -- words -------------------------------------------------------------------------------------
# Words are compared folded (case, accents, "_"/"-" and spacing ignored), so "Aqui", "aquí" and
# "AQUÍ" are one word. Every language's words are accepted whatever the chat's language.

SCOPE_WORDS: dict[ScopeKind, tuple[str, ...]] = {
    ScopeKind.COMMITTEE: (
        "here", "committee", "us",
        "здесь", "комитет",
        "осында", "комитет",
        "aquí", "comité",
        "hier", "komitee",
    ),
    ScopeKind.REGION: (
        "region",
        "регион", "область",
        "облыс", "өңір",
        "región",
        "region",
    ),
    ScopeKind.NEIGHBOURS: (
        "neighbours", "neighbors",
        "соседи", "соседние",
        "көршілер",
        "vecinos",
        "nachbarn",
    ),
    ScopeKind.EVERYONE: (
        "all", "everyone", "everywhere",
        "все", "всем", "везде",
        "барлығы", "бәрі",
        "todos",
        "alle",
    ),
}  # fmt: skip

# The kind ids themselves ("general_strike", ...) are accepted too.
KIND_WORDS: dict[CallKind, tuple[str, ...]] = {
    CallKind.STRIKE: (
        "strike",
        "забастовка", "стачка",
        "ереуіл",
        "huelga",
        "streik",
    ),
    CallKind.GENERAL_STRIKE: (
        "general", "general strike",
        "всеобщая", "общая", "всеобщая забастовка", "общая забастовка",
        "жалпы", "жалпы ереуіл",
        "huelga general",
        "generalstreik",
    ),
    CallKind.SOLIDARITY_STRIKE: (
        "solidarity", "solidarity strike",
        "солидарности", "солидарная", "забастовка солидарности", "солидарная забастовка",
        "ынтымақ", "ынтымақ ереуілі", "ынтымақтастық", "ынтымақтастық ереуілі",
        "solidaridad", "solidaria", "huelga de solidaridad", "huelga solidaria",
        "solidarität", "solidaritätsstreik",
    ),
    CallKind.RALLY: (
        "rally", "demonstration",
        "митинг",
        "митинг",
        "manifestación", "concentración",
        "kundgebung", "demo",
    ),
    CallKind.BLOCKADE: (
        "blockade",
        "блокада",
        "бөгеу",
        "bloqueo",
    ),
}  # fmt: skip

# Per command: the kind when no kind word is given (None: one is required), and the kinds allowed.
COMMANDS: Mapping[str, tuple[CallKind | None, frozenset[CallKind]]] = {
    "strike": (CallKind.STRIKE, STRIKE_KINDS),
    "rally": (CallKind.RALLY, RALLY_KINDS),
    "call": (None, frozenset(CallKind)),
}


_K = TypeVar("_K", ScopeKind, CallKind)


def _lookup(words: Mapping[_K, Iterable[str]], extra: Iterable[_K] = ()) -> dict[str, _K]:
    table: dict[str, _K] = {}
    for key in extra:
        table[fold(str(key))] = key
    for key, spellings in words.items():
        for word in spellings:
            folded = fold(word)
            if table.setdefault(folded, key) != key:
                raise ValueError(f"the word {word!r} means two things")
    return table


_SCOPE_LOOKUP: dict[str, ScopeKind] = _lookup(SCOPE_WORDS)
_KIND_LOOKUP: dict[str, CallKind] = _lookup(KIND_WORDS, extra=CallKind)
_KIND_PHRASE_MAX = max(len(phrase.split()) for phrase in _KIND_LOOKUP)
_LIST_SEPARATORS = re.compile(r"[,;]")


def parse_scope(text: str, federation: Federation, language: str) -> Scope:
    """A scope from what a delegate typed: a scope word, or region names separated by commas.

    Region names are matched by id or by name in any language (`Federation.find_region`).
    Only names are resolved here; whether the issuer may use the scope is `check_scope`'s job.
    """
    kind = _SCOPE_LOOKUP.get(fold(text))
    if kind is not None:
        return Scope(kind)
    regions: dict[str, None] = {}
    for part in _LIST_SEPARATORS.split(text):
        name = " ".join(part.split())
        if not name:
            continue
        region = federation.find_region(name, language)
        if region is None:
            raise CallRefused("unknown-region", name)
        regions[region.id] = None
    if not regions:
        raise CallRefused("scope-empty")
    return Scope(ScopeKind.REGIONS, tuple(regions))


def split_kind(text: str, command: str) -> tuple[CallKind, str]:
    """The kind of call a command's arguments ask for, and the arguments after the kind word(s).

    `command` is "strike", "rally" or "call". /strike and /rally take an optional kind word first
    ("/strike general ...", "/rally блокада ...") and default to a strike and a rally; /call, the
    councils' command, requires one. Phrases of up to three words ("huelga de solidaridad") are
    matched, longest first. Raises CallRefused "unknown-kind" (detail: the first word) when /call
    has no kind word, and "kind-not-allowed" (detail: the kind word) for e.g. "/rally general".
    """
    default, allowed = COMMANDS[command]
    words = list(re.finditer(r"\S+", text))
    for length in range(min(_KIND_PHRASE_MAX, len(words)), 0, -1):
        phrase = text[words[0].start() : words[length - 1].end()]
        kind = _KIND_LOOKUP.get(fold(phrase.rstrip(",:;.")))
        if kind is None:
            continue
        if kind not in allowed:
            raise CallRefused("kind-not-allowed", phrase)
        return kind, text[words[length - 1].end() :].strip()
    if default is None:
        raise CallRefused("unknown-kind", words[0].group() if words else "")
    return default, text.strip()


def parse_kind(text: str, command: str, language: str | None = None) -> CallKind:
    """The kind named by `text` alone (empty for a command's default), for where only a kind is asked.

    Words of every language are accepted, so `language` is not needed; it is kept for callers that
    pass it. Raises like `split_kind`, and "unknown-kind" when anything but a kind word is left.
    """
    kind, rest = split_kind(text, command)
    if rest:
        raise CallRefused("unknown-kind", text.strip())
    return kind


# -- tally -------------------------------------------------------------------------------------


class Answer(StrEnum):
    JOIN = "join"
    DECLINE = "decline"
    UNDECIDED = "undecided"


_WAITING_STATES = frozenset({"pending", "inflight"})
_DELIVERY_STATES = frozenset({"sent", "failed", "dropped"}) | _WAITING_STATES


@dataclass(frozen=True)
class Tally:
    """Where a call stands: how many committees it was for, got it, and answered what.

    targets = delivered + waiting + sum(failed) + dropped, where dropped are copies of a cancelled
    (or superseded) call that had not left yet. headcount sums the head counts of joining
    committees only: it says how many people take part.
    """

    targets: int
    delivered: int
    waiting: int
    failed: Mapping[str, int]
    dropped: int
    joined: int
    declined: int
    undecided: int
    headcount: int

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def answered(self) -> int:
        return self.joined + self.declined + self.undecided


def failure_reason(error: str | None) -> str:
    """Group the outbox's error strings into what a coordinator can act on.

    "removed": the bot was removed or blocked (Forbidden); "not-found": the chat is gone;
    "refused": Telegram refused the message (Bad Request); "other": anything else.
    """
    text = (error or "").strip().casefold()
    if text.startswith("forbidden"):
        return "removed"
    if "chat not found" in text:
        return "not-found"
    if text.startswith("bad request"):
        return "refused"
    return "other"


def tally(deliveries: Iterable[tuple[str, str | None]], answers: Iterable[tuple[str, int | None]]) -> Tally:
    """Count a call's deliveries, as (outbox state, error), and answers, as (answer, head count)."""
    states: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for state, error in deliveries:
        if state not in _DELIVERY_STATES:
            raise ValueError(f"unknown delivery state {state!r}")
        states[state] += 1
        if state == "failed":
            failed[failure_reason(error)] += 1
    counts: Counter[Answer] = Counter()
    headcount = 0
    for answer, heads in answers:
        given = Answer(answer)
        counts[given] += 1
        if given is Answer.JOIN and heads:
            headcount += heads
    return Tally(
        targets=states.total(),
        delivered=states["sent"],
        waiting=sum(states[s] for s in _WAITING_STATES),
        failed=dict(failed),
        dropped=states["dropped"],
        joined=counts[Answer.JOIN],
        declined=counts[Answer.DECLINE],
        undecided=counts[Answer.UNDECIDED],
        headcount=headcount,
    )
