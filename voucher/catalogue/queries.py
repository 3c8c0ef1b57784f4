"""What the catalogue pages read.  Every list is one paginated query with the provider joined
(no N+1); the per-solution trial figures come from :func:`solution_stats` in one call per page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterable

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from voucher.catalogue.models import PUBLIC_STATES, Solution, SolutionIndustry, SolutionScreening
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.pagination import seek_or_offset

PUBLIC_PAGE_SIZE = 20
SORT_CODES = ("recommended", "newest", "price_asc", "price_desc")
QUEUE_STATES = ("submitted", "screening")


# --- trial figures (filled in by the trials module) ---------------------------------------

@dataclass(frozen=True)
class Stats:
    """A solution's track record in trials.

    ``trials_run``: trials of the solution that have started; ``mean_score``: the mean overall
    effect-evaluation score of its evaluated trials (0–100, one decimal) or None when none is
    evaluated; ``adoption_rate``: percent of its completed trials whose enterprise decided to
    keep paying for the solution, or None when no trial is completed.
    """

    trials_run: int = 0
    mean_score: Decimal | None = None
    adoption_rate: Decimal | None = None


def solution_stats(solution_ids: Iterable[int]) -> dict[int, Stats]:
    """Trials run, mean score and adoption rate for each of ``solution_ids``, in one call.

    Contract (for the trials module, which replaces this body): return a dict with an entry for
    *every* id asked for — ``Stats()`` (zeros / None) for a solution without trials — and read
    all ids with a constant number of queries (pages call it once per page, never per row).
    Filled by the trials module: trials run = trials started (kick-off confirmed); mean score =
    mean trial score of its evaluated trials, rounded to 0.1; adoption rate = adopted / adoption
    decisions recorded, in percent to 0.1 (None before the first decision).  One grouped query.
    """
    from voucher.trials.recommendation import solution_figures

    ids = [int(sid) for sid in solution_ids]
    figures = solution_figures(ids)
    out = {}
    for sid in ids:
        f = figures.get(sid)
        out[sid] = Stats(f["trials_run"], f["mean_score"], f["adoption_rate"]) if f else Stats()
    return out


def passed_evaluation_scores(solution_id: int) -> list[Decimal]:
    """The overall scores (0–100, Decimal) of the solution's trials whose effect evaluation passed.

    Contract (for the trials module, which replaces this body): one Decimal per passed trial
    evaluation (the trial's score, i.e. the mean of its evaluators), in any order; failed or
    unfinished evaluations are left out.  The recommendation rule
    (``services.promote_to_recommended``) counts and averages these.  Filled by the trials module.
    """
    from voucher.trials.recommendation import passed_scores

    return passed_scores([solution_id])[int(solution_id)]


# --- public catalogue --------------------------------------------------------------------

def public_page(*, q: str | None = None, category: str | None = None, industry: str | None = None,
                sort: str = "recommended", page: int = 1, per_page: int = PUBLIC_PAGE_SIZE,
                cursor: str | None = None, seek: bool = True):
    """Listed and recommended solutions, searched (title, description, provider name), filtered
    by category and target industry, sorted; nothing else is ever returned.  Keyset-paged
    (``cursor``; :func:`voucher.pagination.seek_or_offset`): each sort ends in the id; a solution
    never listed (no ``listed_at``) sorts as listed at the epoch, i.e. last, as before."""
    stmt = (select(Solution).join(Solution.provider).options(contains_eager(Solution.provider))
            .where(Solution.status.in_(PUBLIC_STATES)))
    if q:
        stmt = stmt.where(or_(Solution.title.icontains(q, autoescape=True),
                              Solution.description.icontains(q, autoescape=True),
                              Organisation.name.icontains(q, autoescape=True)))
    if category:
        stmt = stmt.where(Solution.category == category)
    if industry:
        stmt = stmt.where(Solution.id.in_(select(SolutionIndustry.solution_id)
                                          .where(SolutionIndustry.industry == industry)))
    listed = func.coalesce(Solution.listed_at, literal(_EPOCH, Solution.listed_at.type))
    values_of = None
    if sort in ("price_asc", "price_desc"):
        keys = (Solution.trial_price, Solution.id)
    elif sort == "newest":
        keys = (listed, Solution.id)
        values_of = _listed_key
    else:
        sort = "recommended"
        keys = (case((Solution.status == "recommended", 1), else_=0), listed, Solution.id)
        values_of = _recommended_key
    return seek_or_offset(stmt, keys, list_name=f"catalogue:{sort}", cursor=cursor, page=page, per_page=per_page,
                          descending=sort != "price_asc", values_of=values_of, seek=seek)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _listed_key(solution) -> list:
    return [solution.listed_at or _EPOCH, solution.id]


def _recommended_key(solution) -> list:
    return [1 if solution.status == "recommended" else 0, solution.listed_at or _EPOCH, solution.id]


def public_solution(solution_id: int) -> Solution | None:
    """A solution as the public sees it: only when listed or recommended."""
    return db.session.scalar(select(Solution).join(Solution.provider).options(contains_eager(Solution.provider))
                             .where(Solution.id == solution_id, Solution.status.in_(PUBLIC_STATES)))


# --- provider, evaluator, bureau lists ------------------------------------------------------

def provider_page(provider_id: int, *, q: str | None = None, status: str | None = None, page: int = 1,
                  per_page: int = 20, cursor: str | None = None, seek: bool = False):
    """One provider's own solutions (never another's), most recently changed first.  ``seek`` (the
    API): keyset-paged on (updated_at, id), see :func:`voucher.pagination.seek_or_offset`."""
    stmt = select(Solution).where(Solution.provider_id == provider_id)
    if q:
        stmt = stmt.where(or_(Solution.title.icontains(q, autoescape=True),
                              Solution.description.icontains(q, autoescape=True)))
    if status:
        stmt = stmt.where(Solution.status == status)
    if seek:
        return seek_or_offset(stmt, (Solution.updated_at, Solution.id), list_name="solutions:provider", cursor=cursor,
                              page=page, per_page=per_page)
    return db.paginate(stmt.order_by(Solution.updated_at.desc(), Solution.id.desc()), page=page,
                       per_page=per_page, error_out=False)


def _waiting_key(solution) -> list:
    return [solution.submitted_at or _EPOCH, solution.id]


def screening_queue_page(*, status: str | None = None, page: int = 1, per_page: int = 20, cursor: str | None = None,
                         seek: bool = False):
    """Submitted and in-screening solutions, the longest waiting first (never submitted first).
    ``seek`` (the API): keyset-paged on (submitted_at, id)."""
    states = (status,) if status in QUEUE_STATES else QUEUE_STATES
    stmt = (select(Solution).join(Solution.provider).options(contains_eager(Solution.provider))
            .where(Solution.status.in_(states)))
    if seek:
        waiting = func.coalesce(Solution.submitted_at, literal(_EPOCH, Solution.submitted_at.type))
        return seek_or_offset(stmt, (waiting, Solution.id), list_name="solutions:screening", cursor=cursor, page=page,
                              per_page=per_page, descending=False, values_of=_waiting_key)
    stmt = stmt.order_by(Solution.submitted_at.asc().nulls_first(), Solution.id.asc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def manage_page(*, q: str | None = None, status: str | None = None, category: str | None = None,
                page: int = 1, per_page: int = 20, cursor: str | None = None, seek: bool = False):
    """Every solution in any state (bureau view), searched and filtered.  ``seek`` (the API):
    keyset-paged on (updated_at, id)."""
    stmt = select(Solution).join(Solution.provider).options(contains_eager(Solution.provider))
    if q:
        stmt = stmt.where(or_(Solution.title.icontains(q, autoescape=True),
                              Organisation.name.icontains(q, autoescape=True)))
    if status:
        stmt = stmt.where(Solution.status == status)
    if category:
        stmt = stmt.where(Solution.category == category)
    if seek:
        return seek_or_offset(stmt, (Solution.updated_at, Solution.id), list_name="solutions:all", cursor=cursor,
                              page=page, per_page=per_page)
    return db.paginate(stmt.order_by(Solution.updated_at.desc(), Solution.id.desc()), page=page,
                       per_page=per_page, error_out=False)


def screenings_for(solution_id: int) -> list[SolutionScreening]:
    """Every screening round of a solution, the latest first, with its evaluator."""
    return list(db.session.scalars(select(SolutionScreening).options(selectinload(SolutionScreening.evaluator))
                                   .where(SolutionScreening.solution_id == solution_id)
                                   .order_by(SolutionScreening.id.desc())))


def status_counts(provider_id: int | None = None) -> dict[str, int]:
    """Number of solutions per status (of one provider, or of all)."""
    stmt = select(Solution.status, func.count()).group_by(Solution.status)
    if provider_id is not None:
        stmt = stmt.where(Solution.provider_id == provider_id)
    return {status: count for status, count in db.session.execute(stmt)}


def oldest_waiting(states=QUEUE_STATES):
    """When the longest-waiting solution in ``states`` was submitted (None when none waits)."""
    return db.session.scalar(select(func.min(Solution.submitted_at)).where(Solution.status.in_(states)))


def history(solution_id: int):
    """The solution's audit events (creation, edits, every transition), oldest first."""
    from voucher.audit.queries import events_for

    return events_for("solution", solution_id)


