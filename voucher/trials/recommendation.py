"""The recommendation's figures: each solution's trial figures (the catalogue shows them and the
recommendation candidates are read with them, in ``catalogue.queries``) and the officers' ranking of
the evaluated solutions (entropy-weight TOPSIS).  Reads only; split off ``trials/queries.py``."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, case, func, select, type_coerce
from sqlalchemy.orm import contains_eager

from voucher.calc import Criterion, entropy_topsis, round_fen, round_to
from voucher.catalogue.models import Solution
from voucher.extensions import db
from voucher.programmes.models import Programme
from voucher.trials.models import Trial

# --- the catalogue's figures ------------------------------------------------------------------

def _raw(column):
    """A Money/Percent column's stored integer (fen / hundredths), for exact SQL sums."""
    return type_coerce(column, BigInteger)


def _hundredths(value) -> Decimal:
    return Decimal(int(value)) / 100


def solution_figures(solution_ids, programme_id: int | None = None) -> dict[int, dict]:
    """Per solution, from its trials in one grouped query: trials run (started), evaluated trials
    and their mean score, mean indicator improvement, adoption decisions and adoptions, and the
    mean approved amount of its evaluated trials."""
    ids = [int(s) for s in solution_ids]
    if not ids:
        return {}
    evaluated = Trial.score.is_not(None)
    stmt = (select(Trial.solution_id,
                   func.count(Trial.start_date),
                   func.count(Trial.score),
                   func.coalesce(func.sum(_raw(Trial.score)), 0),
                   func.count(Trial.mean_improvement),
                   func.coalesce(func.sum(_raw(Trial.mean_improvement)), 0),
                   func.count(Trial.adopted),
                   func.coalesce(func.sum(case((Trial.adopted.is_(True), 1), else_=0)), 0),
                   func.coalesce(func.sum(case((evaluated, _raw(Trial.approved_amount)), else_=0)), 0))
            .where(Trial.solution_id.in_(ids)).group_by(Trial.solution_id))
    if programme_id is not None:
        stmt = stmt.where(Trial.programme_id == programme_id)
    out = {}
    for (sid, started, n_scored, score_sum, n_imp, imp_sum, decisions, adopted, amount_sum) in db.session.execute(stmt):
        out[sid] = {
            "trials_run": int(started),
            "evaluated": int(n_scored),
            "mean_score": round_to(_hundredths(score_sum) / n_scored, 1) if n_scored else None,
            "mean_improvement": round_to(_hundredths(imp_sum) / n_imp, 2) if n_imp else None,
            "decisions": int(decisions),
            "adopted": int(adopted),
            "adoption_rate": round_to(Decimal(int(adopted)) * 100 / int(decisions), 1) if decisions else None,
            "cost_per_trial": round_fen(_hundredths(amount_sum) / n_scored) if n_scored else None,
        }
    return out


def passed_scores(solution_ids) -> dict[int, list[Decimal]]:
    """The trial scores of each solution's passed trials, in one query."""
    ids = [int(s) for s in solution_ids]
    out: dict[int, list[Decimal]] = {i: [] for i in ids}
    if not ids:
        return out
    for sid, score in db.session.execute(select(Trial.solution_id, Trial.score)
                                         .where(Trial.solution_id.in_(ids), Trial.outcome == "passed",
                                                Trial.score.is_not(None)).order_by(Trial.id)):
        out[sid].append(score)
    return out


# --- officer pages: the ranking (the recommendation candidates are catalogue.queries') ------------

RANKING_CRITERIA = (
    Criterion("mean_score", True),
    Criterion("mean_improvement", True),
    Criterion("adoption_rate", True),
    Criterion("cost_per_trial", False),
)
RANKING_LABELS = {
    "mean_score": _l("Mean evaluation score"),
    "mean_improvement": _l("Mean indicator improvement (%)"),
    "adoption_rate": _l("Adoption rate (%)"),
    "cost_per_trial": _l("Cost per trial (mean approved amount, yuan)"),
}


@dataclass(frozen=True)
class RankingRow:
    """One ranked solution: its figures, the criteria without data (counted as 0) and its TOPSIS distances."""

    rank: int
    solution: Solution
    values: dict  # criterion code → the figure used (Decimal)
    missing: tuple[str, ...]  # criteria with no data, counted as 0
    closeness: float
    d_plus: float
    d_minus: float
    evaluated: int


@dataclass(frozen=True)
class Ranking:
    """The ranking: its rows, the entropy weights and entropies, and how many solutions were ranked."""

    rows: list[RankingRow]
    weights: dict[str, float]
    entropy: dict[str, float]
    count: int


def ranking(programme_id: int | None = None) -> Ranking:
    """Evaluated solutions ranked by entropy-weight TOPSIS over mean score, mean indicator
    improvement, adoption rate (benefits) and cost per trial (a cost).  No rows (only ``count``)
    when fewer than two solutions have an evaluated trial.  A figure without data (no adoption decision yet, no
    computable improvement) counts as 0 and is marked."""
    evaluated_ids = select(Trial.solution_id).where(Trial.score.is_not(None))
    if programme_id is not None:
        evaluated_ids = evaluated_ids.where(Trial.programme_id == programme_id)
    solutions = list(db.session.scalars(select(Solution).join(Solution.provider)
                                        .options(contains_eager(Solution.provider))
                                        .where(Solution.id.in_(evaluated_ids.distinct()))
                                        .order_by(Solution.id)))
    if len(solutions) < 2:
        return Ranking([], {}, {}, len(solutions))
    figures = solution_figures([s.id for s in solutions], programme_id)
    names = [str(s.id) for s in solutions]
    matrix, values, missing = [], {}, {}
    for s in solutions:
        f = figures[s.id]
        row, miss = [], []
        for c in RANKING_CRITERIA:
            v = f.get(c.code)
            if v is None:
                miss.append(c.code)
                v = Decimal(0)
            row.append(v)
        matrix.append(row)
        values[s.id] = dict(zip([c.code for c in RANKING_CRITERIA], row))
        missing[s.id] = tuple(miss)
    result = entropy_topsis(names, matrix, RANKING_CRITERIA)
    by_id = {str(s.id): s for s in solutions}
    rows = [RankingRow(k, by_id[name], values[by_id[name].id], missing[by_id[name].id], result.closeness[name],
                       result.d_plus[name], result.d_minus[name], figures[by_id[name].id]["evaluated"])
            for k, name in enumerate(result.ranking, start=1)]
    return Ranking(rows, result.weights, result.entropy, len(solutions))


def programme_choices() -> list[tuple[int, str]]:
    """The programmes the ranking can be narrowed to, newest first."""
    return list(db.session.execute(select(Programme.id, Programme.name).order_by(Programme.year.desc(),
                                                                                   Programme.id.desc())).tuples())
