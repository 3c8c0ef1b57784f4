"""Trial effect evaluation: indicator improvements, weighted criteria scores, trial mean, pass/remarkable
and recommendation eligibility."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

from .common import CalcInputError, Step, fmt, require_range, round_to, step, to_decimal

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    unit: str
    higher_is_better: bool


INDICATORS: tuple[Indicator, ...] = (
    Indicator("production_efficiency", "Production efficiency", "units/hour", True),
    Indicator("labour_per_unit", "Labour per unit output", "person-hours/unit", False),
    Indicator("defect_rate", "Defect rate", "%", False),
    Indicator("order_lead_time", "Order lead time", "days", False),
    Indicator("energy_per_unit", "Energy per unit output", "kWh/unit", False),
)

CRITERIA_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "effect": "Effect",
        "quality": "Quality and stability",
        "service": "Service",
        "cost_effectiveness": "Cost-effectiveness",
        "replicability": "Replicability",
    }
)


# Default criterion weights (%, whole numbers summing to 100).
DEFAULT_WEIGHTS: Mapping[str, int] = MappingProxyType(
    {"effect": 40, "quality": 20, "service": 15, "cost_effectiveness": 15, "replicability": 10}
)

# Passed trial evaluations a solution needs before it may be recommended.
RECOMMEND_MIN_PASSED = 3


def _default_weights() -> dict[str, Decimal | int]:
    return dict(DEFAULT_WEIGHTS)


@dataclass(frozen=True)
class EvaluationParams:
    """Criterion weights (%, summing to 100), pass mark and remarkable mark. Validated on creation."""

    weights: Mapping[str, Decimal | int] = field(default_factory=_default_weights, hash=False)
    pass_score: Decimal = Decimal("60")
    remarkable_score: Decimal = Decimal("85")

    def __post_init__(self) -> None:
        if not self.weights:
            raise CalcInputError("params.weights", "at least one criterion is required")
        weights = {
            code: require_range(w, f"params.weights.{code}", _ZERO, _HUNDRED) for code, w in self.weights.items()
        }
        total = sum(weights.values(), _ZERO)
        if total != _HUNDRED:
            raise CalcInputError("params.weights", f"weights must sum to 100, not {fmt(total)}", limit=_HUNDRED)
        pass_score = require_range(self.pass_score, "params.pass_score", _ZERO, _HUNDRED)
        remarkable = require_range(self.remarkable_score, "params.remarkable_score", pass_score, _HUNDRED)
        # Frozen: normalise through object.__setattr__ so callers may pass ints and plain dicts.
        object.__setattr__(self, "weights", MappingProxyType(weights))
        object.__setattr__(self, "pass_score", pass_score)
        object.__setattr__(self, "remarkable_score", remarkable)


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    label: str
    unit: str
    higher_is_better: bool
    baseline: Decimal | None
    after: Decimal | None
    improvement: Decimal | None
    reason: str | None
    working: tuple[Step, ...]


@dataclass(frozen=True)
class ScoreResult:
    overall: Decimal
    exact: Decimal
    working: tuple[Step, ...]


@dataclass(frozen=True)
class TrialScoreResult:
    mean: Decimal
    passed: bool
    remarkable: bool
    count: int
    working: tuple[Step, ...]


class RecommendationResult(NamedTuple):
    eligible: bool
    mean: Decimal | None
    count: int


def _optional_value(value: object, field_name: str) -> Decimal | None:
    if value is None:
        return None
    number = to_decimal(value, field_name)
    if number < 0:
        raise CalcInputError(field_name, "must not be negative", limit=_ZERO)
    return number


def improvement_pct(baseline: Decimal | None, after: Decimal | None, higher_is_better: bool) -> Decimal | None:
    """Improvement % = (after − before) / before × 100, sign flipped for lower-is-better, rounded to
    0.01 half-up; None when the baseline is missing or zero, or the after value is missing."""
    before = _optional_value(baseline, "baseline")
    post = _optional_value(after, "after")
    if before is None or before == 0 or post is None:
        return None
    change = (post - before) * _HUNDRED / before
    return round_to(change if higher_is_better else -change, 2)


def _indicator(indicator: Indicator, baseline: Decimal | None, after: Decimal | None) -> IndicatorResult:
    labels = {"label": indicator.label, "unit": indicator.unit}
    improvement = None
    if baseline is None:
        note = step("evaluation.improvement.no_baseline", "{label}: no baseline value, improvement not computed", **labels)
    elif baseline == 0:
        note = step(
            "evaluation.improvement.zero_baseline",
            "{label}: baseline is zero, improvement cannot be expressed as a percentage",
            **labels,
        )
    elif after is None:
        note = step("evaluation.improvement.no_after", "{label}: no post-trial value, improvement not computed", **labels)
    else:
        improvement = improvement_pct(baseline, after, indicator.higher_is_better)
        if indicator.higher_is_better:
            code = "evaluation.improvement.higher_better"
            text = "{label} (higher is better): ({after} − {baseline}) / {baseline} × 100 = {improvement}%"
        else:
            code = "evaluation.improvement.lower_better"
            text = "{label} (lower is better): −({after} − {baseline}) / {baseline} × 100 = {improvement}%"
        note = step(code, text, baseline=baseline, after=after, improvement=improvement, **labels)
    return IndicatorResult(
        code=indicator.code,
        label=indicator.label,
        unit=indicator.unit,
        higher_is_better=indicator.higher_is_better,
        baseline=baseline,
        after=after,
        improvement=improvement,
        reason=None if improvement is not None else note.render(),
        working=(note,),
    )


def indicator_improvements(
    baselines: Mapping[str, Decimal | None],
    afters: Mapping[str, Decimal | None],
    indicators: Sequence[Indicator] = INDICATORS,
) -> tuple[IndicatorResult, ...]:
    """Improvement of every indicator, in definition order; a missing or zero baseline (or a missing
    post-trial value) yields improvement None with a reason instead of dividing by zero."""
    known = {ind.code for ind in indicators}
    for name, values in (("baselines", baselines), ("afters", afters)):
        for code in values:
            if code not in known:
                raise CalcInputError(f"{name}.{code}", "is not a known indicator")
    return tuple(
        _indicator(
            ind,
            _optional_value(baselines.get(ind.code), f"baselines.{ind.code}"),
            _optional_value(afters.get(ind.code), f"afters.{ind.code}"),
        )
        for ind in indicators
    )


def _score(value: object, field_name: str) -> Decimal:
    return require_range(value, field_name, _ZERO, _HUNDRED)


def overall_score(scores: Mapping[str, Decimal | int], params: EvaluationParams = EvaluationParams()) -> ScoreResult:
    """Overall = Σ criterion score (0–100) × weight / 100, rounded to 0.1 half-up. Every weighted
    criterion needs a score."""
    for code in scores:
        if code not in params.weights:
            raise CalcInputError(f"scores.{code}", "is not a scored criterion")
    working = []
    exact = _ZERO
    for code, weight in params.weights.items():
        if code not in scores or scores[code] is None:
            raise CalcInputError(f"scores.{code}", "is required")
        score = _score(scores[code], f"scores.{code}")
        contribution = score * weight / _HUNDRED
        exact += contribution
        working.append(
            step(
                "evaluation.criterion",
                "{criterion}: score {score} × weight {weight}% = {contribution}",
                criterion=CRITERIA_LABELS.get(code, code),
                score=score,
                weight=weight,
                contribution=contribution,
            )
        )
    overall = round_to(exact, 1)
    working.append(
        step("evaluation.overall", "Overall score = {exact}, rounded to 0.1 = {overall}", exact=exact, overall=overall)
    )
    return ScoreResult(overall=overall, exact=exact, working=tuple(working))


def trial_score(overall_scores: Sequence[Decimal], params: EvaluationParams = EvaluationParams()) -> TrialScoreResult:
    """The trial's score is the mean of its evaluators' overall scores, rounded to 0.1 half-up;
    passed if >= 60, remarkable if >= 85."""
    if len(overall_scores) == 0:
        raise CalcInputError("overall_scores", "at least one evaluation is required", limit=1)
    values = [_score(s, f"overall_scores.{i}") for i, s in enumerate(overall_scores)]
    exact = sum(values, _ZERO) / len(values)
    mean = round_to(exact, 1)
    passed = mean >= params.pass_score
    remarkable = mean >= params.remarkable_score
    working = [
        step(
            "evaluation.mean",
            "Trial score = mean of {count} evaluations ({scores}) = {mean} (rounded to 0.1)",
            count=len(values),
            scores=", ".join(fmt(v) for v in values),
            mean=mean,
        ),
        step(
            "evaluation.passed" if passed else "evaluation.failed",
            "Trial score {mean} is at least the pass mark {pass_score}: passed"
            if passed
            else "Trial score {mean} is below the pass mark {pass_score}: not passed",
            mean=mean,
            pass_score=params.pass_score,
        ),
    ]
    if remarkable:
        working.append(
            step(
                "evaluation.remarkable",
                "Trial score {mean} is at least {remarkable_score}: excellent",
                mean=mean,
                remarkable_score=params.remarkable_score,
            )
        )
    return TrialScoreResult(mean=mean, passed=passed, remarkable=remarkable, count=len(values), working=tuple(working))


def recommendation_eligible(
    passed_scores: Sequence[Decimal],
    min_passed: int = RECOMMEND_MIN_PASSED,
    remarkable: Decimal = EvaluationParams.remarkable_score,
) -> RecommendationResult:
    """A solution may be recommended once it has at least `min_passed` passed trial evaluations whose
    mean (rounded to 0.1 half-up) is at least `remarkable`. Pass only the scores of passed trials."""
    values = [_score(s, f"passed_scores.{i}") for i, s in enumerate(passed_scores)]
    if not values:
        return RecommendationResult(eligible=False, mean=None, count=0)
    mean = round_to(sum(values, _ZERO) / len(values), 1)
    eligible = len(values) >= min_passed and mean >= to_decimal(remarkable, "remarkable")
    return RecommendationResult(eligible=eligible, mean=mean, count=len(values))
