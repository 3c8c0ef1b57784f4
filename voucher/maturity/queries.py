"""What the self-assessment pages read: an enterprise's history, the latest levels of enterprises
(``latest_levels``, also for other domains such as park operators), the suggestions with their
evidence, the bureau's overview by district and industry, and the change around a trial."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from voucher.calc import round_to
from voucher.calc.maturity import Evidence, TrialOutcome, evidence, rank
from voucher.catalogue.models import PUBLIC_STATES, Solution
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db
from voucher.maturity.models import MaturityAssessment
from voucher.maturity.questionnaire import DIMENSION_CATEGORIES, DIMENSIONS, LEVEL_LABELS, LEVELS
from voucher.trials.models import Trial

EVENT_LABELS = {"maturity_assessment.take": _l("Self-assessment taken"),
                "maturity_questionnaire.publish": _l("Self-assessment questionnaire published")}
SUGGEST_DIMENSIONS = 2
SUGGEST_PER_DIMENSION = 5


def history(enterprise_id: int) -> list[MaturityAssessment]:
    """An enterprise's assessments, oldest first."""
    return list(db.session.scalars(select(MaturityAssessment).where(MaturityAssessment.enterprise_id == enterprise_id)
                                   .order_by(MaturityAssessment.taken_at, MaturityAssessment.id)))


def first_and_latest(enterprise_id: int) -> tuple[MaturityAssessment | None, MaturityAssessment | None]:
    rows = history(enterprise_id)
    return (rows[0], rows[-1]) if rows else (None, None)


def _latest_subquery(enterprise_ids=None):
    ranked = select(MaturityAssessment.id,
                    func.row_number().over(partition_by=MaturityAssessment.enterprise_id,
                                           order_by=(MaturityAssessment.taken_at.desc(),
                                                     MaturityAssessment.id.desc())).label("rn"))
    if enterprise_ids is not None:
        ranked = ranked.where(MaturityAssessment.enterprise_id.in_(enterprise_ids))
    ranked = ranked.subquery()
    return select(ranked.c.id).where(ranked.c.rn == 1)


def latest_levels(enterprise_ids) -> dict[int, dict]:
    """For each enterprise id with an assessment: ``{"assessment_id", "taken_at", "overall_level",
    "levels": {dimension: level}}`` of its latest one.  Enterprises never assessed are absent."""
    ids = list(enterprise_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(MaturityAssessment).where(MaturityAssessment.id.in_(_latest_subquery(ids))))
    return {r.enterprise_id: {"assessment_id": r.id, "taken_at": r.taken_at, "overall_level": r.overall_level,
                              "levels": {d: r.level(d) for d in DIMENSIONS if r.level(d) is not None}}
            for r in rows}


def overall_level_texts(enterprise_ids) -> dict[int, str]:
    """Each assessed enterprise's latest overall level as the text to show ("Level 3: partly integrated"),
    translated now: the park pages' maturity column (``voucher.parks.maturity``)."""
    return {eid: str(LEVEL_LABELS[row["overall_level"]]) for eid, row in latest_levels(enterprise_ids).items()
            if row["overall_level"] in LEVEL_LABELS}


def weakest_dimensions(assessment: MaturityAssessment, count: int = SUGGEST_DIMENSIONS) -> list[str]:
    """The ``count`` lowest-scoring dimensions below the top level (ties in questionnaire order)."""
    scored = [(Decimal(assessment.dimensions[d]["score"]), i, d) for i, d in enumerate(DIMENSIONS)
              if d in assessment.dimensions and assessment.dimensions[d]["level"] < LEVELS[-1]]
    return [d for _s, _i, d in sorted(scored)[:count]]


@dataclass(frozen=True)
class Suggestion:
    solution: Solution
    evidence: Evidence


@dataclass(frozen=True)
class DimensionSuggestions:
    dimension: str
    level: int
    categories: tuple[str, ...]
    items: list[Suggestion]
    more: int  # further solutions in these categories not shown


def similar_outcomes(enterprise: Enterprise, solution_ids) -> dict[int, list[TrialOutcome]]:
    """The trials (not cancelled) of these solutions by other enterprises of the same industry and
    size class, per solution."""
    out: dict[int, list[TrialOutcome]] = {sid: [] for sid in solution_ids}
    if not out:
        return out
    rows = db.session.execute(
        select(Trial.solution_id, Trial.enterprise_id, Trial.adopted, Trial.score)
        .join(Enterprise, Enterprise.organisation_id == Trial.enterprise_id)
        .where(Trial.solution_id.in_(list(out)), Trial.status != "cancelled",
               Trial.enterprise_id != enterprise.organisation_id,
               Enterprise.industry == enterprise.industry, Enterprise.size_class == enterprise.size_class)
        .order_by(Trial.id))
    for solution_id, enterprise_id, adopted, score in rows:
        out[solution_id].append(TrialOutcome(enterprise_id, adopted, score))
    return out


