"""Demand texts, similarity and merging, support and escalation, the programme's life cycle: plain rules."""

from __future__ import annotations

import pytest

from domain.demands import (
    AUTO_MERGE_AT,
    OUTCOMES,
    SUGGEST_AT,
    TEXT_MAX,
    DemandRefused,
    ProgrammeStatus,
    Threshold,
    backing_of,
    can_mark,
    check_mark,
    check_merge,
    clean_demand,
    is_same,
    merge_candidates,
    normalise,
    reached,
    similarity,
    support_within,
)
from domain.federation import Federation, Region


def federation(*regions: tuple[str, str | None]) -> Federation:
    return Federation(
        name="test",
        regions={rid: Region(rid, rid.title(), parent, "Asia/Almaty") for rid, parent in regions},
        councils={},
    )


# Like the example config: the leaves are the regions with regional councils, "kz" coordinates.
KZ = federation(("kz", None), ("mangystau", "kz"), ("atyrau", "kz"), ("aktobe", "kz"), ("karaganda", "kz"))
# With districts under Mangystau (the district level may or may not have councils).
DISTRICTS = federation(
    ("kz", None),
    ("mangystau", "kz"),
    ("zhanaozen", "mangystau"),
    ("aktau", "mangystau"),
    ("atyrau", "kz"),
)

REGIONAL = Threshold(3, 1)
COORDINATING = Threshold(3, 2)


def two_levels(node: str) -> Threshold:
    return COORDINATING if node == "kz" else REGIONAL


def refused(call, *args) -> str:
    with pytest.raises(DemandRefused) as caught:
        call(*args)
    return caught.value.reason


# -- text --------------------------------------------------------------------------------------


def test_a_demand_is_trimmed_collapsed_and_composed():
    assert clean_demand("  Повысить   зарплату\tна 100%  ") == "Повысить зарплату на 100%"
    # Decomposed "й" (и + breve) is stored composed.
    assert clean_demand("Повысить зарплату мужчинам и\u0306") == "Повысить зарплату мужчинам й"
    assert clean_demand("Aumento\u00a0salarial") == "Aumento salarial"


def test_line_breaks_are_kept_but_not_piled_up():
    text = "Demands:\r\n\r\n\r\n  1. wages  \n2. unions\n\n\n\n"
    assert clean_demand(text) == "Demands:\n\n1. wages\n2. unions"
    assert clean_demand("a\x00b\x07c") == "abc"


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t", "\u200b\u200b", "🔥🔥🔥", "!!! ..."])
def test_an_empty_demand_is_refused(text):
    assert refused(clean_demand, text) == "empty"


