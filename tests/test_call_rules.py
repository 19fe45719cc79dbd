"""The reach of calls, the words for kinds and scopes, the tally and the codes: plain rules."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot import council_codes
from bot.config import load_config
from domain import codes
from domain.calls import (
    STRIKE_KINDS,
    CallKind,
    CallRefused,
    Issuer,
    Scope,
    ScopeKind,
    Tally,
    allowed_scopes,
    check_scope,
    default_scope,
    failure_reason,
    parse_kind,
    parse_scope,
    split_kind,
    tally,
    target_regions,
)

FEDERATION = load_config(Path(__file__).resolve().parent.parent / "config.example.toml").federation
LEAVES = frozenset(r.id for r in FEDERATION.committee_regions())

COMMITTEE = Issuer("mangystau", committee_id=7)
REGIONAL_COUNCIL = Issuer("mangystau")
COORDINATING_COUNCIL = Issuer("kz")


def refused(call, *args) -> CallRefused:
    with pytest.raises(CallRefused) as caught:
        call(*args)
    return caught.value


# -- reach -------------------------------------------------------------------------------------


def test_the_example_federation_has_seventeen_regions_under_one_root():
    assert FEDERATION.root.id == "kz"
    assert len(LEAVES) == 17
    assert FEDERATION.regions["mangystau"].neighbours == ("atyrau", "aktobe")


def test_a_committee_reaches_itself_its_region_and_its_neighbours():
    assert allowed_scopes(FEDERATION, COMMITTEE) == [
        ScopeKind.COMMITTEE,
        ScopeKind.REGION,
        ScopeKind.NEIGHBOURS,
        ScopeKind.REGIONS,
    ]
    assert target_regions(FEDERATION, COMMITTEE, Scope(ScopeKind.COMMITTEE)) == {"mangystau"}
    assert target_regions(FEDERATION, COMMITTEE, Scope(ScopeKind.REGION)) == {"mangystau"}
    assert target_regions(FEDERATION, COMMITTEE, Scope(ScopeKind.NEIGHBOURS)) == {"atyrau", "aktobe"}
    assert target_regions(FEDERATION, COMMITTEE, Scope(ScopeKind.REGIONS, ("atyrau",))) == {"atyrau"}
    both = Scope(ScopeKind.REGIONS, ("mangystau", "aktobe"))
    assert target_regions(FEDERATION, COMMITTEE, both) == {"mangystau", "aktobe"}
    check_scope(FEDERATION, COMMITTEE, both)


def test_a_committee_cannot_reach_beyond_its_neighbours():
    karaganda = Scope(ScopeKind.REGIONS, ("karaganda",))  # a neighbour of aktobe, not of mangystau
    error = refused(check_scope, FEDERATION, COMMITTEE, karaganda)
    assert (error.reason, error.detail) == ("scope-beyond-rights", "karaganda")
    mixed = Scope(ScopeKind.REGIONS, ("atyrau", "karaganda"))
    assert refused(target_regions, FEDERATION, COMMITTEE, mixed).reason == "scope-beyond-rights"
    assert refused(check_scope, FEDERATION, COMMITTEE, Scope(ScopeKind.EVERYONE)).reason == "scope-beyond-rights"
    root = Scope(ScopeKind.REGIONS, ("kz",))
    assert refused(check_scope, FEDERATION, COMMITTEE, root).reason == "scope-beyond-rights"


def test_a_regional_council_reaches_its_area_only():
    assert allowed_scopes(FEDERATION, REGIONAL_COUNCIL) == [ScopeKind.REGION, ScopeKind.REGIONS]
    assert target_regions(FEDERATION, REGIONAL_COUNCIL, Scope(ScopeKind.REGION)) == {"mangystau"}
    within = Scope(ScopeKind.REGIONS, ("mangystau",))
    assert target_regions(FEDERATION, REGIONAL_COUNCIL, within) == {"mangystau"}
    error = refused(check_scope, FEDERATION, REGIONAL_COUNCIL, Scope(ScopeKind.REGIONS, ("atyrau",)))
    assert (error.reason, error.detail) == ("scope-beyond-rights", "atyrau")
    for kind in (ScopeKind.COMMITTEE, ScopeKind.NEIGHBOURS, ScopeKind.EVERYONE):
        assert refused(check_scope, FEDERATION, REGIONAL_COUNCIL, Scope(kind)).reason == "scope-beyond-rights"


def test_the_coordinating_council_reaches_everyone():
    assert allowed_scopes(FEDERATION, COORDINATING_COUNCIL) == [
        ScopeKind.REGION,
        ScopeKind.REGIONS,
        ScopeKind.EVERYONE,
    ]
    assert target_regions(FEDERATION, COORDINATING_COUNCIL, Scope(ScopeKind.EVERYONE)) == LEAVES
    assert target_regions(FEDERATION, COORDINATING_COUNCIL, Scope(ScopeKind.REGION)) == LEAVES
    far = Scope(ScopeKind.REGIONS, ("karaganda", "shymkent"))
    assert target_regions(FEDERATION, COORDINATING_COUNCIL, far) == {"karaganda", "shymkent"}
    assert target_regions(FEDERATION, COORDINATING_COUNCIL, Scope(ScopeKind.REGIONS, ("kz",))) == LEAVES
    for kind in (ScopeKind.COMMITTEE, ScopeKind.NEIGHBOURS):
        assert refused(check_scope, FEDERATION, COORDINATING_COUNCIL, Scope(kind)).reason == "scope-beyond-rights"


def test_unknown_regions_are_refused():
    error = refused(check_scope, FEDERATION, COORDINATING_COUNCIL, Scope(ScopeKind.REGIONS, ("narnia",)))
    assert (error.reason, error.detail) == ("unknown-region", "narnia")
    error = refused(allowed_scopes, FEDERATION, Issuer("narnia", committee_id=1))
    assert (error.reason, error.detail) == ("unknown-region", "narnia")


def test_default_scopes():
    assert default_scope(FEDERATION, COMMITTEE) == Scope(ScopeKind.COMMITTEE)
    assert default_scope(FEDERATION, REGIONAL_COUNCIL) == Scope(ScopeKind.REGION)
    assert default_scope(FEDERATION, COORDINATING_COUNCIL) == Scope(ScopeKind.EVERYONE)
    for issuer in (COMMITTEE, REGIONAL_COUNCIL, COORDINATING_COUNCIL):
        check_scope(FEDERATION, issuer, default_scope(FEDERATION, issuer))


def test_issuers():
    assert not COMMITTEE.is_council
    assert REGIONAL_COUNCIL.is_council
    assert COORDINATING_COUNCIL.is_council


# -- scopes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        Scope(ScopeKind.COMMITTEE),
        Scope(ScopeKind.REGION),
        Scope(ScopeKind.NEIGHBOURS),
        Scope(ScopeKind.EVERYONE),
        Scope(ScopeKind.REGIONS, ("atyrau",)),
        Scope(ScopeKind.REGIONS, ("atyrau", "west-kazakhstan")),
    ],
)
def test_scopes_are_stored_and_read_back(scope: Scope):
    assert Scope.decode(scope.encode()) == scope


def test_scope_encoding():
    assert Scope(ScopeKind.REGIONS, ("atyrau", "aktobe")).encode() == "regions:atyrau,aktobe"
    assert Scope(ScopeKind.EVERYONE).encode() == "everyone"
    assert Scope(ScopeKind.REGION).encode() == "region"
    with pytest.raises(ValueError):
        Scope.decode("galaxy")
    with pytest.raises(ValueError):
        Scope(ScopeKind.REGIONS)
    with pytest.raises(ValueError):
        Scope(ScopeKind.REGION, ("atyrau",))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("here", ScopeKind.COMMITTEE),
        ("  Committee ", ScopeKind.COMMITTEE),
        ("us", ScopeKind.COMMITTEE),
        ("здесь", ScopeKind.COMMITTEE),
        ("Комитет", ScopeKind.COMMITTEE),
        ("осында", ScopeKind.COMMITTEE),
        ("aquí", ScopeKind.COMMITTEE),
        ("aqui", ScopeKind.COMMITTEE),
        ("comité", ScopeKind.COMMITTEE),
        ("comite", ScopeKind.COMMITTEE),
        ("hier", ScopeKind.COMMITTEE),
        ("Komitee", ScopeKind.COMMITTEE),
        ("region", ScopeKind.REGION),
        ("регион", ScopeKind.REGION),
        ("область", ScopeKind.REGION),
        ("облыс", ScopeKind.REGION),
        ("өңір", ScopeKind.REGION),
        ("región", ScopeKind.REGION),
        ("Region", ScopeKind.REGION),
        ("neighbours", ScopeKind.NEIGHBOURS),
        ("neighbors", ScopeKind.NEIGHBOURS),
        ("соседи", ScopeKind.NEIGHBOURS),
        ("соседние", ScopeKind.NEIGHBOURS),
        ("көршілер", ScopeKind.NEIGHBOURS),
        ("vecinos", ScopeKind.NEIGHBOURS),
        ("Nachbarn", ScopeKind.NEIGHBOURS),
        ("all", ScopeKind.EVERYONE),
        ("everyone", ScopeKind.EVERYONE),
        ("everywhere", ScopeKind.EVERYONE),
        ("все", ScopeKind.EVERYONE),
        ("всем", ScopeKind.EVERYONE),
        ("везде", ScopeKind.EVERYONE),
        ("барлығы", ScopeKind.EVERYONE),
        ("бәрі", ScopeKind.EVERYONE),
        ("todos", ScopeKind.EVERYONE),
        ("ALLE", ScopeKind.EVERYONE),
    ],
)
def test_scope_words_in_every_language(text: str, kind: ScopeKind):
    for language in ("en", "ru", "kk", "es", "de"):
        assert parse_scope(text, FEDERATION, language) == Scope(kind)


def test_scopes_name_regions_by_id_or_name_in_any_language():
    assert parse_scope("atyrau", FEDERATION, "en") == Scope(ScopeKind.REGIONS, ("atyrau",))
    named = parse_scope("Atyrau, Мангистауская область ; aktobe", FEDERATION, "ru")
    assert named == Scope(ScopeKind.REGIONS, ("atyrau", "mangystau", "aktobe"))
    assert parse_scope("Маңғыстау облысы", FEDERATION, "kk") == Scope(ScopeKind.REGIONS, ("mangystau",))
    assert parse_scope("Región de Mangystau", FEDERATION, "es") == Scope(ScopeKind.REGIONS, ("mangystau",))
    assert parse_scope("west kazakhstan, atyrau, atyrau", FEDERATION, "de") == Scope(
        ScopeKind.REGIONS, ("west-kazakhstan", "atyrau")
    )


def test_unknown_region_names_and_empty_scopes_are_refused():
    error = refused(parse_scope, "atyrau, narnia", FEDERATION, "en")
    assert (error.reason, error.detail) == ("unknown-region", "narnia")
    assert refused(parse_scope, "kz", FEDERATION, "en").reason == "unknown-region"  # the root is no region
    assert refused(parse_scope, "", FEDERATION, "en").reason == "scope-empty"
    assert refused(parse_scope, " , ;", FEDERATION, "en").reason == "scope-empty"


def test_a_parsed_scope_is_then_checked_against_the_issuers_rights():
    scope = parse_scope("karaganda", FEDERATION, "en")
    assert refused(check_scope, FEDERATION, COMMITTEE, scope).reason == "scope-beyond-rights"
    check_scope(FEDERATION, COORDINATING_COUNCIL, scope)


# -- kinds -------------------------------------------------------------------------------------


def test_strike_kinds():
    assert {CallKind.STRIKE, CallKind.GENERAL_STRIKE, CallKind.SOLIDARITY_STRIKE} == STRIKE_KINDS


@pytest.mark.parametrize(
    ("text", "kind", "rest"),
    [
        ("", CallKind.STRIKE, ""),
        ("tomorrow 18:00", CallKind.STRIKE, "tomorrow 18:00"),
        ("general tomorrow 18:00", CallKind.GENERAL_STRIKE, "tomorrow 18:00"),
        ("General strike tomorrow", CallKind.GENERAL_STRIKE, "tomorrow"),
        ("всеобщая завтра 18:00", CallKind.GENERAL_STRIKE, "завтра 18:00"),
        ("общая забастовка завтра", CallKind.GENERAL_STRIKE, "завтра"),
        ("жалпы ертең", CallKind.GENERAL_STRIKE, "ертең"),
        ("generalstreik morgen", CallKind.GENERAL_STRIKE, "morgen"),
        ("huelga general mañana", CallKind.GENERAL_STRIKE, "mañana"),
        ("solidarity now", CallKind.SOLIDARITY_STRIKE, "now"),
        ("солидарности сейчас", CallKind.SOLIDARITY_STRIKE, "сейчас"),
        ("солидарная сейчас", CallKind.SOLIDARITY_STRIKE, "сейчас"),
        ("ынтымақ қазір", CallKind.SOLIDARITY_STRIKE, "қазір"),
        ("solidaridad ahora", CallKind.SOLIDARITY_STRIKE, "ahora"),
        ("Huelga de solidaridad ahora", CallKind.SOLIDARITY_STRIKE, "ahora"),
        ("solidaria ahora", CallKind.SOLIDARITY_STRIKE, "ahora"),
        ("Solidarität jetzt", CallKind.SOLIDARITY_STRIKE, "jetzt"),
        ("solidaritätsstreik jetzt", CallKind.SOLIDARITY_STRIKE, "jetzt"),
        ("solidaritatsstreik jetzt", CallKind.SOLIDARITY_STRIKE, "jetzt"),
        ("general: tomorrow\nline two", CallKind.GENERAL_STRIKE, "tomorrow\nline two"),
    ],
)
def test_strike_takes_an_optional_kind(text: str, kind: CallKind, rest: str):
    assert split_kind(text, "strike") == (kind, rest)


@pytest.mark.parametrize(
    ("text", "kind", "rest"),
    [
        ("tomorrow 18:00", CallKind.RALLY, "tomorrow 18:00"),
        ("blockade tomorrow", CallKind.BLOCKADE, "tomorrow"),
        ("блокада завтра", CallKind.BLOCKADE, "завтра"),
        ("бөгеу ертең", CallKind.BLOCKADE, "ертең"),
        ("bloqueo mañana", CallKind.BLOCKADE, "mañana"),
        ("Blockade morgen", CallKind.BLOCKADE, "morgen"),
    ],
)
def test_rally_takes_an_optional_kind(text: str, kind: CallKind, rest: str):
    assert split_kind(text, "rally") == (kind, rest)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("strike x", CallKind.STRIKE),
        ("забастовка x", CallKind.STRIKE),
        ("ереуіл x", CallKind.STRIKE),
        ("huelga x", CallKind.STRIKE),
        ("Streik x", CallKind.STRIKE),
        ("general_strike x", CallKind.GENERAL_STRIKE),
        ("general x", CallKind.GENERAL_STRIKE),
        ("solidarity_strike x", CallKind.SOLIDARITY_STRIKE),
        ("rally x", CallKind.RALLY),
        ("митинг x", CallKind.RALLY),
        ("manifestación x", CallKind.RALLY),
        ("manifestacion x", CallKind.RALLY),
        ("concentración x", CallKind.RALLY),
        ("Kundgebung x", CallKind.RALLY),
        ("demo x", CallKind.RALLY),
        ("blockade x", CallKind.BLOCKADE),
        ("bloqueo x", CallKind.BLOCKADE),
    ],
)
def test_call_requires_a_kind(text: str, kind: CallKind):
    assert split_kind(text, "call") == (kind, "x")


def test_kind_words_that_do_not_fit_the_command_are_refused():
    error = refused(split_kind, "picnic tomorrow", "call")
    assert (error.reason, error.detail) == ("unknown-kind", "picnic")
    assert refused(split_kind, "", "call").reason == "unknown-kind"
    error = refused(split_kind, "general tomorrow", "rally")
    assert (error.reason, error.detail) == ("kind-not-allowed", "general")
    assert refused(split_kind, "blockade tomorrow", "strike").reason == "kind-not-allowed"


def test_parse_kind_takes_nothing_but_a_kind():
    assert parse_kind("", "strike") == CallKind.STRIKE
    assert parse_kind("всеобщая", "strike", "ru") == CallKind.GENERAL_STRIKE
    assert parse_kind("huelga general", "call") == CallKind.GENERAL_STRIKE
    assert parse_kind("bloqueo", "rally") == CallKind.BLOCKADE
    assert refused(parse_kind, "general tomorrow", "strike").reason == "unknown-kind"
    assert refused(parse_kind, "picnic", "call").reason == "unknown-kind"


# -- tally ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("forbidden: bot was kicked from the group chat", "removed"),
        ("Forbidden: bot was blocked by the user", "removed"),
        ("chat not found", "not-found"),
        ("bad request: chat not found", "not-found"),
        ("bad request: message is too long", "refused"),
        ("TimedOut", "other"),
        ("", "other"),
        (None, "other"),
    ],
)
def test_failure_reasons(error: str | None, reason: str):
    assert failure_reason(error) == reason


def test_tally_counts_deliveries_and_answers():
    deliveries = [
        ("sent", None),
        ("sent", None),
        ("sent", "TimedOut"),  # sent after a retry: the old error stays on the row
        ("pending", None),
        ("inflight", None),
        ("failed", "forbidden: bot was kicked from the group chat"),
        ("failed", "forbidden: bot was blocked by the user"),
        ("failed", "chat not found"),
        ("failed", "bad request: message is too long"),
        ("dropped", None),
    ]
    answers = [("join", 120), ("join", None), ("join", 30), ("decline", 50), ("undecided", None)]
    result = tally(deliveries, answers)
    assert result == Tally(
        targets=10,
        delivered=3,
        waiting=2,
        failed={"removed": 2, "not-found": 1, "refused": 1},
        dropped=1,
        joined=3,
        declined=1,
        undecided=1,
        headcount=150,
    )
    assert result.failed_total == 4
    assert result.answered == 5
    assert result.targets == result.delivered + result.waiting + result.failed_total + result.dropped


def test_an_empty_tally():
    assert tally([], []) == Tally(0, 0, 0, {}, 0, 0, 0, 0, 0)


def test_tally_refuses_unknown_states_and_answers():
    with pytest.raises(ValueError):
        tally([("lost", None)], [])
    with pytest.raises(ValueError):
        tally([], [("maybe", None)])


# -- codes ---------------------------------------------------------------------------------------


def test_the_alphabet_has_no_look_alikes():
    assert len(codes.ALPHABET) == len(set(codes.ALPHABET)) == 31
    assert not set("0O1IL") & set(codes.ALPHABET)
    assert council_codes.ALPHABET == codes.ALPHABET


def test_call_codes():
    code = codes.new_call_code()
    first, second = code.split("-")
    assert len(first) == len(second) == 5
    assert set(first + second) <= set(codes.ALPHABET)
    assert codes.bits(codes.CALL_CODE_GROUPS * codes.CALL_CODE_GROUP_LENGTH) >= 40
    assert math.isclose(codes.bits(10), 49.54, abs_tol=0.01)
    assert len({codes.new_call_code() for _ in range(100)}) == 100


def test_council_codes_keep_their_form():
    code = council_codes.new_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4]
    assert set("".join(groups)) <= set(codes.ALPHABET)
    assert codes.bits(12) > 59


def test_codes_are_normalised_however_they_are_typed():
    code = codes.new_call_code()
    compact = code.replace("-", "")
    for typed in (
        code,
        code.lower(),
        compact,
        f"  {code[:5]} {code[6:]} ",
        code.replace("-", "_"),
        code.replace("-", "."),
    ):
        assert codes.normalise_code(typed) == compact
    assert codes.format_code(compact, codes.CALL_CODE_GROUP_LENGTH) == code
    council = council_codes.new_code()
    assert codes.format_code(codes.normalise_code(council.lower()), council_codes.GROUP_LENGTH) == council


@pytest.mark.parametrize("junk", ["", "  ", "--", "ABCDE-FGHJ0", "ABCDE-FGHJO", "hello!", "ABC1", "ÄBCDE"])
def test_junk_is_not_a_code(junk: str):
    assert codes.normalise_code(junk) is None


def test_codes_need_a_size():
    with pytest.raises(ValueError):
        codes.new_code(0, 4)
