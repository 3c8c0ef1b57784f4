"""The solution catalogue: drafting, screening by the evaluation institution, listing,
recommendation and delisting.

Every state change goes through :data:`MACHINE` (``StateMachine.apply`` checks the state and
writes the audit event); before it, :func:`_guard` checks the role for the action and that a
provider acts only on its own organisation's solutions.  Services flush; the request commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable

from sqlalchemy import select

from voucher.access import can, require
from voucher.audit.services import Actor, record_event
from voucher.auth.policy import ensure_own_organisation
from voucher.calc import recommendation_eligible
from voucher.catalogue import queries
from voucher.catalogue.models import RUBRIC, SOLUTION_STATES, Solution, SolutionScreening
from voucher.db import FEN, utcnow
from voucher.errors import Conflict, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.money import format_money
from voucher.notifications.services import notify_organisation, notify_role
from voucher.programmes.models import PARAMETER_DEFAULTS, Programme
from voucher.reference import INDUSTRIES, SOLUTION_CATEGORIES
from voucher.workflow import StateMachine, transition

MACHINE = StateMachine("solution", SOLUTION_STATES, (
    transition("submit", "draft", "submitted", "provider"),
    transition("start_screening", "submitted", "screening", "evaluator"),
    transition("list", "screening", "listed", "evaluator", requires_reason=True),
    transition("reject", "screening", "rejected", "evaluator", requires_reason=True),
    transition("recommend", "listed", "recommended", "officer"),
    transition("delist", ("listed", "recommended"), "delisted", "officer", requires_reason=True),
    transition("revise", "rejected", "draft", "provider"),
    transition("relist", "delisted", "listed", "officer", requires_reason=True),
))

# The roles that may take each action (from whatever state): checked before the state, so a
# wrong role is always a 403 and never learns the solution's state.
ACTION_ROLES: dict[str, frozenset[str]] = {}
for _t in MACHINE.transitions:
    ACTION_ROLES[_t.action] = ACTION_ROLES.get(_t.action, frozenset()) | _t.roles

MAX_PRICE = Decimal("100000000.00")
MAX_TRIAL_DAYS = 730
TITLE_MAX = 200
DESCRIPTION_MAX = 10000
REASONS_MAX = 2000  # the audit trail keeps reasons of up to 2,000 characters


@dataclass(frozen=True)
class SolutionInput:
    title: str
    category: str
    target_industries: tuple[str, ...]
    description: str
    list_price: Decimal | None
    trial_price: Decimal | None
    trial_period_days: int | None


@dataclass(frozen=True)
class ScreeningInput:
    maturity: int | None
    references_score: int | None
    price_reasonableness: int | None
    service_capability: int | None
    data_security: int | None
    decision: str
    reasons: str


@dataclass(frozen=True)
class Eligibility:
    """The recommendation rule applied to one solution, with the figures to show."""

    eligible: bool
    count: int
    mean: Decimal | None
    min_evaluations: int
    remarkable: Decimal
    programme_name: str | None


# --- reading -----------------------------------------------------------------------------

def get_solution(solution_id: int) -> Solution:
    solution = db.session.get(Solution, solution_id)
    if solution is None:
        raise NotFound("No such solution.")
    return solution


def lock_solution(solution_id: int) -> Solution:
    """The solution with its row locked for the rest of the transaction (PostgreSQL), so two
    concurrent transitions of one solution (two evaluators, a double click) run one after the
    other and the second sees the first's state."""
    solution = db.session.scalar(select(Solution).where(Solution.id == solution_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if solution is None:
        raise NotFound("No such solution.")
    return solution


def solution_for(actor: Actor, solution_id: int) -> Solution:
    """A solution's full record (facts, screenings, history) for its internal page.

    Rule: its own provider, evaluators and the bureau (officer, finance, auditor) may read it;
    another provider, an enterprise or the administrator may not (the public page is theirs).
    """
    solution = get_solution(solution_id)
    if actor.role == "provider":
        ensure_own_organisation(actor, solution.provider_id)
    elif not can(actor, "catalogue.record"):
        raise Forbidden("You may not see this solution's internal record.")
    return solution


def own_solution(actor: Actor, solution_id: int) -> Solution:
    """A provider's own solution. Rule: only a provider user, only its own organisation's."""
    require(actor, "catalogue.own_solutions")
    solution = get_solution(solution_id)
    ensure_own_organisation(actor, solution.provider_id)
    return solution


def editable_solution(actor: Actor, solution_id: int) -> Solution:
    """A provider's own draft. Rule: a provider edits only its own solutions, and only in draft."""
    solution = own_solution(actor, solution_id)
    if solution.status != "draft":
        raise Conflict("Only a draft can be edited. A solution that was not listed can be revised back "
                       "into a draft.")
    return solution


def allowed_actions(actor: Actor, solution: Solution) -> list[str]:
    """The actions this actor may take on the solution now (for buttons; services re-check)."""
    if actor.role == "provider" and actor.organisation_id != solution.provider_id:
        return []
    return MACHINE.available(solution.status, actor.role)


# --- checks ------------------------------------------------------------------------------

def _guard(actor: Actor, solution: Solution, action: str) -> None:
    """The role may take ``action`` at all, and a provider only on its own solution (403)."""
    if actor.role not in ACTION_ROLES.get(action, frozenset()):
        raise Forbidden("Your role may not do this to a solution.")
    if actor.role == "provider":
        ensure_own_organisation(actor, solution.provider_id)


def _money_problem(value: Decimal) -> bool:
    return not value.is_finite() or value != value.quantize(FEN)


def _check_solution(data: SolutionInput) -> dict[str, str]:
    """Every field's problem at once (the form shows them all), in the form's field names."""
    errors: dict[str, str] = {}
    if not (data.title or "").strip():
        errors["title"] = "Enter a title."
    elif len(data.title.strip()) > TITLE_MAX:
        errors["title"] = "At most %(title_max)s characters."
    if data.category not in SOLUTION_CATEGORIES:
        errors["category"] = "Choose a category from the list."
    if not data.target_industries:
        errors["target_industries"] = "Choose at least one target industry."
    elif any(code not in INDUSTRIES for code in data.target_industries):
        errors["target_industries"] = "Choose industries from the list."
    if not (data.description or "").strip():
        errors["description"] = "Describe the solution."
    elif len(data.description) > DESCRIPTION_MAX:
        errors["description"] = "At most %(description_max)s characters."
    lp, tp = data.list_price, data.trial_price
    if lp is None:
        errors["list_price"] = "Enter the list price."
    elif _money_problem(lp):
        errors["list_price"] = "Enter an amount with at most two decimals."
    elif lp < 0:
        errors["list_price"] = "The list price cannot be negative."
    elif lp > MAX_PRICE:
        errors["list_price"] = "The list price may be at most %(max_price)s."
    if tp is None:
        errors["trial_price"] = "Enter the trial price."
    elif _money_problem(tp):
        errors["trial_price"] = "Enter an amount with at most two decimals."
    elif tp <= 0:
        errors["trial_price"] = "The trial price must be more than zero."
    elif "list_price" not in errors and tp > lp:
        errors["trial_price"] = "The trial price (%(trial_price)s) must not exceed the list price (%(list_price)s)."
    days = data.trial_period_days
    if days is None:
        errors["trial_period_days"] = "Enter the trial period in days."
    elif days < 1:
        errors["trial_period_days"] = "The trial period must be at least 1 day."
    elif days > MAX_TRIAL_DAYS:
        errors["trial_period_days"] = "The trial period may be at most %(max_days)s days."
    return errors


def _validate_solution(data: SolutionInput) -> None:
    errors = _check_solution(data)
    if errors:
        raise ValidationFailed(
            "Please correct the marked fields.", fields=errors, title_max=TITLE_MAX,
            description_max=DESCRIPTION_MAX, max_price=format_money(MAX_PRICE), max_days=MAX_TRIAL_DAYS,
            trial_price=format_money(data.trial_price) if isinstance(data.trial_price, Decimal) else "",
            list_price=format_money(data.list_price) if isinstance(data.list_price, Decimal) else "")


def _ordered_industries(codes: Iterable[str]) -> list[str]:
    chosen = set(codes)
    return [code for code in INDUSTRIES if code in chosen]


def _set_industries(solution: Solution, codes: Iterable[str]) -> None:
    """Store the industries in reference order; the model keeps the ``solution_industry`` rows in step."""
    solution.target_industries = _ordered_industries(codes)


def _facts(solution: Solution) -> dict:
    return {
        "title": solution.title,
        "category": solution.category,
        "target_industries": list(solution.target_industries or []),
        "description": solution.description,
        "list_price": solution.list_price,
        "trial_price": solution.trial_price,
        "trial_period_days": solution.trial_period_days,
    }


def _apply_facts(solution: Solution, data: SolutionInput) -> None:
    solution.title = data.title.strip()
    solution.category = data.category
    solution.description = data.description.strip()
    solution.list_price = data.list_price.quantize(FEN)
    solution.trial_price = data.trial_price.quantize(FEN)
    solution.trial_period_days = data.trial_period_days
    _set_industries(solution, data.target_industries)


# --- the provider's drafts ---------------------------------------------------------------

def create_solution(actor: Actor, data: SolutionInput) -> Solution:
    """Start a draft solution.

    Rule: only a provider user, always for its own organisation; every field valid (title,
    category and industries from the lists, a description, list price >= 0, 0 < trial price <=
    list price, trial period >= 1 day) or nothing is saved.  The creation is audited.
    """
    require(actor, "catalogue.own_solutions")
    if actor.organisation_id is None:
        raise Forbidden("Your account is not attached to a provider organisation.")
    _validate_solution(data)
    solution = Solution(provider_id=actor.organisation_id, status="draft")
    _apply_facts(solution, data)
    db.session.add(solution)
    db.session.flush()
    record_event(actor, "solution.create", "solution", solution.id, after={"status": "draft", **_facts(solution)})
    return solution


def update_solution(actor: Actor, solution_id: int, data: SolutionInput) -> Solution:
    """Change a draft's facts.

    Rule: only its own provider, only while it is a draft, every field valid (as on creation)
    or nothing changes.  The changed fields are audited (before and after).
    """
    lock_solution(solution_id)
    solution = editable_solution(actor, solution_id)
    _validate_solution(data)
    before = _facts(solution)
    _apply_facts(solution, data)
    after = _facts(solution)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        solution.updated_at = utcnow()
        db.session.flush()
        record_event(actor, "solution.update", "solution", solution.id,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return solution


# --- transitions -------------------------------------------------------------------------

SCREEN_PATH = "/catalogue/screening/%d"
DETAIL_PATH = "/catalogue/solutions/%d"


def submit(actor: Actor, solution_id: int) -> Solution:
    """Send a draft for screening. Rule: only its own provider, only from draft; evaluators are notified."""
    solution = lock_solution(solution_id)
    _guard(actor, solution, "submit")
    MACHINE.apply(solution, "submit", actor)
    solution.submitted_at = utcnow()
    db.session.flush()
    notify_role("evaluator", "Solution %(title)s is waiting for screening.", SCREEN_PATH % solution.id,
                title=solution.title)
    return solution


def start_screening(actor: Actor, solution_id: int) -> Solution:
    """Take a submitted solution into screening. Rule: an evaluator, only from submitted."""
    solution = lock_solution(solution_id)
    _guard(actor, solution, "start_screening")
    MACHINE.apply(solution, "start_screening", actor)
    return solution


def _check_screening(data: ScreeningInput) -> None:
    errors: dict[str, str] = {}
    for name in RUBRIC:
        value = getattr(data, name)
        if value is None:
            errors[name] = "Enter a score from 0 to 100."
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            errors[name] = "A score is a whole number from 0 to 100."
    if data.decision not in ("list", "reject"):
        errors["decision"] = "Choose to list or to reject the solution."
    if not (data.reasons or "").strip():
        errors["reasons"] = "Give the reasons for the decision."
    elif len(data.reasons) > REASONS_MAX:
        errors["reasons"] = "At most %(reasons_max)s characters."
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors, reasons_max=REASONS_MAX)


def screen(actor: Actor, solution_id: int, data: ScreeningInput) -> SolutionScreening:
    """Record an evaluator's rubric and decision: the solution is listed or rejected.

    Rule: an evaluator, only while the solution is in screening; five scores 0–100, a decision
    (list / reject) and reasons are all required.  The screening record is stored and the
    transition audited with the scores; the provider is notified.
    """
    solution = lock_solution(solution_id)
    if data.decision in ("list", "reject"):
        _guard(actor, solution, data.decision)
    else:
        _guard(actor, solution, "list")
    _check_screening(data)
    scores = {name: getattr(data, name) for name in RUBRIC}
    MACHINE.apply(solution, data.decision, actor, reason=data.reasons,
                  details={"decision": data.decision, "scores": scores})
    record = SolutionScreening(solution_id=solution.id, evaluator_id=actor.user_id, decision=data.decision,
                               reasons=data.reasons.strip(), **scores)
    db.session.add(record)
    if data.decision == "list":
        solution.listed_at = utcnow()
        message = "Your solution %(title)s was listed in the catalogue."
    else:
        message = "Your solution %(title)s was not listed: read the screening reasons, revise and resubmit."
    db.session.flush()
    notify_organisation(solution.provider_id, message, DETAIL_PATH % solution.id, title=solution.title)
    return record


def revise(actor: Actor, solution_id: int) -> Solution:
    """Take a rejected solution back into draft to revise it. Rule: only its own provider, only from rejected."""
    solution = lock_solution(solution_id)
    _guard(actor, solution, "revise")
    MACHINE.apply(solution, "revise", actor)
    return solution


def _recommendation_params(programme_id: int | None) -> tuple[int, Decimal, str | None]:
    if programme_id is not None:
        programme = db.session.get(Programme, programme_id)
        if programme is None:
            raise NotFound("No such programme.")
    else:
        programme = db.session.scalar(select(Programme).order_by(Programme.year.desc(), Programme.id.desc())
                                      .limit(1))
    if programme is None:
        return (int(PARAMETER_DEFAULTS["recommend_min_evaluations"]), Decimal(PARAMETER_DEFAULTS["remarkable_score"]),
                None)
    from voucher.programmes.queries import local_today
    from voucher.programmes.services import parameters_on

    _version, p = parameters_on(programme.id, local_today())  # the rule version in force today
    return int(p["recommend_min_evaluations"]), _plain(p["remarkable_score"]), programme.name


def _plain(value: Decimal) -> Decimal:
    """85.00 → 85, 84.50 → 84.5 (a percent column's two places are noise in a message)."""
    value = Decimal(value)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def recommendation_check(solution_id: int, *, stats_provider: Callable[[int], Iterable[Decimal]] | None = None,
                         programme_id: int | None = None) -> Eligibility:
    """Whether a solution meets the recommendation rule, with the figures.

    Rule: at least ``recommend_min_evaluations`` (default 3) passed effect evaluations whose mean
    overall score (rounded to 0.1) is at least ``remarkable_score`` (default 85), read from the
    given programme, else the latest programme, else the defaults.  The passed scores come from
    ``stats_provider(solution_id)`` (default: ``queries.passed_evaluation_scores``).
    """
    provider = stats_provider or queries.passed_evaluation_scores
    scores = [Decimal(s) for s in provider(solution_id)]
    min_evaluations, remarkable, programme_name = _recommendation_params(programme_id)
    result = recommendation_eligible(scores, min_evaluations, remarkable)
    return Eligibility(result.eligible, result.count, result.mean, min_evaluations, remarkable, programme_name)


def promote_to_recommended(actor: Actor, solution_id: int, *,
                           stats_provider: Callable[[int], Iterable[Decimal]] | None = None,
                           programme_id: int | None = None) -> Solution:
    """Put a listed solution on the recommendation catalogue.

    Rule: an officer, only from listed, and only when eligible (see :func:`recommendation_check`):
    otherwise refused with the figures (passed evaluations and mean against the thresholds).
    """
    solution = lock_solution(solution_id)
    _guard(actor, solution, "recommend")
    if MACHINE.find(solution.status, "recommend") is None:
        raise TransitionNotAllowed("Only a listed solution can be recommended.")
    check = recommendation_check(solution.id, stats_provider=stats_provider, programme_id=programme_id)
    if not check.eligible:
        raise ValidationFailed(
            "Not eligible for recommendation: %(count)s passed effect evaluations with a mean score of %(mean)s; "
            "at least %(min)s passed evaluations with a mean of at least %(remarkable)s are needed.",
            count=check.count, mean=check.mean if check.mean is not None else "—",
            min=check.min_evaluations, remarkable=check.remarkable)
    MACHINE.apply(solution, "recommend", actor,
                  details={"passed_evaluations": check.count, "mean_score": check.mean,
                           "min_evaluations": check.min_evaluations, "remarkable_score": check.remarkable})
    db.session.flush()
    notify_organisation(solution.provider_id, "Your solution %(title)s is now on the recommendation catalogue.",
                        DETAIL_PATH % solution.id, title=solution.title)
    return solution


def _check_reason_length(reason: str | None) -> None:
    if reason and len(reason.strip()) > REASONS_MAX:
        raise ValidationFailed("At most %(reasons_max)s characters.", field="reason", reasons_max=REASONS_MAX)


def delist(actor: Actor, solution_id: int, reason: str) -> Solution:
    """Take a listed or recommended solution out of the catalogue.

    Rule: an officer, only from listed or recommended, with a reason (audited); the provider is notified.
    """
    solution = lock_solution(solution_id)
    _guard(actor, solution, "delist")
    _check_reason_length(reason)
    MACHINE.apply(solution, "delist", actor, reason=reason)
    db.session.flush()
    notify_organisation(solution.provider_id, "Your solution %(title)s was delisted by the bureau.",
                        DETAIL_PATH % solution.id, title=solution.title)
    return solution


def relist(actor: Actor, solution_id: int, reason: str) -> Solution:
    """Put a delisted solution back in the catalogue. Rule: an officer, only from delisted, with a reason."""
    solution = lock_solution(solution_id)
    _guard(actor, solution, "relist")
    _check_reason_length(reason)
    MACHINE.apply(solution, "relist", actor, reason=reason)
    solution.listed_at = utcnow()
    db.session.flush()
    notify_organisation(solution.provider_id, "Your solution %(title)s is listed in the catalogue again.",
                        DETAIL_PATH % solution.id, title=solution.title)
    return solution
