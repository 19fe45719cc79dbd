"""Assembly decisions (consensus, majority), voices, and delegates' terms and recall: plain rules."""

from __future__ import annotations

import pytest

from domain.decisions import (
    Choice,
    DecisionRefused,
    Outcome,
    Rule,
    RuleSettings,
    Status,
    check_choice,
    check_new_round,
    check_vote,
    choices_for,
    latest,
    outcome,
    parse_choice,
    quorum_needed,
)
from domain.delegates import (
    MANDATE_MAX,
    TERM_DAYS_MAX,
    DelegateRefused,
    Notice,
    Source,
    Term,
    check_alternate,
    check_recall,
    clean_mandate,
    parse_election,
    serving,
    term_ending_soon,
    term_notices,
    who_serves,
)

A, SA, OB, BL = Choice.AGREE, Choice.STAND_ASIDE, Choice.OBJECT, Choice.BLOCK
Y, N, AB = Choice.YES, Choice.NO, Choice.ABSTAIN

CONSENSUS = RuleSettings(Rule.CONSENSUS)
FALLBACK = RuleSettings(Rule.CONSENSUS, fallback_after_rounds=2)
MAJORITY = RuleSettings(Rule.MAJORITY)


def voices(*choices: Choice) -> dict[bytes, Choice]:
    """Voices keyed by pseudonyms, one member each."""
    return {f"member-{i}".encode(): choice for i, choice in enumerate(choices)}


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(DecisionRefused) as caught:
        call(*args, **kwargs)
    return caught.value.reason


# -- choices -------------------------------------------------------------------------------------


def test_each_rule_offers_its_choices():
    assert choices_for(Rule.CONSENSUS) == [A, SA, OB, BL]
    assert choices_for(Rule.MAJORITY) == [Y, N, AB]
    check_choice(Rule.CONSENSUS, BL)
    check_choice(Rule.MAJORITY, "abstain")
    assert refused(check_choice, Rule.CONSENSUS, Y) == "choice-not-in-rule"
    assert refused(check_choice, Rule.MAJORITY, BL) == "choice-not-in-rule"


def test_button_data_is_parsed_against_the_rule():
    assert parse_choice(Rule.CONSENSUS, "stand_aside") is SA
    assert parse_choice(Rule.MAJORITY, "no") is N
    for bad in ("yes", "", "AGREE", "agree ", "\x00"):
        assert refused(parse_choice, Rule.CONSENSUS, bad) == "choice-not-in-rule"


def test_a_voice_is_given_before_the_deadline_and_may_change():
    check_vote(Rule.CONSENSUS, A, previous=None, now=99, closes_at=100)
    check_vote(Rule.CONSENSUS, BL, previous=A, now=99, closes_at=100)  # changing one's voice
    assert refused(check_vote, Rule.CONSENSUS, A, previous=A, now=99, closes_at=100) == "same-choice"
    assert refused(check_vote, Rule.CONSENSUS, A, previous=None, now=100, closes_at=100) == "closed"
    assert refused(check_vote, Rule.CONSENSUS, Y, previous=None, now=0, closes_at=100) == "choice-not-in-rule"


def test_a_changed_voice_counts_once_as_last_given():
    given = latest([(b"ana", A), (b"bo", A), (b"ana", BL), (b"ana", SA)])
    assert given == {b"ana": SA, b"bo": A}
    result = outcome(CONSENSUS, given, members=None)
    assert result.participants == 2
    assert result.counts == {A: 1, SA: 1, OB: 0, BL: 0}
    assert result.status is Status.PASSED


# -- consensus -----------------------------------------------------------------------------------


def test_consensus_passes_when_nobody_blocks():
    result = outcome(CONSENSUS, voices(A, A, A, SA, OB, OB), members=60)
    assert result == Outcome(Status.PASSED, {A: 3, SA: 1, OB: 2, BL: 0}, 6)
    assert result.passed and not result.by_supermajority
    # Objections are recorded, not a veto: one agreeing voice against many concerns still passes.
    assert outcome(CONSENSUS, voices(A, OB, OB, OB, OB), members=None).status is Status.PASSED


def test_consensus_is_blocked_by_one_block():
    result = outcome(CONSENSUS, voices(A, A, A, A, A, A, A, A, A, BL), members=10)
    assert result.status is Status.BLOCKED
    assert result.counts[BL] == 1 and result.participants == 10


