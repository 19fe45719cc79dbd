"""Demands: their text, when two are the same demand, how support rises, and the programme's life cycle.

A demand is put forward by a member, endorsed by the committee's assembly and then rises through
the federation, level by level, as more committees in more regions back it (SPEC §2). The same
demand is put forward in many places in many words ("Повысить зарплату на 100%", "повышение
зарплаты на 100 %"), and it only gains weight when those are counted as one: so texts are compared
after normalisation with a fuzzy score, near-identical ones merge by themselves, and close ones
are suggested to council delegates, who confirm (or merge by hand across languages, which no
string score can see). These rules are plain data and functions, tested without Telegram or a
database.

Similarity. The score is rapidfuzz's token scores on `normalise`d text: the mean of
`token_sort_ratio` (the whole texts, word order ignored) and `token_set_ratio` (forgiving extra
words). Neither alone will do: token_set scores a text 100 against anything that contains it ("wage
rise" against a whole list of demands), token_sort punishes one added word too hard; WRatio has the
first fault too. The same is scored again on words cut to their first five letters, a crude stemmer
for Russian, Kazakh and Spanish inflection ("повысить зарплату"/"повышение зарплаты",
"salarial"/"salario"), weighed by 0.94 so that stems alone never reach `AUTO_MERGE_AT`; the better
of the two counts. Two guards cap the score at 90 where a near-identical text means something else:
different numbers ("100%" against "10%") and a negation on one side only ("must resign" against
"must not resign"). On the pairs in tests/test_demand_rules.py (ru, kk, en, es), paraphrases of one
demand score 77-97 and different demands at most 73 (mostly below 60), so `SUGGEST_AT` is 75;
`AUTO_MERGE_AT` is 95, which only the same words reach (up to case, punctuation, emoji, spacing,
word order, or a typo in a longer text). A wrong automatic merge silently pools the support of two demands, a missed one
costs a delegate a tap, so the automatic threshold errs high.

Life cycle (`ProgrammeStatus`, checked by `can_mark`):

    proposed --assembly--> endorsed --threshold met--> escalated --council--> adopted --> won
        |                                                  |                    |   \\--> conceded
        +--assembly--> rejected <------council-------------+                    +-----> rejected

- proposed: put forward by a member; the committee's assembly decides on it (endorsed or rejected).
- escalated: it met the threshold of a council above the committee; rising further keeps the status
  (the levels reached are `reached`'s answer, kept apart).
- adopted: the coordinating council took it into the common programme; the struggle's outcome is
  then marked won, conceded (granted in part) or rejected (refused by the authorities).
- won and conceded may be changed into one another or into rejected (a correction, or a concession
  later won in full, a win taken back); a rejected demand may be adopted again (the council changes
  its mind, or an outcome is reopened).
- merged: folded into an equivalent demand, which carries its support from then on. Anything but a
  merged demand may be merged; merged is final.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz

from domain.federation import Federation

TEXT_MAX = 500
# A close demand is suggested to council delegates for a merge at this score (0-100) ...
SUGGEST_AT = 75.0
# ... and merged without asking (and refused as a repeat from the same committee) at this one.
AUTO_MERGE_AT = 95.0
# Where the guards (numbers, negation) apply, the score is at most this: suggested, never merged.
GUARDED_MAX = 90.0
# Words are cut to this many letters for the inflection-forgiving comparison, whose score is weighed
# down so that stems alone ("акима"/"акимата", "nation"/"nationalise") never merge without asking.
STEM_LENGTH = 5
STEM_WEIGHT = 0.94

# Words that turn a demand into its opposite, in the bot's languages. Kazakh negates mostly by a verb
# suffix (-ма/-ме, -ба/-бе, -па/-пе), which no word list catches: there the number guard and the
# council's confirmation remain.
NEGATIONS: frozenset[str] = frozenset(
    {
        "not", "no", "never", "nor", "without", "against", "dont", "doesnt", "cannot", "cant", "wont",
        "не", "нет", "ни", "без", "никогда", "против",
        "емес", "жоқ", "ешқашан", "қарсы",
        "ni", "nunca", "jamás", "sin", "contra",
        "nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals", "ohne", "gegen",
    }
)  # fmt: skip

# Invisible characters that make an empty text look filled; removed outright.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u02bc`\u00b4"))
_DIGITS = re.compile(r"\d+")


class _CharMap(dict):
    """A `str.translate` table computed a character at a time, as characters are first met: the
    walk over the text is then `translate`'s loop in C, not a Python loop per character. At
    most `LIMIT` characters are remembered (a text of rare characters cannot grow it for ever)."""

    LIMIT = 50_000

    def __init__(self, rule: Callable[[str], str | None], fixed: Mapping[int, str | None] = {}) -> None:
        super().__init__(fixed)
        self._rule = rule

    def __missing__(self, code: int) -> str | None:
        value = self._rule(chr(code))
        if len(self) < self.LIMIT:
            self[code] = value
        return value


# `normalise`'s: apostrophes removed, letters, digits and combining marks kept, the rest a space.
_WORD_CHARS = _CharMap(lambda ch: ch if unicodedata.category(ch)[0] in "LNM" else " ", _APOSTROPHES)
# `clean_demand`'s: control characters removed, except line breaks and other spaces.
_NO_CONTROLS = _CharMap(lambda ch: None if unicodedata.category(ch) == "Cc" and not ch.isspace() else ch)


class DemandRefused(Exception):
    """Why a demand or a change to it is not allowed; `reason` is a message key.

    Reasons: "empty", "too-long", "duplicate" (the same demand again from one committee),
    "merge-into-itself", "already-merged", "status-not-allowed".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- text --------------------------------------------------------------------------------------


