"""Digital-maturity self-assessment (数字化水平自评): answers → a level per dimension and overall,
and the evidence behind a suggested solution.  Pure: no Flask, no database.

Scoring rule (in the style of the SME digital-transformation level grading 中小企业数字化水平评测
and the EU Digital Maturity Assessment):

- every answer is an option that names a level, 1–5;
- a dimension's score is the mean of its questions' levels (kept exact as a fraction, shown to two
  decimals half-up); its level is the score rounded *down* (a level is reached when it is met on
  average, never by rounding up);
- the overall score is the mean of the dimension scores (equal weights); the overall level is it
  rounded down, but at most one above the weakest dimension's level (the grading's "短板" rule: a
  dimension left far behind holds the whole enterprise back).

Evidence rule (suggestions): among similar enterprises, per solution, *n* enterprises tried it (a
trial not cancelled), *d* of them decided whether to keep it, *a* adopted it (x = a / d), and the
mean of the *m* evaluation scores recorded on their trials.  Fewer than ``MIN_EVIDENCE`` enterprises
is "too little evidence"; such solutions come after the others.  Ranking (deterministic): enough
evidence first; then adoption rate, mean score, n (each descending, a missing figure last); then the
solution id.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor

from .common import CalcInputError, Step, round_to, step

MIN_LEVEL, MAX_LEVEL = 1, 5
MIN_EVIDENCE = 3


def _dec(value: Fraction, places: int = 2) -> Decimal:
    return round_to(Decimal(value.numerator) / Decimal(value.denominator), places)


@dataclass(frozen=True)
class DimensionResult:
    code: str
    score: Decimal          # mean of the answers' levels, two decimals (half-up)
    level: int
    answers: int


@dataclass(frozen=True)
class MaturityResult:
    dimensions: tuple[DimensionResult, ...]
    overall_score: Decimal
    overall_level: int
    weakest: tuple[str, ...]   # dimension codes, weakest first (ties in questionnaire order)
    working: tuple[Step, ...]

    @property
    def levels(self) -> dict[str, int]:
        return {d.code: d.level for d in self.dimensions}


def score_assessment(dimensions: Sequence[tuple[str, Sequence[str]]],
                     answers: Mapping[str, int]) -> MaturityResult:
    """Score one assessment.  ``dimensions``: (dimension code, its question codes) in order; ``answers``:
    question code → the level of the chosen option.  Every question must be answered with a level
    1–5 (else ``CalcInputError`` naming the question); answers to unknown questions are refused."""
    if not dimensions:
        raise CalcInputError("dimensions", "at least one dimension is required")
    known = {q for _code, questions in dimensions for q in questions}
    for q in answers:
        if q not in known:
            raise CalcInputError(f"answers.{q}", "is not a question of this questionnaire")
    working: list[Step] = []
    exact: list[tuple[str, Fraction, int, int]] = []
    for code, questions in dimensions:
        if not questions:
            raise CalcInputError(f"dimensions.{code}", "has no question")
        levels = []
        for q in questions:
            value = answers.get(q)
            if value is None:
                raise CalcInputError(f"answers.{q}", "is required")
            if isinstance(value, bool) or not isinstance(value, int) or not MIN_LEVEL <= value <= MAX_LEVEL:
                raise CalcInputError(f"answers.{q}", "must be a level from 1 to 5", limit=MAX_LEVEL)
            levels.append(value)
        mean = Fraction(sum(levels), len(levels))
        level = floor(mean)
        exact.append((code, mean, level, len(levels)))
        working.append(step("maturity.dimension",
                            "{dimension}: answer levels {levels}, mean {score}, level {level} (the mean rounded down)",
                            dimension=code, levels=" + ".join(str(v) for v in levels), score=_dec(mean), level=level))
    overall = sum((m for _c, m, _l, _n in exact), Fraction(0)) / len(exact)
    by_mean = floor(overall)
    lowest = min(level for _c, _m, level, _n in exact)
    overall_level = min(by_mean, lowest + 1)
    working.append(step("maturity.overall",
                        "Overall: mean of the dimension scores {score}, rounded down {by_mean}",
                        score=_dec(overall), by_mean=by_mean))
    if overall_level < by_mean:
        working.append(step("maturity.cap",
                            "The weakest dimension is at level {lowest}: the overall level is at most one above it, "
                            "{level}", lowest=lowest, level=overall_level))
    working.append(step("maturity.level", "Overall level {level}", level=overall_level))
    order = {code: i for i, (code, _q) in enumerate(dimensions)}
    weakest = tuple(c for c, _m, _l, _n in sorted(exact, key=lambda e: (e[1], order[e[0]])))
    return MaturityResult(dimensions=tuple(DimensionResult(c, _dec(m), lv, n) for c, m, lv, n in exact),
                          overall_score=_dec(overall), overall_level=overall_level, weakest=weakest,
                          working=tuple(working))


# --- evidence among similar enterprises -------------------------------------------------------

@dataclass(frozen=True)
class TrialOutcome:
    """One trial of a solution by a similar enterprise: adopted True/False/None (not decided yet)
    and the evaluation score (0–100) recorded on it, if any."""

    enterprise_id: int
    adopted: bool | None
    score: Decimal | None


@dataclass(frozen=True)
class Evidence:
    solution_id: int
    tried: int                  # n: enterprises with a trial
    decided: int                # d: of them, enterprises that decided whether to keep it
    adopted: int                # a: of them, enterprises that kept it
    adoption_pct: Decimal | None    # a / d × 100, one decimal; None when d = 0
    scored: int                 # m: trials with an evaluation score
    mean_score: Decimal | None  # one decimal; None when m = 0
    enough: bool                # n >= MIN_EVIDENCE
    working: tuple[Step, ...]


def evidence(solution_id: int, outcomes: Sequence[TrialOutcome], min_evidence: int = MIN_EVIDENCE) -> Evidence:
    """The figures for one solution.  An enterprise with several trials counts once: tried once,
    adopted if any of its trials was adopted, decided if any was decided; every score counts."""
    per: dict[int, list[bool | None]] = {}
    scores: list[Decimal] = []
    for o in outcomes:
        per.setdefault(o.enterprise_id, []).append(o.adopted)
        if o.score is not None:
            scores.append(Decimal(o.score))
    tried = len(per)
    decided = sum(1 for flags in per.values() if any(f is not None for f in flags))
    adopted = sum(1 for flags in per.values() if any(f is True for f in flags))
    pct = round_to(Decimal(adopted) * 100 / decided, 1) if decided else None
    mean = round_to(sum(scores, Decimal(0)) / len(scores), 1) if scores else None
    working = [step("maturity.tried", "{tried} similar enterprises tried it; {decided} decided, {adopted} adopted it",
                    tried=tried, decided=decided, adopted=adopted)]
    if pct is not None:
        working.append(step("maturity.adoption", "Adoption {adopted} / {decided} = {pct}%", adopted=adopted,
                            decided=decided, pct=pct))
    if mean is not None:
        working.append(step("maturity.score", "Mean evaluation score of {scored} trials: {mean}", scored=len(scores),
                            mean=mean))
    return Evidence(solution_id, tried, decided, adopted, pct, len(scores), mean, tried >= min_evidence, tuple(working))


def rank(items: Sequence[Evidence]) -> list[Evidence]:
    """Enough evidence first; then adoption rate, mean score and n, each descending (a missing figure
    after any figure); ties by solution id ascending."""
    def key(e: Evidence):
        return (not e.enough,
                e.adoption_pct is None, -(e.adoption_pct or 0),
                e.mean_score is None, -(e.mean_score or 0),
                -e.tried, e.solution_id)

    return sorted(items, key=key)
