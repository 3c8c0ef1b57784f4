"""Loan interest-discount and robot purchase-subsidy applications.

Both kinds carry the figures computed by ``voucher.calc`` when the enterprise saved them (the
total as Money, the itemized working and the programme parameters used as JSON), so what the
enterprise saw before submitting is what the bureau reviews and what the ledger reserves.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship, validates

from voucher.appnumbers import register as register_numbers
from voucher.db import Money, Percent, UTCDateTime, utcnow
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.identifiers import normalise_identifier

# ``cancelled``: an approved grant taken back by an officer (an upheld public-notice objection)
# before any of it was paid; what was still reserved went back to the fund.
APPLICATION_STATES = ("draft", "submitted", "approved", "rejected", "returned", "withdrawn", "cancelled")
_UNSUBMITTED = text("submitted_at IS NULL AND status <> 'draft'")
_STATUS_CHECK = "status IN ('draft','submitted','approved','rejected','returned','withdrawn','cancelled')"


def _application_table_args(table: str, *checks: CheckConstraint) -> tuple:
    """An application table's constraints: the status CHECK and the two indexes every kind has
    (the review queue by status and submission, an enterprise's applications), plus its own CHECKs."""
    return (CheckConstraint(_STATUS_CHECK, name="status"), *checks,
            # The review queue's keyset order (submitted_at, created_at, id) by status and unfiltered.
            Index(f"ix_{table}_status_submitted", "status", "submitted_at", "created_at", "id"),
            Index(f"ix_{table}_submitted", "submitted_at", "created_at", "id"),
            # The queue's never-submitted half (withdrawn or cancelled before submission, rare): without
            # it PostgreSQL read every draft (they too have no submission time) to find none.
            Index(f"ix_{table}_unsubmitted", "created_at", "id", postgresql_where=_UNSUBMITTED,
                  sqlite_where=_UNSUBMITTED),
            Index(f"ix_{table}_enterprise", "enterprise_id", "programme_id"),
            # The SME's list of one kind, newest (highest id) first.
            Index(f"ix_{table}_enterprise_id", "enterprise_id", "id"))


class _Application:
    """What both kinds of application have: the programme and enterprise, the review state, the
    computed working and parameters, the approved amount and the decision, and the timestamps.
    Each kind adds its own figures, its rows and its CHECKs (``_application_table_args``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # The application number (受理编号, ``TX-2026-000013``, ``JQ-…``), written at creation (voucher.appnumbers).
    number: Mapped[str | None] = mapped_column(String(20), unique=True, index=True)

    @declared_attr
    def programme_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("programme.id"))

    @declared_attr
    def enterprise_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organisation.id"))

    status: Mapped[str] = mapped_column(String(20), default="draft")
    # A random token from the form: a repeated POST (double click, retry) finds the first application.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    working: Mapped[list] = mapped_column(JSON, default=list)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    approved_amount: Mapped[Decimal | None] = mapped_column(Money)
    # The calculation's rule version (in force on the day submitted; a draft shows the one in force
    # when saved) and its inputs (lines or periods, pilot flag, already granted, benchmark …).
    rule_inputs: Mapped[dict | None] = mapped_column(JSON)

    @declared_attr
    def rule_version_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("rule_version.id"), index=True)

    decision_reason: Mapped[str | None] = mapped_column(Text)

    @declared_attr
    def created_by(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user_account.id"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def enterprise(cls) -> Mapped[Organisation]:
        return relationship(Organisation)


class LoanApplication(_Application, db.Model):
    """An enterprise's claim for the interest discount on a digital technical-reform loan."""

    __tablename__ = "loan_application"
    __table_args__ = _application_table_args(
        "loan_application",
        CheckConstraint("principal > 0", name="principal_positive"),
        CheckConstraint("loan_rate > 0 AND loan_rate <= 10000", name="loan_rate_range"),
        CheckConstraint("benchmark_rate > 0 AND benchmark_rate <= 10000", name="benchmark_rate_range"),
        CheckConstraint("term_end > term_start", name="term_order"),
        CheckConstraint("computed_discount >= 0", name="discount_non_negative"),
    )

    bank_name: Mapped[str] = mapped_column(String(200))
    contract_no: Mapped[str] = mapped_column(String(64))
    # voucher.identifiers.normalise_identifier(contract_no): the loan's identity for "each day once".
    # Not UNIQUE (one contract has many claims, one per run of periods): the overlapping-period check
    # per enterprise stays in the service, under the enterprise lock the save takes.
    contract_key: Mapped[str | None] = mapped_column(String(64), index=True)

    @validates("contract_no")
    def _set_contract_key(self, _name, value):
        """The key follows the number wherever it is set (service, demo, fixtures)."""
        self.contract_key = normalise_identifier(value)[:64] if value is not None else None
        return value
    contract_date: Mapped[date] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(Money)
    loan_rate: Mapped[Decimal] = mapped_column(Percent)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)

    # The 1-year LPR in force on the contract date (from the officers' table), not typed by the SME.
    benchmark_rate: Mapped[Decimal] = mapped_column(Percent)
    benchmark_effective_from: Mapped[date] = mapped_column(Date)
    rate_ceiling: Mapped[str] = mapped_column(String(20))  # exact decimal text, may have more than 2 places
    computed_discount: Mapped[Decimal] = mapped_column(Money)

    plan_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    statement_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))

    periods: Mapped[list["LoanInterestPeriod"]] = relationship(
        back_populates="application", order_by="LoanInterestPeriod.position", cascade="all, delete-orphan")


