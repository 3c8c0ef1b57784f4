"""The questionnaire's versions and the assessments taken with them (kept per enterprise over time)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import UTCDateTime, utcnow
from voucher.extensions import db


class MaturityQuestionnaire(db.Model):
    """One published version of the questionnaire (数字化水平自评问卷); the highest version is current.
    Never edited once published: a change is a new version, past assessments keep theirs."""

    __tablename__ = "maturity_questionnaire"
    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    content: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class MaturityAssessment(db.Model):
    """One self-assessment by an enterprise: its answers, the level per dimension and overall."""

    __tablename__ = "maturity_assessment"
    __table_args__ = (
        CheckConstraint("overall_level >= 1 AND overall_level <= 5", name="overall_level_range"),
        # An enterprise's history, oldest first (first and latest side by side).
        Index("ix_maturity_assessment_enterprise_taken", "enterprise_id", "taken_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("maturity_questionnaire.id"), index=True)
    # question code -> level of the chosen option; dimension code -> {"score": "2.67", "level": 2}.
    answers: Mapped[dict] = mapped_column(JSON)
    dimensions: Mapped[dict] = mapped_column(JSON)
    overall_score: Mapped[str] = mapped_column(String(10))
    overall_level: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    questionnaire: Mapped[MaturityQuestionnaire] = relationship()

    def level(self, dimension: str) -> int | None:
        entry = (self.dimensions or {}).get(dimension)
        return entry["level"] if entry else None