def clean_demand(text: str) -> str:
    """A demand as stored and shown: NFC, lines trimmed, spaces collapsed, at most one blank line.

    Refuses "empty" when nothing with a letter or digit is left (blank lines, emoji alone) and
    "too-long" beyond TEXT_MAX characters after cleaning.
    """
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_NO_CONTROLS)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    cleaned = "\n".join(kept).strip()
    if not normalise(cleaned):
        raise DemandRefused("empty")
    if len(cleaned) > TEXT_MAX:
        raise DemandRefused("too-long")
    return cleaned


def normalise(text: str) -> str:
    """What similarity compares: NFKC, casefolded, words of letters and digits with single spaces.

    Punctuation, symbols and emoji become spaces ("100%" and "100 %" are both "100"), apostrophes
    join their word ("don't" is "dont"), combining marks stay (they are letters in Kazakh and Spanish
    once composed by NFKC).
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_WORD_CHARS).split())


class _Prepared(NamedTuple):
    words: str
    stems: str
    numbers: tuple[int, ...]
    negated: bool


@lru_cache(maxsize=8192)
def _prepare(text: str) -> _Prepared:
    words = normalise(text)
    tokens = words.split()
    return _Prepared(
        words=words,
        stems=" ".join(token[:STEM_LENGTH] for token in tokens),
        numbers=tuple(sorted(int(n) for n in _DIGITS.findall(words))),
        negated=any(token in NEGATIONS for token in tokens),
    )


def _score(a: _Prepared, b: _Prepared) -> float:
    if not a.words or not b.words:
        return 0.0
    best = max(_blend(a.words, b.words), STEM_WEIGHT * _blend(a.stems, b.stems))
    if a.numbers != b.numbers or a.negated != b.negated:
        best = min(best, GUARDED_MAX)
    return round(best, 1)


def _blend(x: str, y: str) -> float:
    return (fuzz.token_sort_ratio(x, y) + fuzz.token_set_ratio(x, y)) / 2


def similarity(a: str, b: str) -> float:
    """How alike two demands are, 0 (nothing in common) to 100 (the same words); see the module doc."""
    return _score(_prepare(a), _prepare(b))


def is_same(a: str, b: str) -> bool:
    """Whether two texts are the same demand: merged without asking, refused twice from one committee."""
    return similarity(a, b) >= AUTO_MERGE_AT


def merge_candidates(
    text: str, others: Iterable[tuple[int, str]], *, at: float = SUGGEST_AT
) -> list[tuple[int, float]]:
    """The demands (id, text) scoring at least `at` against `text`, as (id, score), best first.

    Equal scores keep the older (lower) id first. Callers pass the demands a council can see.
    """
    mine = _prepare(text)
    found = [(demand_id, score) for demand_id, other in others if (score := _score(mine, _prepare(other))) >= at]
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    return found


def check_merge(demand_id: int, into_id: int, status: ProgrammeStatus, into_status: ProgrammeStatus) -> None:
    """Refuse merging a demand into itself, or a merged demand, or into one that was merged away."""
    if demand_id == into_id:
        raise DemandRefused("merge-into-itself")
    if ProgrammeStatus.MERGED in (status, into_status):
        raise DemandRefused("already-merged")


# -- support and escalation --------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """What a council's level asks of a demand before it rises there: backing committees and regions."""

    committees: int
    regions: int = 1

    def __post_init__(self) -> None:
        if self.committees < 1 or self.regions < 1:
            raise ValueError("a threshold needs at least one committee in one region")

    def met(self, committees: int, regions: int) -> bool:
        return committees >= self.committees and regions >= self.regions


