from decimal import Decimal

import pytest

from voucher.calc import (
    INDICATORS,
    CalcInputError,
    EvaluationParams,
    improvement_pct,
    indicator_improvements,
    overall_score,
    recommendation_eligible,
    trial_score,
)

D = Decimal


def test_indicator_definitions():
    directions = {ind.code: ind.higher_is_better for ind in INDICATORS}
    assert directions == {
        "production_efficiency": True,
        "labour_per_unit": False,
        "defect_rate": False,
        "order_lead_time": False,
        "energy_per_unit": False,
    }


def test_improvement_higher_and_lower_is_better():
    assert improvement_pct(D(80), D(100), True) == D("25.00")
    assert improvement_pct(D(100), D(80), True) == D("-20.00")
    # lower is better: defect rate 4% → 3% is a 25% improvement
    assert improvement_pct(D(4), D(3), False) == D("25.00")
    assert improvement_pct(D(10), D(12), False) == D("-20.00")


def test_improvement_rounded_half_up():
    # (1 − 3) / 3 × 100 = −66.666… → −66.67; lower-better flips to 66.67
    assert improvement_pct(D(3), D(1), False) == D("66.67")
    # (1.00005 − 1) / 1 × 100 = 0.005 → 0.01
    assert improvement_pct(D(1), D("1.00005"), True) == D("0.01")
    assert improvement_pct(D(1), D("0.99995"), False) == D("0.01")


def test_zero_or_missing_baseline_gives_none():
    assert improvement_pct(D(0), D(5), True) is None
    assert improvement_pct(None, D(5), True) is None
    assert improvement_pct(D(5), None, True) is None


def test_indicator_improvements_with_reasons():
    results = indicator_improvements(
        {"production_efficiency": D(100), "defect_rate": D(0), "order_lead_time": D(20)},
        {"production_efficiency": D(130), "defect_rate": D(1), "order_lead_time": None},
    )
    by_code = {r.code: r for r in results}
    assert [r.code for r in results] == [ind.code for ind in INDICATORS]
    assert by_code["production_efficiency"].improvement == D("30.00")
    assert by_code["production_efficiency"].reason is None
    assert by_code["production_efficiency"].working[0].render() == (
        "Production efficiency (higher is better): (130 − 100) / 100 × 100 = 30.00%"
    )
    zero = by_code["defect_rate"]
    assert zero.improvement is None and "zero" in zero.reason
    assert zero.working[0].code == "evaluation.improvement.zero_baseline"
    missing = by_code["labour_per_unit"]
    assert missing.improvement is None and "no baseline" in missing.reason
    no_after = by_code["order_lead_time"]
    assert no_after.improvement is None and no_after.working[0].code == "evaluation.improvement.no_after"


def test_indicator_improvements_rejects_unknown_and_negative():
    with pytest.raises(CalcInputError) as exc:
        indicator_improvements({"bogus": D(1)}, {})
    assert exc.value.field == "baselines.bogus"
    with pytest.raises(CalcInputError) as exc:
        indicator_improvements({"defect_rate": D(2)}, {"defect_rate": D(-1)})
    assert exc.value.field == "afters.defect_rate"


SCORES = {"effect": 88, "quality": 75, "service": 90, "cost_effectiveness": 70, "replicability": 65}


def test_weighted_overall_score():
    result = overall_score(SCORES)
    # 88×0.4 + 75×0.2 + 90×0.15 + 70×0.15 + 65×0.1 = 35.2 + 15 + 13.5 + 10.5 + 6.5 = 80.7
    assert result.overall == D("80.7")
    assert [s.code for s in result.working] == ["evaluation.criterion"] * 5 + ["evaluation.overall"]
    assert result.working[0].render() == "Effect: score 88 × weight 40% = 35.2"


def test_overall_score_rounds_to_tenth_half_up():
    # exact 61.25: half-up gives 61.3 (half-even would give 61.2)
    scores = {"effect": D("61.25"), "quality": D("61.25"), "service": D("61.25"), "cost_effectiveness": D("61.25"), "replicability": D("61.25")}
    result = overall_score(scores)
    assert result.exact == D("61.25")
    assert result.overall == D("61.3")
    # the pass mark boundary: 59.94 → 59.9, 59.95 → 60.0
    assert overall_score(dict.fromkeys(SCORES, D("59.94"))).overall == D("59.9")
    assert overall_score(dict.fromkeys(SCORES, D("59.95"))).overall == D("60.0")


def test_overall_score_validation():
    with pytest.raises(CalcInputError) as exc:
        overall_score(SCORES | {"effect": 101})
    assert exc.value.field == "scores.effect" and exc.value.limit == 100
    with pytest.raises(CalcInputError) as exc:
        overall_score(SCORES | {"service": -1})
    assert exc.value.field == "scores.service"
    without = dict(SCORES)
    del without["replicability"]
    with pytest.raises(CalcInputError) as exc:
        overall_score(without)
    assert exc.value.field == "scores.replicability"


def test_weights_must_sum_to_100():
    with pytest.raises(CalcInputError) as exc:
        EvaluationParams(weights={"effect": 50, "quality": 40})
    assert exc.value.field == "params.weights" and exc.value.limit == 100
    params = EvaluationParams(weights={"effect": 50, "quality": 50})
    assert overall_score({"effect": 70, "quality": 81}, params).overall == D("75.5")


def test_trial_score_mean_across_evaluators():
    result = trial_score([D("80.7"), D("75.2"), D("90.0")])
    # (80.7 + 75.2 + 90.0) / 3 = 81.966… → 82.0
    assert result.mean == D("82.0") and result.count == 3
    assert result.passed and not result.remarkable


@pytest.mark.parametrize(
    ("scores", "passed", "remarkable"),
    [
        ([D("59.9")], False, False),
        ([D("60.0")], True, False),
        ([D("59.9"), D("60.0")], True, False),  # mean 59.95 → 60.0
        ([D("84.9")], True, False),
        ([D("85.0")], True, True),
    ],
)
def test_pass_and_remarkable_boundaries(scores, passed, remarkable):
    result = trial_score(scores)
    assert (result.passed, result.remarkable) == (passed, remarkable)
    assert result.working[1].code == ("evaluation.passed" if passed else "evaluation.failed")


def test_trial_score_requires_an_evaluation():
    with pytest.raises(CalcInputError) as exc:
        trial_score([])
    assert exc.value.field == "overall_scores"


@pytest.mark.parametrize(
    ("scores", "eligible", "mean", "count"),
    [
        ([D(90), D(95)], False, D("92.5"), 2),
        ([D(90), D(95), D(85)], True, D("90.0"), 3),
        ([D("84.9"), D("84.9"), D("84.9")], False, D("84.9"), 3),
        ([D("85.0"), D("85.0"), D("85.0")], True, D("85.0"), 3),
        ([D(60), D(100), D("94.7"), D(85)], False, D("84.9"), 4),  # 339.7 / 4 = 84.925 → 84.9
        ([D(60), D(100), D("94.8"), D(85)], True, D("85.0"), 4),  # 339.8 / 4 = 84.95 → 85.0
        ([], False, None, 0),
    ],
)
def test_recommendation_eligibility(scores, eligible, mean, count):
    assert recommendation_eligible(scores) == (eligible, mean, count)
