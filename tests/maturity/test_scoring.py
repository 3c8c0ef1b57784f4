"""The scoring (``voucher.calc.maturity``): pure, with the working; properties over every answer set."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher.calc.common import CalcInputError
from voucher.calc.maturity import TrialOutcome, evidence, rank, score_assessment
from voucher.maturity.questionnaire import DEFAULT_CONTENT, structure

DIMS = structure(DEFAULT_CONTENT)
QUESTIONS = [q for _d, qs in DIMS for q in qs]


def test_a_worked_example_with_the_weakest_dimension_capping_the_overall_level():
    dims = [("a", ["a1", "a2", "a3"]), ("b", ["b1"]), ("c", ["c1", "c2"])]
    result = score_assessment(dims, {"a1": 5, "a2": 5, "a3": 4, "b1": 1, "c1": 5, "c2": 5})
    assert [(d.code, d.score, d.level) for d in result.dimensions] == [
        ("a", Decimal("4.67"), 4), ("b", Decimal("1.00"), 1), ("c", Decimal("5.00"), 5)]
    # mean of 14/3, 1, 5 = 32/9 = 3.56 → 3, but the weakest is at 1: at most 2
    assert result.overall_score == Decimal("3.56")
    assert result.overall_level == 2
    assert result.weakest == ("b", "a", "c")
    codes = [s.code for s in result.working]
    assert codes == ["maturity.dimension"] * 3 + ["maturity.overall", "maturity.cap", "maturity.level"]
    assert result.working[0].render() == "a: answer levels 5 + 5 + 4, mean 4.67, level 4 (the mean rounded down)"


def test_every_question_is_required_and_levels_are_bounded():
    full = {q: 3 for q in QUESTIONS}
    missing = dict(full)
    del missing["d2"]
    with pytest.raises(CalcInputError) as err:
        score_assessment(DIMS, missing)
    assert err.value.field == "answers.d2"
    for bad in (0, 6, True, "3"):
        with pytest.raises(CalcInputError) as err:
            score_assessment(DIMS, {**full, "s1": bad})
        assert err.value.field == "answers.s1"
    with pytest.raises(CalcInputError):
        score_assessment(DIMS, {**full, "zz": 3})


answer_sets = st.fixed_dictionaries({q: st.integers(1, 5) for q in QUESTIONS})


@settings(max_examples=200, deadline=None)
@given(answer_sets)
def test_levels_follow_the_rule_for_any_answers(answers):
    result = score_assessment(DIMS, answers)
    means = {d: Fraction(sum(answers[q] for q in qs), len(qs)) for d, qs in DIMS}
    for d in result.dimensions:
        assert d.level == floor(means[d.code])
        assert 1 <= d.level <= 5
    overall = sum(means.values()) / len(means)
    assert result.overall_level == min(floor(overall), min(floor(m) for m in means.values()) + 1)
    assert 1 <= result.overall_level <= 5


@settings(max_examples=150, deadline=None)
@given(answer_sets, st.sampled_from(QUESTIONS))
def test_a_better_answer_never_lowers_a_level(answers, question):
    if answers[question] == 5:
        return
    before = score_assessment(DIMS, answers)
    after = score_assessment(DIMS, {**answers, question: answers[question] + 1})
    assert after.overall_level >= before.overall_level
    assert all(a.level >= b.level for a, b in zip(after.dimensions, before.dimensions))


def test_evidence_counts_enterprises_once_and_shows_every_figure():
    outcomes = [TrialOutcome(1, True, Decimal("80")), TrialOutcome(1, None, Decimal("70")),
                TrialOutcome(2, False, Decimal("60")), TrialOutcome(3, None, None), TrialOutcome(4, True, None)]
    e = evidence(9, outcomes)
    assert (e.tried, e.decided, e.adopted, e.scored) == (4, 3, 2, 3)
    assert e.adoption_pct == Decimal("66.7") and e.mean_score == Decimal("70.0") and e.enough
    assert [s.render() for s in e.working] == ["4 similar enterprises tried it; 3 decided, 2 adopted it",
                                               "Adoption 2 / 3 = 66.7%", "Mean evaluation score of 3 trials: 70.0"]
    thin = evidence(10, outcomes[:2])
    assert thin.tried == 1 and not thin.enough
    none = evidence(11, [])
    assert (none.tried, none.adoption_pct, none.mean_score) == (0, None, None)


def test_ranking_is_deterministic_and_puts_thin_evidence_last():
    def e(sid, pct, mean, tried):
        return evidence(sid, []).__class__(sid, tried, 1, 1, pct, 1, mean, tried >= 3, ())

    items = [e(5, None, None, 0), e(4, Decimal("50"), Decimal("90"), 3), e(3, Decimal("80"), Decimal("60"), 5),
             e(2, Decimal("80"), Decimal("70"), 3), e(1, Decimal("100"), None, 2), e(6, Decimal("80"), Decimal("70"), 4)]
    ranked = [x.solution_id for x in rank(items)]
    assert ranked == [6, 2, 3, 4, 1, 5]
    assert [x.solution_id for x in rank(list(reversed(items)))] == ranked