class LoanInterestPeriod(db.Model):
    """One interest period of a loan application, with its computed discount."""

    __tablename__ = "loan_interest_period"
    __table_args__ = (
        CheckConstraint("end_date > start_date", name="period_order"),
        CheckConstraint("outstanding_principal >= 0 AND interest_paid >= 0", name="amounts_non_negative"),
        CheckConstraint("discount >= 0", name="discount_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    outstanding_principal: Mapped[Decimal] = mapped_column(Money)
    interest_paid: Mapped[Decimal] = mapped_column(Money)
    days: Mapped[int] = mapped_column(Integer)
    eligible_principal: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money)
    capped_by_interest_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    # The per-enterprise daily principal cap (domain §10) when earlier approved claims used part of it
    # on this period's days: ``[[start, end, principal], ...]`` (ISO dates, yuan text), the day
    # segments the discount was computed on; NULL: the whole period at ``eligible_principal``.
    # Later claims of the enterprise read these to know what is already subsidised on each day.
    segments: Mapped[list | None] = mapped_column(JSON)

    application: Mapped[LoanApplication] = relationship(back_populates="periods")


class RobotApplication(_Application, db.Model):
    """An enterprise's claim for the industrial-robot purchase subsidy."""

    __tablename__ = "robot_application"
    __table_args__ = _application_table_args(
        "robot_application",
        CheckConstraint("computed_subsidy >= 0 AND uncapped_total >= computed_subsidy", name="subsidy_range"),
        CheckConstraint("already_granted >= 0", name="already_granted_non_negative"),
    )

    pilot_industry: Mapped[bool] = mapped_column(Boolean, default=False)
    industry: Mapped[str] = mapped_column(String(40))  # the enterprise's industry when computed
    already_granted: Mapped[Decimal] = mapped_column(Money)  # committed robot subsidies when computed
    uncapped_total: Mapped[Decimal] = mapped_column(Money)
    computed_subsidy: Mapped[Decimal] = mapped_column(Money)
    cap_applied: Mapped[bool] = mapped_column(Boolean, default=False)

    lines: Mapped[list["RobotLineItem"]] = relationship(
        back_populates="application", order_by="RobotLineItem.position", cascade="all, delete-orphan")


class RobotLineItem(db.Model):
    """One robot purchase line.  ``invoice_key`` (``voucher.calc.invoice_key`` of the invoice
    number) is UNIQUE system-wide: an invoice can be claimed once; a withdrawn application
    gives its invoices back by clearing the key (NULLs do not collide)."""

    __tablename__ = "robot_line"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("unit_price_excl_vat > 0", name="unit_price_positive"),
        CheckConstraint("subsidy >= 0 AND granted >= 0 AND granted <= subsidy", name="subsidy_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("robot_application.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(120))
    manufacturer: Mapped[str] = mapped_column(String(200))
    domestic: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_excl_vat: Mapped[Decimal] = mapped_column(Money)
    invoice_no: Mapped[str] = mapped_column(String(64))
    invoice_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    invoice_date: Mapped[date] = mapped_column(Date)
    invoice_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    rate: Mapped[Decimal] = mapped_column(Percent)
    eligible_cost: Mapped[Decimal] = mapped_column(Money)
    subsidy: Mapped[Decimal] = mapped_column(Money)
    granted: Mapped[Decimal] = mapped_column(Money)

    application: Mapped[RobotApplication] = relationship(back_populates="lines")


register_numbers(LoanApplication, RobotApplication)


class IdentifierCollision(db.Model):
    """Two rows whose identifiers became one after the normalisation migration (an invoice claimed
    twice, one loan's days in two live applications under two spellings).  The migration keeps the
    earlier row's key, leaves the later one's NULL (invoices) and records the pair here for an
    officer (``flask voucher identifier-collisions``) instead of failing."""

    __tablename__ = "identifier_collision"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # invoice | loan_contract
    key: Mapped[str] = mapped_column(String(64))
    kept_type: Mapped[str] = mapped_column(String(40))
    kept_id: Mapped[int] = mapped_column(Integer)
    other_type: Mapped[str] = mapped_column(String(40))
    other_id: Mapped[int] = mapped_column(Integer)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
