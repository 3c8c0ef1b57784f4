"""What the guide pages read, and the materials checklist other domains read.

``required_materials(programme_id, kind)`` is the checklist of the guide in force (the current
version, or the default content while no officer has saved one): every row, required or optional.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from voucher.deadlines import local_today, payment_working_days, review_working_days
from voucher.extensions import db
from voucher.guides.content import GuideContent, Material
from voucher.guides.models import GUIDE_KINDS, GuideVersion, ProgrammeGuide
from voucher.programmes.models import Programme


@dataclass(frozen=True)
class TimeLimits:
    """The promised time limits in working days: the same figures the deadlines count with."""

    review_days: int
    notice_days: int
    payment_days: int


def time_limits(programme: Programme) -> TimeLimits:
    """Review: :func:`voucher.deadlines.review_working_days`; the notice (公示): the programme's
    ``publicity_working_days``; payment after the notice: :func:`voucher.deadlines.payment_working_days`."""
    from voucher.programmes.services import parameters_on

    days = parameters_on(programme.id, local_today())[1]["publicity_working_days"]  # the version in force today
    return TimeLimits(review_working_days(), int(days), payment_working_days())


@dataclass(frozen=True)
class GuidePage:
    programme: Programme
    kind: str
    content: GuideContent
    version: int  # 0: the default content, not yet saved by an officer
    current_version: int
    saved_at: datetime | None
    saved_by: str
    change_note: str

    @property
    def is_current(self) -> bool:
        return self.version == self.current_version


def _guide(programme_id: int, kind: str) -> ProgrammeGuide | None:
    return db.session.scalar(select(ProgrammeGuide).where(ProgrammeGuide.programme_id == programme_id,
                                                          ProgrammeGuide.kind == kind))


def _version(guide: ProgrammeGuide, number: int) -> GuideVersion | None:
    return db.session.scalar(select(GuideVersion).options(selectinload(GuideVersion.materials))
                             .where(GuideVersion.guide_id == guide.id, GuideVersion.version == number))


def guide_page(programme: Programme, kind: str, version: int | None = None) -> GuidePage | None:
    """The guide as shown: ``version`` (default the current one); None when that version does not
    exist.  With no saved version the default content is shown as version 0."""
    from voucher.guides.defaults import default_content
    from voucher.guides.services import content_of, default_phone

    guide = _guide(programme.id, kind)
    if guide is None:
        if version not in (None, 0):
            return None
        return GuidePage(programme, kind, default_content(programme, kind, default_phone()), 0, 0, None, "", "")
    row = _version(guide, guide.current_version if version is None else version)
    if row is None:
        return None
    return GuidePage(programme, kind, content_of(row), row.version, guide.current_version, row.saved_at,
                     row.saved_by_label, row.change_note)


def required_materials(programme_id: int, kind: str) -> list[Material]:
    """The materials checklist in force for ``kind`` in the programme, in order: each row has
    ``code`` (stable across versions), ``name_zh``/``name_en``, ``required``, ``formats`` (keys of
    ``voucher.guides.content.FORMATS``: ``pdf``, ``jpeg``, ``png``; ``mime_types`` gives the MIME
    types), ``note_zh``/``note_en`` and ``position``.  Empty when the programme does not exist or
    does not fund ``kind``."""
    programme = db.session.get(Programme, programme_id)
    if programme is None or kind not in GUIDE_KINDS or not programme.funds(kind):
        return []
    page = guide_page(programme, kind)
    return list(page.content.materials) if page else []


@dataclass(frozen=True)
class VersionRow:
    version: int
    saved_at: datetime
    saved_by: str
    change_note: str
    materials: int


def versions(programme_id: int, kind: str) -> list[VersionRow]:
    """Every saved version, newest first, with its number of materials (one query)."""
    from voucher.guides.models import GuideMaterial

    counts = (select(GuideMaterial.version_id, func.count().label("n")).group_by(GuideMaterial.version_id)
              .subquery())
    rows = db.session.execute(
        select(GuideVersion.version, GuideVersion.saved_at, GuideVersion.saved_by_label, GuideVersion.change_note,
               func.coalesce(counts.c.n, 0))
        .join(ProgrammeGuide, ProgrammeGuide.id == GuideVersion.guide_id)
        .outerjoin(counts, counts.c.version_id == GuideVersion.id)
        .where(ProgrammeGuide.programme_id == programme_id, ProgrammeGuide.kind == kind)
        .order_by(GuideVersion.version.desc()))
    return [VersionRow(*r) for r in rows]


@dataclass(frozen=True)
class IndexRow:
    programme: Programme
    kinds: tuple[str, ...]
    versions: dict
    open_now: bool


def index_rows(today: date | None = None) -> list[IndexRow]:
    """Every programme (newest year first) with the kinds it funds and each guide's current version."""
    today = today or local_today()
    programmes = list(db.session.scalars(select(Programme).order_by(Programme.year.desc(), Programme.opens_on.desc(),
                                                                    Programme.id.desc())))
    current = {(g.programme_id, g.kind): g.current_version
               for g in db.session.scalars(select(ProgrammeGuide))}
    return [IndexRow(p, tuple(k for k in GUIDE_KINDS if p.funds(k)),
                     {k: current.get((p.id, k), 0) for k in GUIDE_KINDS}, p.is_open_on(today))
            for p in programmes]


def programme_for_kind(kind: str, today: date | None = None) -> Programme | None:
    """The programme whose guide a link for ``kind`` opens: one open today that funds it (the latest
    to open), else the latest programme that funds it."""
    today = today or local_today()
    column = getattr(Programme, f"funds_{kind}")
    stmt = select(Programme).where(column.is_(True))
    open_now = db.session.scalar(stmt.where(Programme.opens_on <= today, Programme.closes_on >= today)
                                 .order_by(Programme.opens_on.desc(), Programme.id.desc()).limit(1))
    if open_now is not None:
        return open_now
    return db.session.scalar(stmt.order_by(Programme.year.desc(), Programme.opens_on.desc(), Programme.id.desc())
                             .limit(1))
