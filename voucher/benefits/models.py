"""Benefits without applying (免申即享): the data the bureau already holds and the candidates matched from it.

``benefit_source``: one import an officer ran (kind, file name, SHA-256, who, when, row counts and the
refused rows' report).  Its rows: ``benefit_loan_line`` (a bank's loan interest statement line),
``benefit_invoice`` (a robot purchase invoice from the tax side), ``benefit_blacklist`` (严重失信主体名单).

``benefit_candidate``: an enterprise that qualifies for a robot subsidy or a loan discount under the
current programme, with the amount, the working and per condition the source row that satisfies it;
``benefit_claim``: the claim-once keys a candidate holds (UNIQUE: an invoice or a loan's days are
never in two candidates).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import Money, Percent, UTCDateTime, utcnow
from voucher.extensions import db

SOURCE_KINDS = ("loan_statement", "robot_invoice", "blacklist")
CANDIDATE_KINDS = ("robot", "loan")
CANDIDATE_STATES = ("open", "confirmed", "declined", "excluded")


class BenefitSource(db.Model):
    __tablename__ = "benefit_source"
    __table_args__ = (
        CheckConstraint("kind IN ('loan_statement','robot_invoice','blacklist')", name="kind"),
        # The same file imported twice as the same kind is refused (its rows would count twice).
        UniqueConstraint("kind", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)       # rows accepted and stored
    refused_count: Mapped[int] = mapped_column(Integer)   # rows refused (see ``report``)
    report: Mapped[list] = mapped_column(JSON, default=list)  # [{row, column, message, params}]
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class BenefitLoanLine(db.Model):
    __tablename__ = "benefit_loan_line"
    __table_args__ = (Index("ix_benefit_loan_line_uscc_contract", "uscc", "contract_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("benefit_source.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    uscc: Mapped[str] = mapped_column(String(18))
    lender: Mapped[str] = mapped_column(String(200))
    contract_no: Mapped[str] = mapped_column(String(64))
    contract_key: Mapped[str] = mapped_column(String(64))
    contract_date: Mapped[date] = mapped_column(Date)
    loan_rate: Mapped[Decimal] = mapped_column(Percent)
    outstanding_principal: Mapped[Decimal] = mapped_column(Money)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    interest_paid: Mapped[Decimal] = mapped_column(Money)

    source: Mapped[BenefitSource] = relationship()


class BenefitInvoice(db.Model):
    __tablename__ = "benefit_invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("benefit_source.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    invoice_no: Mapped[str] = mapped_column(String(64))
    invoice_key: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(120))
    manufacturer: Mapped[str] = mapped_column(String(200))
    domestic: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_excl_vat: Mapped[Decimal] = mapped_column(Money)
    invoice_date: Mapped[date] = mapped_column(Date)

    source: Mapped[BenefitSource] = relationship()


class BenefitBlacklist(db.Model):
    __tablename__ = "benefit_blacklist"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("benefit_source.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    listed_from: Mapped[date] = mapped_column(Date)
    listed_to: Mapped[date | None] = mapped_column(Date)
    listed_by: Mapped[str] = mapped_column(String(200))  # the list's source (e.g. 信用中国)

    source: Mapped[BenefitSource] = relationship()


class BenefitCandidate(db.Model):
    __tablename__ = "benefit_candidate"
    __table_args__ = (
        CheckConstraint("kind IN ('robot','loan')", name="kind"),
        CheckConstraint("status IN ('open','confirmed','declined','excluded')", name="status"),
        Index("ix_benefit_candidate_status_kind", "status", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the candidate is (kind, enterprise, the claim keys or the blacklist row): found again, the same row.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="open")
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    district: Mapped[str] = mapped_column(String(20))
    industry: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money)
    working: Mapped[list] = mapped_column(JSON, default=list)
    # Per condition the source row that satisfies it: [{condition, source_id, row_id, row_number, values}]
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The match's rule version (in force on the day of the match) and its inputs (issue 19 §3).
    rule_version_id: Mapped[int | None] = mapped_column(ForeignKey("rule_version.id"), index=True)
    rule_inputs: Mapped[dict | None] = mapped_column(JSON)
    exclusion_reason: Mapped[dict | None] = mapped_column(JSON)  # blacklisted: the list's row
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(2000))
    payee_account: Mapped[str | None] = mapped_column(String(64))
    application_id: Mapped[int | None] = mapped_column(Integer)

    claims: Mapped[list["BenefitClaim"]] = relationship(back_populates="candidate", cascade="all, delete-orphan")


class BenefitClaim(db.Model):
    __tablename__ = "benefit_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("benefit_candidate.id"), index=True)
    # "invoice:<invoice_key>" or "loan:<enterprise>:<contract_key>:<start>:<end>"
    claim_key: Mapped[str] = mapped_column(String(200), unique=True)

    candidate: Mapped[BenefitCandidate] = relationship(back_populates="claims")
