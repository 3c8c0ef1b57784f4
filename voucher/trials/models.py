"""Trials of approved applications: milestones, evaluator assignments, effect-evaluation forms.

A :class:`Trial` is opened when an application is approved (one per application).  The provider
reports the four milestones in order, the enterprise confirms or disputes each; the kick-off
confirmation starts the trial (start and end dates), the final-report confirmation completes it.
An officer assigns evaluators; each declares no conflict of interest, then submits an
:class:`Evaluation` (a correction is a new version, the latest counts).  When every assigned
evaluator has submitted, the trial's score (their mean) and outcome are recorded on the trial.

Scores, post-trial figures and improvements are ``Percent`` columns (integer hundredths: exact on
both backends); money is ``Money`` (integer fen).  CHECKs compare the stored integers.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.applications.models import INDICATOR_CODES, TrialApplication
from voucher.catalogue.models import Solution
from voucher.db import Money, Percent, UTCDateTime, utcnow
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.programmes.models import Programme

# "cancelled": the approval was cancelled before the kick-off was confirmed (the trial never ran).
TRIAL_STATES = ("open", "running", "completed", "evaluated", "closed", "cancelled")
MILESTONE_KINDS = ("kickoff", "deployed", "in_use", "final_report")
MILESTONE_STATES = ("reported", "confirmed", "disputed")
ASSIGNMENT_STATES = ("assigned", "cleared", "conflict", "submitted", "removed")
# Assignments that still count: the evaluator is expected to (or did) submit a form.
ACTIVE_ASSIGNMENT_STATES = ("assigned", "cleared", "submitted")
OUTCOMES = ("passed", "failed")
# Acceptance (验收) of the delivered scope, beside the trial's status: each party confirms once, in any
# order; "accepted" when both have.  The balance is payable only once accepted *and* passed.
ACCEPTANCE_STATES = ("pending", "sme_accepted", "provider_accepted", "accepted")
ACCEPTANCE_PARTIES = ("sme", "provider")
RECOMMENDATIONS = ("continue", "improve", "not_recommended")
CRITERIA = ("effect", "quality", "service", "cost_effectiveness", "replicability")


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


class Trial(db.Model):
    """The trial of one approved application, from kick-off to the adoption decision."""

    __tablename__ = "trial"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(TRIAL_STATES)})", name="status"),
        CheckConstraint(f"outcome IS NULL OR outcome IN ({_in(OUTCOMES)})", name="outcome"),
        CheckConstraint("period_days > 0", name="period_positive"),
        CheckConstraint("approved_amount > 0", name="amount_positive"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="date_order"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 10000)", name="score_range"),
        CheckConstraint(f"acceptance_status IN ({_in(ACCEPTANCE_STATES)})", name="acceptance_status"),
        # The overdue lists: running trials by end date.
        Index("ix_trial_status_end_date", "status", "end_date"),
        Index("ix_trial_provider_status", "provider_id", "status"),
        Index("ix_trial_enterprise_status", "enterprise_id", "status"),
        Index("ix_trial_solution_status", "solution_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("trial_application.id"), unique=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    solution_id: Mapped[int] = mapped_column(ForeignKey("solution.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    # Copied when the trial is opened: the solution's trial period and the approved (reserved) amount.
    period_days: Mapped[int] = mapped_column(Integer)
    approved_amount: Mapped[Decimal] = mapped_column(Money)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the enterprise confirms the kick-off: end = start + period.
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # Fixed at the kick-off confirmation from the programme's advance percentage (advance + balance = amount);
    # the percentage used is kept with them, so a later change of the parameter never re-explains the split.
    advance_pct: Mapped[Decimal | None] = mapped_column(Percent)
    advance_amount: Mapped[Decimal | None] = mapped_column(Money)
    balance_amount: Mapped[Decimal | None] = mapped_column(Money)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A final report confirmed long before the planned end (see services.EARLY_FINISH_PCT): the days
    # early and the enterprise's reason (required then; shown to the officer).
    early_finish_days: Mapped[int | None] = mapped_column(Integer)
    early_finish_reason: Mapped[str | None] = mapped_column(Text)
    # Acceptance of the delivered scope by the enterprise and the provider (TrialAcceptance rows);
    # accepted_at is when the second party confirmed (the balance is due from the later of it and
    # the evaluation result).
    acceptance_status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The result: the mean of the evaluators' overall scores and the pass/fail outcome.
    score: Mapped[Decimal | None] = mapped_column(Percent)
    mean_improvement: Mapped[Decimal | None] = mapped_column(Percent)
    outcome: Mapped[str | None] = mapped_column(String(10))
    remarkable: Mapped[bool | None] = mapped_column(Boolean)
    # The programme's pass and remarkable marks the outcome was decided with (kept with the outcome).
    pass_score: Mapped[Decimal | None] = mapped_column(Percent)
    remarkable_score: Mapped[Decimal | None] = mapped_column(Percent)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The evaluation outcome's rule version (in force on the day decided) and its inputs: the
    # evaluators' scores, the weights, the pass and excellent marks (issue 19 §3).
    rule_version_id: Mapped[int | None] = mapped_column(ForeignKey("rule_version.id"), index=True)
    rule_inputs: Mapped[dict | None] = mapped_column(JSON)
    released_amount: Mapped[Decimal | None] = mapped_column(Money)
    # The enterprise's adoption decision: will it pay to keep using the solution, and why.
    adopted: Mapped[bool | None] = mapped_column(Boolean)
    adoption_reason: Mapped[str | None] = mapped_column(Text)
    adoption_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    adoption_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    application: Mapped[TrialApplication] = relationship()
    programme: Mapped[Programme] = relationship()
    enterprise: Mapped[Organisation] = relationship(foreign_keys=[enterprise_id])
    provider: Mapped[Organisation] = relationship(foreign_keys=[provider_id])
    solution: Mapped[Solution] = relationship()

    @property
    def result_final(self) -> bool:
        """The outcome is recorded: comments may be shown to the enterprise and the provider."""
        return self.status in ("evaluated", "closed")

    def is_overdue(self, today: date) -> bool:
        """Past its end date and not completed."""
        return self.status == "running" and self.end_date is not None and self.end_date < today


class TrialAcceptance(db.Model):
    """One party's acceptance form: the delivered scope in its words, the checklist against the
    application (as ticked and as shown), an optional signed acceptance report.  Never edited."""

    __tablename__ = "trial_acceptance"
    __table_args__ = (
        UniqueConstraint("trial_id", "party", name="uq_trial_acceptance_trial_party"),
        CheckConstraint(f"party IN ({_in(ACCEPTANCE_PARTIES)})", name="party"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id"), index=True)
    party: Mapped[str] = mapped_column(String(10))
    delivered_scope: Mapped[str] = mapped_column(Text)
    # [{"code": ..., "text": the item as shown, "ticked": true}, ...]
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trial: Mapped[Trial] = relationship()
    confirmer = relationship("User", foreign_keys=[confirmed_by])


class Milestone(db.Model):
    """One reported milestone of a trial (kick-off, deployed, in use, final report)."""

    __tablename__ = "trial_milestone"
    __table_args__ = (
        UniqueConstraint("trial_id", "kind", name="uq_trial_milestone_trial_kind"),
        CheckConstraint(f"kind IN ({_in(MILESTONE_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({_in(MILESTONE_STATES)})", name="status"),
        CheckConstraint("seq >= 1 AND seq <= 4", name="seq_range"),
        CheckConstraint("report_count >= 1", name="report_count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="reported")
    note: Mapped[str] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    report_count: Mapped[int] = mapped_column(Integer, default=1)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_reason: Mapped[str | None] = mapped_column(Text)

    trial: Mapped[Trial] = relationship()


class EvaluatorAssignment(db.Model):
    """An evaluator assigned to a completed trial, with the conflict-of-interest declaration."""

    __tablename__ = "evaluator_assignment"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(ASSIGNMENT_STATES)})", name="status"),
        Index("ix_evaluator_assignment_evaluator_status", "evaluator_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The declaration as the evaluator saw and accepted it, and when.
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declaration_text: Mapped[str | None] = mapped_column(Text)
    conflict_reason: Mapped[str | None] = mapped_column(Text)
    removed_reason: Mapped[str | None] = mapped_column(Text)

    trial: Mapped[Trial] = relationship()
    evaluator = relationship("User", foreign_keys=[evaluator_id])


def _score_checks():
    checks = [CheckConstraint(f"score_{c} >= 0 AND score_{c} <= 10000", name=f"score_{c}_range") for c in CRITERIA]
    checks += [CheckConstraint(f"after_{c} IS NULL OR after_{c} >= 0", name=f"after_{c}_non_negative")
               for c in INDICATOR_CODES]
    return tuple(checks)


class Evaluation(db.Model):
    """One version of an evaluator's effect-evaluation form.  Never edited: a correction is the
    next version (with its reason); the latest version of each assignment counts."""

    __tablename__ = "trial_evaluation"
    __table_args__ = _score_checks() + (
        UniqueConstraint("assignment_id", "version", name="uq_trial_evaluation_assignment_version"),
        CheckConstraint(f"recommendation IN ({_in(RECOMMENDATIONS)})", name="recommendation"),
        CheckConstraint("overall >= 0 AND overall <= 10000", name="overall_range"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("evaluator_assignment.id"), index=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    after_production_efficiency: Mapped[Decimal | None] = mapped_column(Percent)
    after_labour_per_unit: Mapped[Decimal | None] = mapped_column(Percent)
    after_defect_rate: Mapped[Decimal | None] = mapped_column(Percent)
    after_order_lead_time: Mapped[Decimal | None] = mapped_column(Percent)
    after_energy_per_unit: Mapped[Decimal | None] = mapped_column(Percent)

    score_effect: Mapped[Decimal] = mapped_column(Percent)
    score_quality: Mapped[Decimal] = mapped_column(Percent)
    score_service: Mapped[Decimal] = mapped_column(Percent)
    score_cost_effectiveness: Mapped[Decimal] = mapped_column(Percent)
    score_replicability: Mapped[Decimal] = mapped_column(Percent)
    # The programme's weights when the form was submitted, and the weighted overall (rounded to 0.1).
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    overall: Mapped[Decimal] = mapped_column(Percent)
    # Mean of the computable indicator improvements (%), None when none is computable.
    mean_improvement: Mapped[Decimal | None] = mapped_column(Percent)
    comments: Mapped[str] = mapped_column(Text)
    recommendation: Mapped[str] = mapped_column(String(20))

    assignment: Mapped[EvaluatorAssignment] = relationship()
    evaluator = relationship("User", foreign_keys=[evaluator_id])

    @property
    def afters(self) -> dict[str, Decimal | None]:
        return {code: getattr(self, f"after_{code}") for code in INDICATOR_CODES}

    @property
    def scores(self) -> dict[str, Decimal]:
        return {code: getattr(self, f"score_{code}") for code in CRITERIA}