def test_consensus_blocked_then_passed_in_a_new_round():
    first = outcome(CONSENSUS, voices(A, A, OB, BL), members=None, round_number=1)
    assert first.status is Status.BLOCKED
    check_new_round(first.status)
    # After negotiation the blocking member stands aside.
    second = outcome(CONSENSUS, voices(A, A, OB, SA), members=None, round_number=2)
    assert second.status is Status.PASSED
    assert second.counts == {A: 2, SA: 1, OB: 1, BL: 0}
    # Without a fallback, every round is consensus: a block in round 10 still blocks.
    assert outcome(CONSENSUS, voices(A, A, A, A, A, BL), members=None, round_number=10).status is Status.BLOCKED


def test_only_a_blocked_proposal_gets_a_new_round():
    check_new_round(Status.BLOCKED)
    for status in (Status.PASSED, Status.REJECTED, Status.NO_VOICES, Status.OPEN):
        assert refused(check_new_round, status) == "not-blocked"


def test_consensus_without_voices_does_not_pass():
    result = outcome(CONSENSUS, {}, members=40)
    assert result == Outcome(Status.NO_VOICES, {A: 0, SA: 0, OB: 0, BL: 0}, 0)
    assert not result.passed


def test_consensus_needs_somebody_to_agree():
    assert outcome(CONSENSUS, voices(SA, SA, SA), members=None).status is Status.REJECTED
    assert outcome(CONSENSUS, voices(SA, OB), members=None).status is Status.REJECTED
    assert outcome(CONSENSUS, voices(SA, SA, A), members=None).status is Status.PASSED


def test_fallback_to_a_supermajority_after_blocked_rounds():
    blocked = voices(A, A, A, A, A, A, OB, OB, BL)  # 6 of 9 counted agree: exactly 2/3
    for round_number in (1, 2):
        assert outcome(FALLBACK, blocked, members=None, round_number=round_number).status is Status.BLOCKED
    third = outcome(FALLBACK, blocked, members=None, round_number=3)
    assert third.status is Status.PASSED and third.by_supermajority
    assert third.counts == {A: 6, SA: 0, OB: 2, BL: 1}


def test_stand_asides_do_not_count_in_the_supermajority():
    # 4 agree of 4 + 1 + 1 counted = 2/3, whatever the stand-asides.
    many_aside = voices(A, A, A, A, OB, BL, SA, SA, SA, SA, SA, SA)
    result = outcome(FALLBACK, many_aside, members=None, round_number=3)
    assert result.status is Status.PASSED and result.by_supermajority
    assert result.participants == 12
    # 3 of 5 counted is short of 2/3: the fallback is the last word, so it is rejected, not blocked.
    short = outcome(FALLBACK, voices(A, A, A, OB, BL, SA, SA, SA), members=None, round_number=3)
    assert short.status is Status.REJECTED and not short.by_supermajority


def test_a_fallback_round_nobody_blocks_passes_as_consensus():
    result = outcome(FALLBACK, voices(A, OB, OB, OB), members=None, round_number=3)
    assert result.status is Status.PASSED and not result.by_supermajority
    assert outcome(FALLBACK, {}, members=None, round_number=3).status is Status.NO_VOICES


def test_the_supermajority_is_configurable():
    three_quarters = RuleSettings(Rule.CONSENSUS, fallback_after_rounds=1, supermajority=0.75)
    assert outcome(three_quarters, voices(A, A, A, BL), members=None, round_number=2).status is Status.PASSED
    assert outcome(three_quarters, voices(A, A, BL), members=None, round_number=2).status is Status.REJECTED
    assert outcome(three_quarters, voices(A, A, A, BL), members=None, round_number=1).status is Status.BLOCKED


def test_blocks_alone_in_a_fallback_round_are_rejected():
    assert outcome(FALLBACK, voices(BL, BL, SA), members=None, round_number=3).status is Status.REJECTED


# -- majority ------------------------------------------------------------------------------------


def test_majority_passes_with_quorum_and_more_yes_than_no():
    result = outcome(MAJORITY, voices(Y, Y, Y, N, N, AB), members=10)
    assert result == Outcome(Status.PASSED, {Y: 3, N: 2, AB: 1}, 6, quorum=5)


def test_majority_without_quorum():
    result = outcome(MAJORITY, voices(Y, Y, Y, Y), members=10)
    assert result.status is Status.NO_QUORUM
    assert result.quorum == 5 and result.participants == 4
    assert not result.passed