def suggestions(assessment: MaturityAssessment) -> list[DimensionSuggestions]:
    """For the weakest dimensions: the public catalogue's solutions in the categories that address them,
    ranked by their evidence among similar enterprises (``calc.maturity.rank``)."""
    enterprise = db.session.get(Enterprise, assessment.enterprise_id)
    weak = weakest_dimensions(assessment)
    categories = {c for d in weak for c in DIMENSION_CATEGORIES[d]}
    solutions = list(db.session.scalars(select(Solution).where(Solution.status.in_(PUBLIC_STATES),
                                                               Solution.category.in_(categories))
                                        .order_by(Solution.id))) if categories else []
    outcomes = similar_outcomes(enterprise, [s.id for s in solutions]) if enterprise else {}
    figures = {s.id: evidence(s.id, outcomes.get(s.id, ())) for s in solutions}
    by_id = {s.id: s for s in solutions}
    out = []
    for d in weak:
        cats = DIMENSION_CATEGORIES[d]
        ranked = rank([figures[s.id] for s in solutions if s.category in cats])
        out.append(DimensionSuggestions(d, assessment.level(d), cats,
                                        [Suggestion(by_id[e.solution_id], e) for e in ranked[:SUGGEST_PER_DIMENSION]],
                                        max(0, len(ranked) - SUGGEST_PER_DIMENSION)))
    return out


# --- the bureau's overview ---------------------------------------------------------------------

@dataclass(frozen=True)
class GroupRow:
    key: str
    assessed: int
    by_level: dict[int, int]
    mean_overall: Decimal
    mean_levels: dict[str, Decimal]


def levels_by(field: str) -> list[GroupRow]:
    """Each district (or industry) with enterprises assessed: how many, how many at each overall level,
    the mean overall level and the mean level per dimension (one decimal, half-up), from each
    enterprise's latest assessment."""
    column = Enterprise.district if field == "district" else Enterprise.industry
    rows = db.session.execute(select(column, MaturityAssessment)
                              .join(Enterprise, Enterprise.organisation_id == MaturityAssessment.enterprise_id)
                              .where(MaturityAssessment.id.in_(_latest_subquery()))
                              .order_by(column, MaturityAssessment.id)).all()
    groups: dict[str, list[MaturityAssessment]] = {}
    for key, a in rows:
        groups.setdefault(key, []).append(a)
    out = []
    for key, items in groups.items():
        n = len(items)
        out.append(GroupRow(key, n, {lv: sum(1 for a in items if a.overall_level == lv) for lv in LEVELS},
                            round_to(Decimal(sum(a.overall_level for a in items)) / n, 1),
                            {d: round_to(Decimal(sum(a.level(d) or 0 for a in items)) / n, 1) for d in DIMENSIONS}))
    return out


@dataclass(frozen=True)
class Change:
    enterprise_id: int
    enterprise_name: str
    solution_title: str
    trial_id: int
    before: MaturityAssessment
    after: MaturityAssessment

    @property
    def overall_change(self) -> int:
        return self.after.overall_level - self.before.overall_level

    def change(self, dimension: str) -> int:
        return (self.after.level(dimension) or 0) - (self.before.level(dimension) or 0)


def changes_around_trials(limit: int = 1000) -> list[Change]:
    """Trials completed by enterprises assessed before the trial opened and again after it completed:
    the last assessment before and the last after (most recent trials first)."""
    trials = db.session.execute(
        select(Trial, Organisation.name, Solution.title)
        .join(Organisation, Organisation.id == Trial.enterprise_id).join(Solution, Solution.id == Trial.solution_id)
        .where(Trial.completed_at.is_not(None), Trial.status != "cancelled",
               Trial.enterprise_id.in_(select(MaturityAssessment.enterprise_id)))
        .order_by(Trial.completed_at.desc(), Trial.id.desc()).limit(limit)).all()
    histories: dict[int, list[MaturityAssessment]] = {}
    out = []
    for trial, name, title in trials:
        rows = histories.setdefault(trial.enterprise_id, history(trial.enterprise_id))
        before = [a for a in rows if _as_aware(a.taken_at) < _as_aware(trial.opened_at)]
        after = [a for a in rows if _as_aware(a.taken_at) > _as_aware(trial.completed_at)]
        if before and after:
            out.append(Change(trial.enterprise_id, name, title, trial.id, before[-1], after[-1]))
    return out


def _as_aware(value: datetime) -> datetime:
    from datetime import timezone

    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
