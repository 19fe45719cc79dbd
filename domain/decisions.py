"""Assembly decisions: the two rules a committee (or council) decides by, and what a round's voices yield.

Endorsing a demand, joining a call, electing or recalling a delegate and changing settings are
decided by the assembly, not by whoever holds the group's admin rights (SPEC §2). Each committee
picks its rule:

- `consensus`, the Bolivian assembly's negotiated consensus (SPEC §1). Members agree, stand aside
  (let it pass without taking part), object (a concern recorded and shown, which does not stop it)
  or block. At the deadline the proposal passes if somebody agrees and nobody blocks. A block stops
  it (BLOCKED): the bot asks for negotiation and a new round may be opened on the same proposal.
  A round where nobody agrees, only stand-asides and objections, does not pass (REJECTED); a round
  where nobody spoke is NO_VOICES. Optionally, after `fallback_after_rounds` blocked rounds the next
  round also passes, despite blocks, by a supermajority: `supermajority` (default 2/3) of AGREE
  among AGREE + OBJECT + BLOCK, stand-asides not counted. The fallback exists to get past blocks,
  never to make passing harder, so a fallback round nobody blocks passes as consensus; and it is the
  last word: short of the supermajority, the proposal is REJECTED, not BLOCKED again.
- `majority`: YES, NO or ABSTAIN. It needs a quorum, counting everyone who voted (abstentions too):
  the fraction `quorum` of the members when their number is known, otherwise at least
  `quorum_count` voices (a group's member count is not always at hand). Then more YES than NO
  passes; a tie is REJECTED, and without the quorum it is NO_QUORUM.

Voices are keyed by pseudonym, so each member has one voice, which they may change until the
deadline: the latest counts (`latest`). Results are given as counts, never with names. Nothing is
decided before the deadline, not even a block under consensus, since a blocking member may withdraw
the block once negotiated; `outcome` can still be asked at any time to show the count so far.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar


class Rule(StrEnum):
    CONSENSUS = "consensus"
    MAJORITY = "majority"


class Kind(StrEnum):
    """What a decision is about, and so what passing it does: a proposal only records the will of the
    assembly; the others are opened by the bot and act when they pass (endorse a demand, answer a
    call, elect, give an alternate to or recall a delegate, change the rule or its fallback)."""

    PROPOSAL = "proposal"
    ENDORSE = "endorse"
    JOIN_CALL = "join_call"
    ELECT = "elect"
    ALTERNATE = "alternate"
    RECALL = "recall"
    RULE = "rule"
    FALLBACK = "fallback"


# The fallbacks a committee can choose in /settings: none, or after this many blocked rounds.
FALLBACK_CHOICES: tuple[int | None, ...] = (None, 2, 3)


class Choice(StrEnum):
    AGREE = "agree"
    STAND_ASIDE = "stand_aside"
    OBJECT = "object"
    BLOCK = "block"
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


# In the order the buttons show them.
CHOICES: Mapping[Rule, tuple[Choice, ...]] = {
    Rule.CONSENSUS: (Choice.AGREE, Choice.STAND_ASIDE, Choice.OBJECT, Choice.BLOCK),
    Rule.MAJORITY: (Choice.YES, Choice.NO, Choice.ABSTAIN),
}


class Status(StrEnum):
    OPEN = "open"
    PASSED = "passed"
    BLOCKED = "blocked"
    REJECTED = "rejected"
    NO_QUORUM = "no_quorum"
    NO_VOICES = "no_voices"


class DecisionRefused(Exception):
    """Why a voice or a decision step is not allowed; `reason` is a message key.

    Reasons: "choice-not-in-rule", "closed" (after the deadline, or the decision is decided),
    "same-choice" (the member already gave this voice), "not-blocked" (a new round only follows a
    block).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RuleSettings:
    """A committee's decision rule with its parameters; fixed for a decision when it is opened."""

    rule: Rule
    quorum: float = 0.5
    fallback_after_rounds: int | None = None
    supermajority: float = 2 / 3
    deadline_hours: float = 24
    quorum_count: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.quorum <= 1:
            raise ValueError("quorum is a fraction of the members, above 0 and at most 1")
        if not 0.5 < self.supermajority <= 1:
            raise ValueError("a supermajority is above one half and at most 1")
        if self.fallback_after_rounds is not None and self.fallback_after_rounds < 1:
            raise ValueError("a fallback comes after at least one blocked round")
        if not self.deadline_hours > 0:
            raise ValueError("a decision needs time to be taken")
        if self.quorum_count < 1:
            raise ValueError("a quorum is at least one voice")

    @property
    def deadline_seconds(self) -> int:
        return round(self.deadline_hours * 3600)

    def closes_at(self, opened_at: int) -> int:
        """When a round opened at `opened_at` (unix seconds) closes."""
        return opened_at + self.deadline_seconds

    def is_fallback_round(self, round_number: int) -> bool:
        """Whether a round decides by supermajority when blocked: rounds after the allowed blocked ones."""
        return (
            self.rule is Rule.CONSENSUS
            and self.fallback_after_rounds is not None
            and round_number > self.fallback_after_rounds
        )


