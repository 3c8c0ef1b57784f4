from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    case,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.calc import programme_parameter_defaults
from voucher.db import Money, Percent, UTCDateTime, utcnow
from voucher.extensions import db

FUNDING_KIND_CODES = ("trial_voucher", "loan_discount", "robot_subsidy")
LEDGER_KINDS = ("reserve", "release", "pay", "return", "recover")


def reserved_delta(kind, amount):
    """An entry's signed effect on what is still reserved, for SQL sums: a reserve and a return
    (退汇, paid back to reserved) add, a release and a pay take away, a recovery (追回) leaves it."""
    return case((kind.in_(("reserve", "return")), amount), (kind.in_(("release", "pay")), -amount), else_=0)


def paid_delta(kind, amount):
    """An entry's signed effect on what is paid, for SQL sums: a pay adds, a return (退汇) and a
    recovery (追回, money paid back by the enterprise or offset) take away."""
    return case((kind == "pay", amount), (kind.in_(("return", "recover")), -amount), else_=0)

# Every programme parameter of the domain rules with its default; the programme form, the
# audit of parameter changes and the calculations all read this one list. The defaults are
# written once, in voucher.calc (the calculations' parameter classes).
PARAMETER_DEFAULTS: dict[str, Decimal | int] = programme_parameter_defaults()