def test_a_demand_has_a_bounded_length_after_cleaning():
    assert len(clean_demand("x" * TEXT_MAX)) == TEXT_MAX
    assert clean_demand("x" * TEXT_MAX + "   ") == "x" * TEXT_MAX
    assert len(clean_demand("x    " * (TEXT_MAX // 2))) == TEXT_MAX - 1  # counted after collapsing spaces
    assert refused(clean_demand, "x" * (TEXT_MAX + 1)) == "too-long"


def test_normalisation_keeps_words_and_digits_only():
    assert normalise("Повысить ЗАРПЛАТУ на 100%!!! 🔥") == "повысить зарплату на 100"
    assert normalise("повысить зарплату на 100 %") == "повысить зарплату на 100"
    assert normalise("Жалақыны  100%  көтеру!") == "жалақыны 100 көтеру"
    assert normalise("¡Libertad   sindical, YA!") == "libertad sindical ya"
    assert normalise("Don't cut wages") == "dont cut wages"
    assert normalise("Ｆｒｅｅ ｕｎｉｏｎｓ １００") == "free unions 100"  # full-width forms, NFKC
    assert normalise("Straße") == "strasse"  # casefold
    assert normalise("—") == ""


# -- similarity ----------------------------------------------------------------------------------

# Paraphrases of one demand: suggested for a merge, in each language.
SAME_DEMAND = [
    ("Повысить зарплату на 100%", "повышение зарплаты на 100 %"),
    ("Снизить цену на газ", "снижение цен на газ"),
    ("Отменить нормы выработки", "отмена необоснованных норм выработки"),
    ("Отставка правительства", "правительство в отставку"),
    ("Жалақыны 100% көтеру", "Жалақыны 100 пайызға көтеру"),
    ("Кәсіподақ құру еркіндігі", "Тәуелсіз кәсіподақтар құру еркіндігі"),
    ("Freedom to form unions", "the freedom to form independent unions"),
    ("free political prisoners", "free all political prisoners now"),
    ("Better working conditions", "better conditions"),
    ("lower fuel prices", "lower gas prices"),
    ("Libertad para formar sindicatos", "libertad de formar sindicatos independientes"),
    ("Aumento salarial del 100%", "aumento del salario de 100 %"),
    ("Bajar el precio del gas", "Bajar el precio del gas licuado"),
]

# Different demands: not even suggested.
DIFFERENT = [
    ("lower fuel prices", "free political prisoners"),
    ("Freedom to form unions", "Right to strike"),
    ("Freedom to form unions", "Freedom of assembly"),
    ("Improve safety at work", "Improve housing"),
    ("Raise wages", "Raise pensions"),
    ("Снизить цены на газ", "Освободить политзаключённых"),
    ("Повысить зарплату", "Повысить пенсии"),
    ("Отставка правительства", "Отставка акима области"),
    ("Бесплатная медицина", "Бесплатное образование"),
    ("Газ бағасын төмендету", "Саяси тұтқындарды босату"),
    ("Жалақыны көтеру", "Зейнетақыны көтеру"),
    ("Bajar el precio del gas", "Liberar a los presos políticos"),
    ("Subir salarios", "Subir pensiones"),
    # Across languages no string score helps: these are merged by hand.
    ("Повысить зарплату на 100%", "Жалақыны 100% көтеру"),
]

# The same words up to case, punctuation, emoji, spacing, word order or a typo: merged without asking.
IDENTICAL = [
    ("Повысить зарплату на 100%", "повысить зарплату на 100 %!"),
    ("Повысить зарплату на 100%", "Зарплату повысить на 100%"),
    ("Повысить зарплату на 100%", "Повысит зарплату на 100%"),
    ("Прекратить преследование активистов", "Прекратить преследования активистов"),
    ("Жалақыны 100% көтеру", "жалақыны 100 % көтеру!"),
    ("Lower fuel prices", "lower fuel prices!!! 🔥"),
    ("Freedom to form unions", "  FREEDOM to form unions."),
    ("Aumento salarial del 100%", "Aumento salarial del 100 % ✊"),
]

# Near-identical texts that say something else: at most suggested, never merged.
GUARDED = [
    ("Повысить зарплату на 100%", "Повысить зарплату на 10%"),
    ("Raise wages by 100%", "Raise wages by 10%"),
    ("Вернуть цену газа 50 тенге", "Вернуть цену газа 60 тенге"),
    ("Жалақыны 100% көтеру", "Жалақыны көтеру"),
    ("the government must resign", "the government must not resign"),
    ("Нет повышению цен на газ", "Повышение цен на газ"),
    ("Privatización del agua", "No a la privatización del agua"),
    # token_set_ratio alone would score these 100: one text contains the other.
    ("wage rise", "wage rise and the government must resign and free political prisoners"),
    # Stems alone ("акима"/"акимата") never merge without asking.
    ("Отставка акима", "Отставка акимата"),
]


@pytest.mark.parametrize(("a", "b"), SAME_DEMAND)
def test_paraphrases_are_suggested_but_not_merged(a, b):
    assert SUGGEST_AT <= similarity(a, b) < AUTO_MERGE_AT
    assert merge_candidates(a, [(7, b)]) == [(7, similarity(a, b))]
    assert not is_same(a, b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_demands_score_low(a, b):
    assert similarity(a, b) < SUGGEST_AT
    assert merge_candidates(a, [(1, b)]) == []


@pytest.mark.parametrize(("a", "b"), IDENTICAL)
def test_the_same_words_merge_without_asking(a, b):
    assert similarity(a, b) >= AUTO_MERGE_AT
    assert is_same(a, b)
    assert is_same(b, a)


@pytest.mark.parametrize(("a", "b"), GUARDED)
def test_other_numbers_or_a_negation_never_merge_by_themselves(a, b):
    assert not is_same(a, b)


def test_similarity_is_symmetric_and_bounded():
    for a, b in SAME_DEMAND + DIFFERENT + IDENTICAL + GUARDED:
        assert similarity(a, b) == similarity(b, a)
        assert 0 <= similarity(a, b) <= 100
    assert similarity("Right to strike", "Right to strike") == 100
    assert similarity("", "Right to strike") == 0
    assert similarity("🔥", "🔥") == 0  # nothing to compare is not a match


def test_merge_candidates_best_first_then_oldest():
    others = [
        (1, "free political prisoners"),
        (2, "повышение зарплаты на 100 %"),
        (3, "Повысить зарплату на 100 %!"),
        (4, "Повысить зарплату на 10%"),
        (5, "повысить зарплату на 100"),
        (6, "Жалақыны 100% көтеру"),
    ]
    found = merge_candidates("Повысить зарплату на 100%", others)
    assert [demand_id for demand_id, _ in found] == [3, 5, 4, 2]
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)
    assert found[0] == (3, 100.0) and found[1] == (5, 100.0)
    assert merge_candidates("Повысить зарплату на 100%", others, at=AUTO_MERGE_AT) == [(3, 100.0), (5, 100.0)]
    assert merge_candidates("Повысить зарплату на 100%", []) == []
    everything = merge_candidates("Повысить зарплату на 100%", iter(others), at=0)  # any iterable
    assert sorted(demand_id for demand_id, _ in everything) == [1, 2, 3, 4, 5, 6]


def test_a_demand_is_not_merged_into_itself_or_a_merged_one():
    check_merge(1, 2, ProgrammeStatus.ENDORSED, ProgrammeStatus.ADOPTED)
    assert refused(check_merge, 3, 3, ProgrammeStatus.ENDORSED, ProgrammeStatus.ENDORSED) == "merge-into-itself"
    assert refused(check_merge, 3, 4, ProgrammeStatus.MERGED, ProgrammeStatus.ENDORSED) == "already-merged"
    assert refused(check_merge, 3, 4, ProgrammeStatus.ENDORSED, ProgrammeStatus.MERGED) == "already-merged"


# -- support and escalation ----------------------------------------------------------------------


def test_backing_counts_each_committee_once():
    # Committee 1 backed two demands that were merged; it counts once.
    assert backing_of([(1, "mangystau"), (2, "mangystau"), (1, "mangystau"), (3, "atyrau")]) == {
        "mangystau": 2,
        "atyrau": 1,
    }
    assert backing_of([]) == {}


def test_support_within_an_area():
    backing = {"mangystau": 3, "atyrau": 1, "aktobe": 0, "narnia": 5}
    assert support_within(KZ, "kz", backing) == (4, 2)  # zero counts and unknown regions left out
    assert support_within(KZ, "mangystau", backing) == (3, 1)
    assert support_within(KZ, "karaganda", backing) == (0, 0)
    assert support_within(DISTRICTS, "mangystau", {"zhanaozen": 2, "aktau": 1, "atyrau": 4}) == (3, 2)


def test_a_demand_reaches_its_regional_council():
    assert reached(KZ, "mangystau", {"mangystau": 2}, two_levels) == []
    assert reached(KZ, "mangystau", {"mangystau": 3}, two_levels) == ["mangystau"]
    # 3 committees in one region meet the coordinating council's committees, not its regions.
    assert reached(KZ, "mangystau", {"mangystau": 5}, two_levels) == ["mangystau"]


def test_a_demand_rises_two_levels():
    assert reached(KZ, "mangystau", {"mangystau": 3, "atyrau": 1}, two_levels) == ["mangystau", "kz"]


def test_a_demand_stops_at_the_first_level_not_met():
    # Plenty of support across the country, but its own regional council's threshold is not met.
    backing = {"mangystau": 1, "atyrau": 3, "aktobe": 3}
    assert reached(KZ, "mangystau", backing, two_levels) == []
    # From Atyrau, the same support rises all the way.
    assert reached(KZ, "atyrau", backing, two_levels) == ["atyrau", "kz"]


def test_levels_without_a_council_are_passed_over():
    only_top = {"kz": COORDINATING}.get
    assert reached(KZ, "mangystau", {"mangystau": 2, "atyrau": 1}, only_top) == ["kz"]
    assert reached(KZ, "mangystau", {"mangystau": 3}, only_top) == []
    assert reached(KZ, "mangystau", {"mangystau": 3}, lambda node: None) == []


def test_districts_regions_and_the_coordinating_council():
    thresholds = {"zhanaozen": Threshold(2), "mangystau": Threshold(3, 2), "kz": Threshold(4, 2)}.get
    assert reached(DISTRICTS, "zhanaozen", {"zhanaozen": 2}, thresholds) == ["zhanaozen"]
    assert reached(DISTRICTS, "zhanaozen", {"zhanaozen": 2, "aktau": 1}, thresholds) == ["zhanaozen", "mangystau"]
    backing = {"zhanaozen": 2, "aktau": 1, "atyrau": 1}
    assert reached(DISTRICTS, "zhanaozen", backing, thresholds) == ["zhanaozen", "mangystau", "kz"]
    # Aktau has no district council: its demands go straight to the regional one.
    assert reached(DISTRICTS, "aktau", backing, thresholds) == ["mangystau", "kz"]


def test_a_threshold_asks_for_something():
    assert Threshold(3).regions == 1
    assert Threshold(3, 2).met(3, 2) and not Threshold(3, 2).met(3, 1) and not Threshold(3, 2).met(2, 2)
    for committees, regions in ((0, 1), (1, 0)):
        with pytest.raises(ValueError):
            Threshold(committees, regions)


# -- the programme -------------------------------------------------------------------------------

S = ProgrammeStatus


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.PROPOSED, S.ENDORSED),
        (S.PROPOSED, S.REJECTED),
        (S.ENDORSED, S.ESCALATED),
        (S.ESCALATED, S.ADOPTED),
        (S.ESCALATED, S.REJECTED),
        (S.ADOPTED, S.WON),
        (S.ADOPTED, S.CONCEDED),
        (S.ADOPTED, S.REJECTED),
        (S.CONCEDED, S.WON),
        (S.WON, S.CONCEDED),
        (S.WON, S.REJECTED),
        (S.REJECTED, S.ADOPTED),
    ],
)
def test_allowed_marks(current, new):
    assert can_mark(current, new)
    check_mark(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.PROPOSED, S.ESCALATED),
        (S.PROPOSED, S.ADOPTED),
        (S.PROPOSED, S.WON),
        (S.ENDORSED, S.ADOPTED),
        (S.ENDORSED, S.WON),
        (S.ESCALATED, S.WON),
        (S.ESCALATED, S.PROPOSED),
        (S.ADOPTED, S.PROPOSED),
        (S.ADOPTED, S.ESCALATED),
        (S.REJECTED, S.WON),
        (S.WON, S.ESCALATED),
    ],
)
def test_refused_marks(current, new):
    assert not can_mark(current, new)
    assert refused(check_mark, current, new) == "status-not-allowed"


def test_nothing_is_marked_what_it_already_is():
    for status in S:
        assert not can_mark(status, status)


def test_anything_but_a_merged_demand_may_be_merged():
    for status in S:
        assert can_mark(status, S.MERGED) is (status is not S.MERGED)
    for status in S:
        assert not can_mark(S.MERGED, status)
        assert refused(check_mark, S.MERGED, status) == "already-merged"


def test_outcomes_are_what_flows_back_to_backers():
    assert {S.WON, S.CONCEDED, S.REJECTED} == OUTCOMES
    assert all(can_mark(S.ADOPTED, outcome) for outcome in OUTCOMES)