@dataclass(frozen=True)
class Outcome:
    """What a round's voices yield: counts for every choice of the rule (zeros too), never names.

    `participants` is everyone who gave a voice. `quorum` is how many voices the quorum needed
    (majority only); `by_supermajority` says a consensus round passed despite blocks.
    """

    status: Status
    counts: Mapping[Choice, int]
    participants: int
    by_supermajority: bool = False
    quorum: int | None = None

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED


def choices_for(rule: Rule) -> list[Choice]:
    """The choices a rule offers, in button order."""
    return list(CHOICES[rule])


def check_choice(rule: Rule, choice: Choice | str) -> None:
    """Refuse a choice the rule does not offer (a stale button from before a change of rule)."""
    if choice not in CHOICES[rule]:
        raise DecisionRefused("choice-not-in-rule")


def parse_choice(rule: Rule, text: str) -> Choice:
    """The choice named by a button's data, or DecisionRefused "choice-not-in-rule"."""
    for choice in CHOICES[rule]:
        if text == choice.value:
            return choice
    raise DecisionRefused("choice-not-in-rule")


def check_vote(rule: Rule, choice: Choice, *, previous: Choice | None, now: int, closes_at: int) -> None:
    """Refuse a voice after the deadline, outside the rule, or the same as the member's last one.

    Changing one's voice before the deadline is allowed: the latest counts.
    """
    if now >= closes_at:
        raise DecisionRefused("closed")
    check_choice(rule, choice)
    if previous == choice:
        raise DecisionRefused("same-choice")


def check_new_round(last: Status) -> None:
    """A proposal gets a new round only after a blocked one."""
    if last is not Status.BLOCKED:
        raise DecisionRefused("not-blocked")


_K = TypeVar("_K", bytes, str)


def latest(voices: Iterable[tuple[_K, Choice]]) -> dict[_K, Choice]:
    """One voice per member from voices in the order given: a changed voice counts once, as last given."""
    return dict(voices)


def quorum_needed(settings: RuleSettings, members: int | None) -> int:
    """How many voices a majority decision needs: a share of the members, or `quorum_count` unknown."""
    if members is None:
        return settings.quorum_count
    return max(1, math.ceil(_fraction(settings.quorum) * members))


def outcome(
    settings: RuleSettings,
    voices: Mapping[bytes | str, Choice],
    *,
    members: int | None,
    round_number: int = 1,
) -> Outcome:
    """What a round's voices, one per pseudonym, yield at the deadline; see the module doc.

    `members` is the committee's number of members (None if unknown); only `majority` uses it.
    `round_number` counts the rounds on one proposal from 1, a new one being opened only after a
    block. A voice outside the rule is a bug (the rule is fixed when a decision opens): ValueError.
    """
    if round_number < 1:
        raise ValueError("rounds are counted from 1")
    offered = CHOICES[settings.rule]
    given = Counter(voices.values())
    if any(choice not in offered for choice in given):
        raise ValueError(f"a voice outside the {settings.rule} rule")
    counts = {choice: given[choice] for choice in offered}
    participants = len(voices)
    if settings.rule is Rule.MAJORITY:
        needed = quorum_needed(settings, members)
        if participants < needed:
            status = Status.NO_QUORUM
        elif counts[Choice.YES] > counts[Choice.NO]:
            status = Status.PASSED
        else:
            status = Status.REJECTED
        return Outcome(status, counts, participants, quorum=needed)
    if participants == 0:
        return Outcome(Status.NO_VOICES, counts, participants)
    agree, block = counts[Choice.AGREE], counts[Choice.BLOCK]
    if block == 0:
        return Outcome(Status.PASSED if agree else Status.REJECTED, counts, participants)
    if not settings.is_fallback_round(round_number):
        return Outcome(Status.BLOCKED, counts, participants)
    counted = agree + counts[Choice.OBJECT] + block
    if agree >= _fraction(settings.supermajority) * counted:
        return Outcome(Status.PASSED, counts, participants, by_supermajority=True)
    return Outcome(Status.REJECTED, counts, participants)


def _fraction(share: float) -> Fraction:
    """A share as the fraction people mean (2/3, not 0.6666…), so counts at the edge compare exactly."""
    return Fraction(share).limit_denominator(1000)