class Programme(db.Model):
    """An annual fund with its window, the kinds it funds, and every rule parameter."""

    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint("budget >= 0", name="budget_non_negative"),
        CheckConstraint("closes_on >= opens_on", name="window_order"),
        CheckConstraint("weight_effect + weight_quality + weight_service + weight_cost_effectiveness"
                        " + weight_replicability = 100", name="weights_sum_100"),
        # Percent columns hold hundredths of a percent: 10000 is 100%.
        CheckConstraint("advance_pct >= 0 AND advance_pct <= 10000", name="advance_pct_range"),
        CheckConstraint("trial_cap_per_enterprise >= 0 AND provider_cap >= 0 AND robot_enterprise_cap >= 0"
                        " AND loan_principal_cap >= 0", name="caps_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    budget: Mapped[Decimal] = mapped_column(Money)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    funds_trial_voucher: Mapped[bool] = mapped_column(Boolean, default=True)
    funds_loan_discount: Mapped[bool] = mapped_column(Boolean, default=True)
    funds_robot_subsidy: Mapped[bool] = mapped_column(Boolean, default=True)
    pilot_industries: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trial_cap_per_enterprise: Mapped[Decimal] = mapped_column(Money, default=PARAMETER_DEFAULTS["trial_cap_per_enterprise"])
    provider_cap: Mapped[Decimal] = mapped_column(Money, default=PARAMETER_DEFAULTS["provider_cap"])
    advance_pct: Mapped[Decimal] = mapped_column(Percent, default=PARAMETER_DEFAULTS["advance_pct"])
    pass_score: Mapped[Decimal] = mapped_column(Percent, default=PARAMETER_DEFAULTS["pass_score"])
    remarkable_score: Mapped[Decimal] = mapped_column(Percent, default=PARAMETER_DEFAULTS["remarkable_score"])
    recommend_min_evaluations: Mapped[int] = mapped_column(Integer, default=PARAMETER_DEFAULTS["recommend_min_evaluations"])
    weight_effect: Mapped[int] = mapped_column(Integer, default=PARAMETER_DEFAULTS["weight_effect"])
    weight_quality: Mapped[int] = mapped_column(Integer, default=PARAMETER_DEFAULTS["weight_quality"])
    weight_service: Mapped[int] = mapped_column(Integer, default=PARAMETER_DEFAULTS["weight_service"])
    weight_cost_effectiveness: Mapped[int] = mapped_column(Integer, default=PARAMETER_DEFAULTS["weight_cost_effectiveness"])
    weight_replicability: Mapped[int] = mapped_column(Integer, default=PARAMETER_DEFAULTS["weight_replicability"])
    loan_rate_margin_pct: Mapped[Decimal] = mapped_column(Percent, default=PARAMETER_DEFAULTS["loan_rate_margin_pct"])
    loan_subsidy_points: Mapped[Decimal] = mapped_column(Percent, default=PARAMETER_DEFAULTS["loan_subsidy_points"])
    loan_principal_cap: Mapped[Decimal] = mapped_column(Money, default=PARAMETER_DEFAULTS["loan_principal_cap"])
    loan_day_basis: Mapped[int] = mapped_column(Integer, default=PARAMETER_DEFAULTS["loan_day_basis"])
    robot_base_rate: Mapped[Decimal] = mapped_column(Percent, default=PARAMETER_DEFAULTS["robot_base_rate"])
    robot_domestic_rate: Mapped[Decimal] = mapped_column(Percent, default=PARAMETER_DEFAULTS["robot_domestic_rate"])
    robot_pilot_domestic_rate: Mapped[Decimal] = mapped_column(Percent, default=PARAMETER_DEFAULTS["robot_pilot_domestic_rate"])
    robot_enterprise_cap: Mapped[Decimal] = mapped_column(Money, default=PARAMETER_DEFAULTS["robot_enterprise_cap"])
    publicity_working_days: Mapped[int] = mapped_column(Integer, default=PARAMETER_DEFAULTS["publicity_working_days"])

    def funds(self, kind: str) -> bool:
        return bool(getattr(self, f"funds_{kind}"))

    def is_open_on(self, day: date) -> bool:
        return self.opens_on <= day <= self.closes_on


class LprRate(db.Model):
    """The 1-year loan prime rate in force from a date (officers maintain the table)."""

    __tablename__ = "lpr_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    rate_pct: Mapped[Decimal] = mapped_column(Percent)


class FundLedgerEntry(db.Model):
    """Append-only fund ledger: reserve, release, pay, return, recover.

    ``recover`` (追回) is money a recovery order brought back (repaid, or offset against a later
    payment): paid drops by the amount, reserved and the commitments (caps) stay, so the programme's
    available funds rise by exactly the amount.  A grant's paid milestones are unaffected (the
    recovered item is not payable again).

    ``return`` (退汇) undoes a payment the bank returned: the amount goes from paid back to reserved
    for the grant (commitments and caps unchanged), so the grant's item can be paid again.

    Each entry carries the running totals after it (programme-wide, per enterprise and kind,
    per provider) and a per-programme sequence number.  ``UNIQUE(programme_id, seq)`` means
    two writers that read the same previous entry cannot both append, and the CHECKs mean
    no entry can exist that over-commits the budget or a cap, whatever the code does.
    """

    __tablename__ = "fund_ledger_entry"
    __table_args__ = (
        UniqueConstraint("programme_id", "seq", name="uq_fund_ledger_entry_programme_seq"),
        CheckConstraint("kind IN ('reserve','release','pay','return','recover')", name="kind"),
        CheckConstraint("funding_kind IN ('trial_voucher','loan_discount','robot_subsidy')", name="funding_kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("reserved_after >= 0 AND paid_after >= 0", name="totals_non_negative"),
        CheckConstraint("reserved_after + paid_after <= budget_at_entry", name="within_budget"),
        CheckConstraint("enterprise_cap IS NULL OR enterprise_committed_after <= enterprise_cap",
                        name="within_enterprise_cap"),
        CheckConstraint("provider_cap IS NULL OR provider_committed_after <= provider_cap",
                        name="within_provider_cap"),
        CheckConstraint("source_outstanding_after >= 0", name="source_outstanding_non_negative"),
        Index("ix_fund_ledger_entry_source", "source_type", "source_id"),
        Index("ix_fund_ledger_entry_enterprise", "programme_id", "enterprise_id", "funding_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    funding_kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int]
    milestone: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    budget_at_entry: Mapped[Decimal] = mapped_column(Money)
    reserved_after: Mapped[Decimal] = mapped_column(Money)
    paid_after: Mapped[Decimal] = mapped_column(Money)
    enterprise_committed_after: Mapped[Decimal] = mapped_column(Money)
    enterprise_cap: Mapped[Decimal | None] = mapped_column(Money)
    provider_committed_after: Mapped[Decimal | None] = mapped_column(Money)
    provider_cap: Mapped[Decimal | None] = mapped_column(Money)
    source_outstanding_after: Mapped[Decimal] = mapped_column(Money)


RULE_VERSION_STATES = ("draft", "published", "discarded")


# A programme's rule parameters as dated versions.
#
# A version is ``draft`` while an officer shapes (and replays) a change, ``published`` with a start
# day (``effective_from``) once it applies, or ``discarded``. The version in force on a day is the
# published one with the latest start on or before it (before the first start: the first version).
# ``parameters`` holds every key of ``PARAMETER_DEFAULTS`` as a string (Decimal) or an integer; a
# published version never changes again, so a decision that names it can always be worked out again.
class RuleVersion(db.Model):
    __tablename__ = "rule_version"
    __table_args__ = (
        CheckConstraint("status IN ('draft','published','discarded')", name="status"),
        CheckConstraint("status <> 'published' OR (number IS NOT NULL AND effective_from IS NOT NULL)",
                        name="published_numbered_and_dated"),
        UniqueConstraint("programme_id", "number", name="uq_rule_version_number"),
        # Two published versions never start on the same day (discarded drafts keep no day).
        Index("uq_rule_version_start", "programme_id", "effective_from", unique=True,
              postgresql_where=text("status = 'published'"), sqlite_where=text("status = 'published'")),
        Index("ix_rule_version_programme_status", "programme_id", "status", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    # 1, 2, … per programme, given when published; a draft has none.
    number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    effective_from: Mapped[date | None] = mapped_column(Date)
    parameters: Mapped[dict] = mapped_column(JSON)
    # What the officer changed and why (shown beside the version); the draft's base version.
    note: Mapped[str | None] = mapped_column(String(1000))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("rule_version.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    programme: Mapped[Programme] = relationship()
    based_on: Mapped["RuleVersion | None"] = relationship(remote_side="RuleVersion.id")