def test_abstentions_count_for_the_quorum_not_the_majority():
    assert outcome(MAJORITY, voices(Y, AB, AB, AB, AB), members=10).status is Status.PASSED
    assert outcome(MAJORITY, voices(AB, AB, AB, AB, AB), members=10).status is Status.REJECTED


def test_a_tie_is_rejected():
    assert outcome(MAJORITY, voices(Y, Y, N, N, AB), members=8).status is Status.REJECTED
    assert outcome(MAJORITY, voices(Y, N, N), members=4).status is Status.REJECTED


def test_quorum_is_a_share_of_members_rounded_up():
    assert quorum_needed(MAJORITY, 10) == 5
    assert quorum_needed(MAJORITY, 11) == 6
    assert quorum_needed(MAJORITY, 1) == 1
    assert quorum_needed(MAJORITY, 0) == 1  # a decision needs at least one voice
    two_thirds = RuleSettings(Rule.MAJORITY, quorum=2 / 3)
    assert quorum_needed(two_thirds, 3) == 2
    assert quorum_needed(two_thirds, 60) == 40
    # 0.1 × 30 is 3.0000000000000004 in floats; people mean 3.
    assert quorum_needed(RuleSettings(Rule.MAJORITY, quorum=0.1), 30) == 3
    assert quorum_needed(RuleSettings(Rule.MAJORITY, quorum=1), 7) == 7


def test_quorum_when_members_are_unknown_is_a_count():
    assert quorum_needed(MAJORITY, None) == 3
    assert outcome(MAJORITY, voices(Y, Y), members=None).status is Status.NO_QUORUM
    assert outcome(MAJORITY, voices(Y, Y, N), members=None) == Outcome(Status.PASSED, {Y: 2, N: 1, AB: 0}, 3, quorum=3)
    five = RuleSettings(Rule.MAJORITY, quorum_count=5)
    assert outcome(five, voices(Y, Y, Y, Y), members=None).status is Status.NO_QUORUM


def test_majority_has_no_rounds_or_supermajority():
    settings = RuleSettings(Rule.MAJORITY, fallback_after_rounds=1)
    assert not settings.is_fallback_round(5)
    assert outcome(settings, voices(Y, N, N), members=3, round_number=5).status is Status.REJECTED


def test_a_voice_outside_the_rule_is_a_bug():
    with pytest.raises(ValueError):
        outcome(MAJORITY, voices(Y, BL), members=None)
    with pytest.raises(ValueError):
        outcome(CONSENSUS, voices(A), members=None, round_number=0)


def test_voices_keyed_by_text_pseudonyms_too():
    assert outcome(CONSENSUS, {"p1": A, "p2": OB}, members=None).status is Status.PASSED


# -- settings ------------------------------------------------------------------------------------


def test_settings_defaults_and_deadline():
    settings = RuleSettings(Rule.CONSENSUS)
    assert (settings.quorum, settings.fallback_after_rounds, settings.supermajority) == (0.5, None, 2 / 3)
    assert settings.deadline_seconds == 24 * 3600
    assert RuleSettings(Rule.MAJORITY, deadline_hours=1.5).closes_at(1000) == 1000 + 5400
    assert not settings.is_fallback_round(99)
    assert not FALLBACK.is_fallback_round(2) and FALLBACK.is_fallback_round(3)


@pytest.mark.parametrize(
    "changes",
    [
        {"quorum": 0},
        {"quorum": 1.5},
        {"supermajority": 0.5},
        {"supermajority": 1.01},
        {"fallback_after_rounds": 0},
        {"deadline_hours": 0},
        {"quorum_count": 0},
    ],
)
def test_settings_that_make_no_sense_are_bugs(changes):
    with pytest.raises(ValueError):
        RuleSettings(Rule.MAJORITY, **changes)


# -- delegates -----------------------------------------------------------------------------------

TERM = Term(starts_at=1_000, ends_at=2_000)


def test_rotation_at_half_term():
    assert TERM.half == 1_500
    assert who_serves(TERM, 1_000, "holder", "alternate") == "holder"
    assert who_serves(TERM, 1_499, "holder", "alternate") == "holder"
    assert who_serves(TERM, 1_500, "holder", "alternate") == "alternate"
    assert who_serves(TERM, 1_999, "holder", "alternate") == "alternate"
    # Before the term and after it: the holder first, the alternate until the assembly elects anew.
    assert who_serves(TERM, 0, "holder", "alternate") == "holder"
    assert who_serves(TERM, 5_000, "holder", "alternate") == "alternate"
    assert TERM.is_over(2_000) and not TERM.is_over(1_999)


