"""Replaying a drafted rule change over the programme's past decisions (issue 19 §4).

Each decision stored the rule version it used and a snapshot of its inputs (``rule_inputs``, issue 19
§3). A replay recomputes every such decision from its own inputs with the draft's parameters, with the
same ``voucher.calc`` functions the decisions use, and compares the result with what was stored:

- **robot subsidy** (``robot_application``, submitted or later): ``calc.robot_subsidy`` over the stored
  lines, pilot flag and amount already granted, with the draft's rates and enterprise cap;
- **loan interest discount** (``loan_application``): ``calc.loan_discount`` over the stored periods,
  benchmark and loan rates and the principal already subsidised, with the draft's margin, points,
  principal cap and day basis;
- **trial voucher approval** (``trial_application``, approved): would the amount still fit under the
  draft's enterprise and provider caps, given what each had committed before it; a case that no longer
  fits flips to "over the cap" and its amount leaves the budget;
- **evaluation outcome** (``trial`` with an outcome): the stored mean score against the draft's pass and
  excellent marks (the weights made each evaluator's overall score when it was given and are not
  replayed); a flip changes the outcome, not an amount.

Nothing is written: a replay reads and computes. Decisions made before rule versions carry no inputs;
they are counted and named as not replayable. Replaying the version a decision used gives exactly the
stored result (tested over the demo data and 10,000 generated cases).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voucher.calc import (
    EvaluationParams,
    InterestPeriod,
    PrincipalUse,
    RobotLine,
    loan_discount,
    robot_subsidy,
    trial_score,
)
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db
from voucher.programmes.models import RuleVersion
from voucher.programmes.services import parse_parameters
from voucher.subsidies.common import params_of

LOCAL = ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0.00")
KINDS = ("robot_subsidy", "loan_discount", "trial_voucher", "evaluation")


@dataclass(frozen=True)
class ReplayCase:
    """One past decision: what was stored and what the draft would have decided."""

    kind: str
    source_id: int
    number: str | None
    enterprise: str
    district: str | None
    industry: str | None
    month: str               # YYYY-MM of the decision, local time
    version_number: int | None
    before_amount: Decimal
    after_amount: Decimal
    before_outcome: str
    after_outcome: str

    @property
    def difference(self) -> Decimal:
        return self.after_amount - self.before_amount

    @property
    def flipped(self) -> bool:
        return self.before_outcome != self.after_outcome


@dataclass
class ReplayResult:
    cases: list[ReplayCase] = field(default_factory=list)
    not_replayable: dict[str, int] = field(default_factory=dict)  # kind -> decisions without inputs

    @property
    def changed(self) -> list[ReplayCase]:
        return [c for c in self.cases if c.difference != 0 or c.flipped]

    @property
    def flips(self) -> int:
        return sum(1 for c in self.cases if c.flipped)

    @property
    def total_difference(self) -> Decimal:
        return sum((c.difference for c in self.cases), ZERO)

    def by(self, attribute: str) -> list[tuple[str, Decimal, int]]:
        """(key, budget difference, changed cases) per month / district / industry, sorted by key."""
        sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        counts: dict[str, int] = defaultdict(int)
        for case in self.changed:
            key = getattr(case, attribute) or "—"
            sums[key] += case.difference
            counts[key] += 1
        return [(k, sums[k], counts[k]) for k in sorted(sums)]

    def by_kind(self) -> list[tuple[str, int, int, Decimal]]:
        """(kind, cases, flips, difference) for each kind, in KINDS order."""
        out = []
        for kind in KINDS:
            rows = [c for c in self.cases if c.kind == kind]
            out.append((kind, len(rows), sum(1 for c in rows if c.flipped), sum((c.difference for c in rows), ZERO)))
        return out


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _month(moment) -> str:
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        from datetime import timezone

        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(LOCAL).strftime("%Y-%m")


def _enterprises(ids) -> dict[int, tuple[str, str | None, str | None]]:
    rows = db.session.execute(select(Organisation.id, Organisation.name, Enterprise.district, Enterprise.industry)
                              .outerjoin(Enterprise, Enterprise.organisation_id == Organisation.id)
                              .where(Organisation.id.in_(set(ids)))) if ids else []
    return {r.id: (r.name, r.district, r.industry) for r in rows}


def _version_numbers(programme_id: int) -> dict[int, int]:
    return dict(db.session.execute(select(RuleVersion.id, RuleVersion.number)
                                   .where(RuleVersion.programme_id == programme_id)).all())


def replay(programme_id: int, parameters: dict) -> ReplayResult:
    """Every past decision of the programme recomputed with ``parameters`` (a rule version's, parsed).

    Rule: the decision's own stored inputs, the calculation functions the decisions use, nothing written."""
    from voucher.applications.models import TrialApplication
    from voucher.subsidies.models import LoanApplication, RobotApplication
    from voucher.trials.models import Trial

    loan_params, robot_params = params_of(parameters)
    evaluation = EvaluationParams(pass_score=parameters["pass_score"], remarkable_score=parameters["remarkable_score"])
    numbers = _version_numbers(programme_id)
    result = ReplayResult()
    raw: list[tuple] = []

    robots = db.session.scalars(select(RobotApplication).where(
        RobotApplication.programme_id == programme_id,
        RobotApplication.status.notin_(("draft", "withdrawn"))).order_by(RobotApplication.id)).all()
    loans = db.session.scalars(select(LoanApplication).where(
        LoanApplication.programme_id == programme_id,
        LoanApplication.status.notin_(("draft", "withdrawn"))).order_by(LoanApplication.id)).all()
    # An approval is the trial application's decision: it stored its version (and, since rule versions,
    # its inputs); a rejection reserves nothing and has no rule to replay.
    trials = db.session.scalars(select(TrialApplication).where(
        TrialApplication.programme_id == programme_id, TrialApplication.rule_version_id.is_not(None))
        .order_by(TrialApplication.id)).all()
    outcomes = db.session.scalars(select(Trial).where(Trial.programme_id == programme_id,
                                                      Trial.outcome.is_not(None))
                                  .options(selectinload(Trial.application)).order_by(Trial.id)).all()
    names = _enterprises([a.enterprise_id for a in (*robots, *loans, *trials)] + [t.enterprise_id for t in outcomes])
    missing: dict[str, int] = defaultdict(int)

    for app in robots:
        inputs = app.rule_inputs or {}
        if not inputs.get("lines"):
            missing["robot_subsidy"] += 1
            continue
        lines = [RobotLine(x["model"], x["manufacturer"], bool(x["domestic"]), int(x["quantity"]),
                           Decimal(x["unit_price_excl_vat"]), x["invoice_no"],
                           date.fromisoformat(x["invoice_date"]) if x.get("invoice_date") else None)
                 for x in inputs["lines"]]
        after = robot_subsidy(lines, bool(inputs["pilot_industry"]), Decimal(inputs["already_granted"]),
                              robot_params).total_subsidy
        before = _money(app.computed_subsidy)
        raw.append(("robot_subsidy", app, before, after, _eligible(before), _eligible(after),
                    app.submitted_at or app.created_at))

    for app in loans:
        inputs = app.rule_inputs or {}
        if not inputs.get("periods"):
            missing["loan_discount"] += 1
            continue
        periods = [InterestPeriod(date.fromisoformat(p["start"]), date.fromisoformat(p["end"]),
                                  Decimal(p["outstanding_principal"]), Decimal(p["interest_paid"]))
                   for p in inputs["periods"]]
        already = [PrincipalUse(date.fromisoformat(s), date.fromisoformat(e), Decimal(p))
                   for s, e, p in inputs.get("principal_already_subsidised", [])]
        try:
            after = loan_discount(Decimal(inputs["benchmark_rate"]), Decimal(inputs["loan_rate"]), periods,
                                  loan_params, already).total_discount
            after_outcome = _eligible(after)
        except Exception:  # the draft refuses the loan (e.g. its rate above the draft's ceiling)
            after, after_outcome = ZERO, "refused"
        before = _money(app.computed_discount)
        raw.append(("loan_discount", app, before, _money(after), _eligible(before), after_outcome,
                    app.submitted_at or app.created_at))

    for app in trials:
        inputs = app.rule_inputs or {}
        if not inputs.get("amount"):
            missing["trial_voucher"] += 1  # decided before rule versions (the migration gave it version 1)
            continue
        amount = Decimal(inputs["amount"])
        fits = (Decimal(inputs["enterprise_committed_before"]) + amount <= parameters["trial_cap_per_enterprise"]
                and Decimal(inputs["provider_committed_before"]) + amount <= parameters["provider_cap"])
        raw.append(("trial_voucher", app, _money(amount), _money(amount) if fits else ZERO, "approved",
                    "approved" if fits else "over_cap", app.decided_at or app.submitted_at))

    for trial in outcomes:
        inputs = trial.rule_inputs or {}
        if not inputs.get("overall_scores"):
            missing["evaluation"] += 1
            continue
        scores = [Decimal(s) for s in inputs["overall_scores"]]
        replayed = trial_score(scores, evaluation)
        before_outcome = "excellent" if trial.remarkable else trial.outcome
        after_outcome = "excellent" if replayed.remarkable else ("passed" if replayed.passed else "failed")
        raw.append(("evaluation", trial, ZERO, ZERO, before_outcome, after_outcome, trial.evaluated_at))

    for kind, row, before, after, before_outcome, after_outcome, moment in raw:
        name, district, industry = names.get(row.enterprise_id, ("—", None, None))
        number = getattr(row, "number", None)
        if kind == "evaluation":
            number = getattr(getattr(row, "application", None), "number", None)
        result.cases.append(ReplayCase(
            kind=kind, source_id=row.id, number=number, enterprise=name, district=district, industry=industry,
            month=_month(moment), version_number=numbers.get(row.rule_version_id),
            before_amount=before, after_amount=_money(after), before_outcome=before_outcome,
            after_outcome=after_outcome))
    result.not_replayable = dict(missing)
    return result


def _eligible(amount: Decimal) -> str:
    return "granted" if amount > 0 else "nothing"


def replay_version(version: RuleVersion) -> ReplayResult:
    """A draft's (or any version's) replay over its programme's past decisions."""
    return replay(version.programme_id, parse_parameters(version.parameters))