def backing_of(backers: Iterable[tuple[int, str]]) -> dict[str, int]:
    """The `backing` mapping from (committee id, its region) pairs, each committee counted once.

    A merged demand's support is the union of its parts' support: a committee that backed two of
    them is one committee, not two.
    """
    regions: dict[int, str] = dict(backers)
    backing: dict[str, int] = {}
    for region in regions.values():
        backing[region] = backing.get(region, 0) + 1
    return backing


def support_within(federation: Federation, node: str, backing: Mapping[str, int]) -> tuple[int, int]:
    """(committees, regions) backing a demand within a node's area.

    `backing` maps a committee region to the number of its committees that endorsed the demand;
    regions no longer in the federation (a changed config) and zero counts are left out.
    """
    committees = regions = 0
    for region, count in backing.items():
        if count > 0 and region in federation.regions and federation.is_within(region, node):
            committees += count
            regions += 1
    return committees, regions


def reached(
    federation: Federation,
    origin_region: str,
    backing: Mapping[str, int],
    threshold: Callable[[str], Threshold | None],
) -> list[str]:
    """The council nodes a demand has reached, bottom-up, from the region it was put forward in.

    It climbs `federation.ancestors(origin_region)`, the origin itself first: a node whose
    `threshold` is None has no council and is passed over; the first node whose threshold is not
    met within its area stops the climb, since a demand rises level by level.
    """
    nodes: list[str] = []
    for node in federation.ancestors(origin_region):
        wanted = threshold(node)
        if wanted is None:
            continue
        if not wanted.met(*support_within(federation, node, backing)):
            break
        nodes.append(node)
    return nodes


# -- the programme -----------------------------------------------------------------------------


class ProgrammeStatus(StrEnum):
    PROPOSED = "proposed"
    ENDORSED = "endorsed"
    ESCALATED = "escalated"
    ADOPTED = "adopted"
    WON = "won"
    CONCEDED = "conceded"
    REJECTED = "rejected"
    MERGED = "merged"


# The statuses that say how the struggle for an adopted demand went; they flow back to its backers.
OUTCOMES: frozenset[ProgrammeStatus] = frozenset(
    {ProgrammeStatus.WON, ProgrammeStatus.CONCEDED, ProgrammeStatus.REJECTED}
)

_NEXT: Mapping[ProgrammeStatus, frozenset[ProgrammeStatus]] = {
    ProgrammeStatus.PROPOSED: frozenset({ProgrammeStatus.ENDORSED, ProgrammeStatus.REJECTED}),
    ProgrammeStatus.ENDORSED: frozenset({ProgrammeStatus.ESCALATED}),
    ProgrammeStatus.ESCALATED: frozenset({ProgrammeStatus.ADOPTED, ProgrammeStatus.REJECTED}),
    ProgrammeStatus.ADOPTED: OUTCOMES,
    ProgrammeStatus.WON: OUTCOMES,
    ProgrammeStatus.CONCEDED: OUTCOMES,
    ProgrammeStatus.REJECTED: frozenset({ProgrammeStatus.ADOPTED}),
    ProgrammeStatus.MERGED: frozenset(),
}


def can_mark(current: ProgrammeStatus, new: ProgrammeStatus) -> bool:
    """Whether a demand in `current` may be marked `new` (never the status it already has)."""
    if current == new or current is ProgrammeStatus.MERGED:
        return False
    return new is ProgrammeStatus.MERGED or new in _NEXT[current]


def check_mark(current: ProgrammeStatus, new: ProgrammeStatus) -> None:
    """`can_mark`, refusing with "already-merged" or "status-not-allowed"."""
    if current is ProgrammeStatus.MERGED:
        raise DemandRefused("already-merged")
    if not can_mark(current, new):
        raise DemandRefused("status-not-allowed")