# --- officer pages: recommendation candidates (read with the trials' scores) -------------------

@dataclass(frozen=True)
class Candidate:
    solution: Solution
    passed: int
    mean: Decimal | None
    eligible: bool
    min_evaluations: int
    remarkable: Decimal
    figures: dict


def recommendation_candidates(page: int, per_page: int, only_eligible: bool = False):
    """Listed solutions with at least one passed evaluation, with the recommendation rule applied
    (the catalogue's own :func:`recommendation_check`, fed the scores read here in one query)."""
    from voucher.catalogue import services as catalogue
    from voucher.trials.models import Trial
    from voucher.trials.recommendation import passed_scores, solution_figures

    with_passed = select(Trial.solution_id).where(Trial.outcome == "passed").distinct()
    stmt = (select(Solution).join(Solution.provider).options(contains_eager(Solution.provider))
            .where(Solution.status == "listed", Solution.id.in_(with_passed)).order_by(Solution.title, Solution.id))
    solutions = list(db.session.scalars(stmt))
    scores = passed_scores([s.id for s in solutions])
    figures = solution_figures([s.id for s in solutions])
    candidates = []
    for s in solutions:
        check = catalogue.recommendation_check(s.id, stats_provider=lambda sid: scores.get(sid, []))
        if only_eligible and not check.eligible:
            continue
        candidates.append(Candidate(s, check.count, check.mean, check.eligible, check.min_evaluations,
                                    check.remarkable, figures.get(s.id, {})))
    candidates.sort(key=lambda c: (not c.eligible, -(c.mean or 0), c.solution.title))
    total = len(candidates)
    start = (page - 1) * per_page
    return candidates[start:start + per_page], total