def test_without_an_alternate_the_holder_serves_the_whole_term():
    assert who_serves(TERM, 1_999, b"pseudonym-a", None) == b"pseudonym-a"


def test_an_odd_term_rotates_on_the_second_rounded_down():
    assert Term(0, 7).half == 3


def test_the_end_of_a_term_is_announced():
    assert not term_ending_soon(TERM, 1_799, warn_s=200)
    assert term_ending_soon(TERM, 1_800, warn_s=200)
    assert term_ending_soon(TERM, 1_999, warn_s=200)
    assert not term_ending_soon(TERM, 2_000, warn_s=200)  # over, not ending


def test_a_term_ends_after_it_starts():
    for starts, ends in ((10, 10), (10, 5)):
        with pytest.raises(ValueError):
            Term(starts, ends)


def test_only_elected_delegates_are_recalled():
    check_recall(Source.ELECTED)
    for source, reason in ((None, "not-a-delegate"), (Source.ADMIN, "admin-not-recallable")):
        with pytest.raises(DelegateRefused) as caught:
            check_recall(source)
        assert caught.value.reason == reason


def test_a_mandate_is_trimmed_and_bounded():
    assert clean_mandate("  Vote for the 100%   wage rise\r\n\r\n only with  Atyrau ") == (
        "Vote for the 100% wage rise\nonly with Atyrau"
    )
    assert clean_mandate("   ") == ""
    assert len(clean_mandate("x" * MANDATE_MAX)) == MANDATE_MAX
    with pytest.raises(DelegateRefused) as caught:
        clean_mandate("x" * (MANDATE_MAX + 1))
    assert caught.value.reason == "mandate-too-long"


def delegate_refused(call, *args, **kwargs) -> str:
    with pytest.raises(DelegateRefused) as caught:
        call(*args, **kwargs)
    return caught.value.reason


def test_an_election_names_a_term_in_days_and_a_mandate():
    assert parse_election(" 90 | Negotiate the wage rise ") == (90, "Negotiate the wage rise")
    assert parse_election("Negotiate the wage rise") == (None, "Negotiate the wage rise")
    assert parse_election("| Negotiate") == (None, "Negotiate")
    # Without "|", a mandate that starts with a number stays whole.
    assert parse_election("100% wage rise, nothing less") == (None, "100% wage rise, nothing less")
    assert parse_election(f"{TERM_DAYS_MAX} | x") == (TERM_DAYS_MAX, "x")
    for text, reason in (
        ("", "no-mandate"),
        ("30 |  ", "no-mandate"),
        ("0 | x", "bad-term"),
        (f"{TERM_DAYS_MAX + 1} | x", "bad-term"),
        ("thirty | x", "bad-term"),
        ("²| x", "bad-term"),
        ("1 | " + "x" * (MANDATE_MAX + 1), "mandate-too-long"),
    ):
        assert delegate_refused(parse_election, text) == reason, text


def test_an_office_without_a_term_is_the_holders_until_recalled():
    assert serving(None, 10**12, "holder", "alternate") == "holder"
    assert serving(TERM, 1_500, "holder", "alternate") == "alternate"


def test_an_alternate_comes_before_half_term_to_an_office_with_a_term():
    check_alternate(TERM, 1_499, has_alternate=False, own=False)
    assert delegate_refused(check_alternate, None, 0, has_alternate=False, own=False) == "no-term"
    assert delegate_refused(check_alternate, TERM, 1_000, has_alternate=False, own=True) == "own-alternate"
    assert delegate_refused(check_alternate, TERM, 1_000, has_alternate=True, own=False) == "has-alternate"
    assert delegate_refused(check_alternate, TERM, 1_500, has_alternate=False, own=False) == "past-half-term"


def test_the_notices_of_a_term():
    assert term_notices(TERM, has_alternate=True, warn_s=200) == {
        Notice.ROTATION: 1_500,
        Notice.REMINDER: 1_800,
        Notice.END: 2_000,
    }
    # No rotation without an alternate; no reminder when the warning would come before the term starts.
    assert term_notices(TERM, has_alternate=False, warn_s=1_000) == {Notice.END: 2_000}
