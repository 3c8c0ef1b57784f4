"""A programme guide per programme and kind, kept as versions (each save is a new version).

``programme_guide`` is the one row per (programme, kind) pointing at its latest version;
``guide_version`` holds each saved text (Chinese and English) and never changes once written;
``guide_material`` is the materials checklist of a version as rows, so other domains read it
(:func:`voucher.guides.queries.required_materials`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import UTCDateTime, utcnow
from voucher.extensions import db

GUIDE_KINDS = ("trial_voucher", "loan_discount", "robot_subsidy")
_KIND_CHECK = "kind IN ('trial_voucher','loan_discount','robot_subsidy')"


class ProgrammeGuide(db.Model):
    """The guide of one kind of support in one programme; ``current_version`` is the one shown."""

    __tablename__ = "programme_guide"
    __table_args__ = (
        UniqueConstraint("programme_id", "kind", name="uq_programme_guide_programme_kind"),
        CheckConstraint(_KIND_CHECK, name="kind"),
        CheckConstraint("current_version >= 1", name="current_version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    kind: Mapped[str] = mapped_column(String(20))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme = relationship("Programme")


class GuideVersion(db.Model):
    """One saved text of a guide, in both languages; written once, never changed."""

    __tablename__ = "guide_version"
    __table_args__ = (
        UniqueConstraint("guide_id", "version", name="uq_guide_version_guide_version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("programme_guide.id"))
    version: Mapped[int] = mapped_column(Integer)
    saved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    saved_by_label: Mapped[str] = mapped_column(String(200), default="")
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    change_note: Mapped[str] = mapped_column(String(300), default="")
    eligibility_zh: Mapped[str] = mapped_column(Text)
    eligibility_en: Mapped[str] = mapped_column(Text)
    enterprise_pays_zh: Mapped[str] = mapped_column(Text)
    enterprise_pays_en: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str] = mapped_column(String(40))
    contact_hours_zh: Mapped[str] = mapped_column(String(200), default="")
    contact_hours_en: Mapped[str] = mapped_column(String(200), default="")
    # [{"title_zh", "title_en", "number"}] — the policy documents (设定依据) with their numbers (文号).
    basis: Mapped[list] = mapped_column(JSON, default=list)
    # [{"question_zh", "question_en", "answer_zh", "answer_en"}]
    faq: Mapped[list] = mapped_column(JSON, default=list)

    guide: Mapped[ProgrammeGuide] = relationship()
    materials: Mapped[list["GuideMaterial"]] = relationship(back_populates="version_row", order_by="GuideMaterial.position",
                                                            cascade="all, delete-orphan")


class GuideMaterial(db.Model):
    """One line of a version's materials checklist (材料清单)."""

    __tablename__ = "guide_material"
    __table_args__ = (
        UniqueConstraint("version_id", "position", name="uq_guide_material_version_position"),
        UniqueConstraint("version_id", "code", name="uq_guide_material_version_code"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("guide_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # A stable key across versions (e.g. ``business_licence``): what an application's upload refers to.
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    # Accepted formats, comma-separated codes of ``voucher.guides.services.FORMATS`` ("pdf,jpeg,png").
    formats: Mapped[str] = mapped_column(String(40))
    note_zh: Mapped[str] = mapped_column(String(500), default="")
    note_en: Mapped[str] = mapped_column(String(500), default="")

    version_row: Mapped[GuideVersion] = relationship(back_populates="materials")
