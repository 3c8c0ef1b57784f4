"""Saving a programme guide: every save that changes something is a new version, audited.

Rule (``save_guide``): programme officers only; the programme funds the kind; the officer edited
the version that is current (else :class:`Conflict`); the text is checked field by field
(messages name the field and the limit); a save that changes nothing makes no version.
"""
from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.db import utcnow
from voucher.errors import N_, Conflict, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.guides.content import FORMATS, Basis, Faq, GuideContent, Material
from voucher.guides.models import GUIDE_KINDS, GuideMaterial, GuideVersion, ProgrammeGuide
from voucher.programmes.models import Programme

TEXT_MAX = 4000
PAYS_MAX = 2000
HOURS_MAX = 200
NOTE_MAX = 300
NAME_MAX = 200
MATERIAL_NOTE_MAX = 500
TITLE_MAX = 300
NUMBER_MAX = 100
QUESTION_MAX = 300
ANSWER_MAX = 2000
MAX_MATERIALS = 30
MAX_BASIS = 20
MAX_FAQ = 30
_PHONE = re.compile(r"^[0-9+()\-\s]{3,40}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def get_programme_for(programme_id: int, kind: str) -> Programme:
    """The programme, if it funds ``kind`` (else 404: there is no such guide)."""
    programme = db.session.get(Programme, programme_id) if isinstance(programme_id, int) else None
    if programme is None or kind not in GUIDE_KINDS or not programme.funds(kind):
        raise NotFound("There is no such programme guide.")
    return programme


# (message when missing, message when too long) per text; the row texts name their row.
_MESSAGES = {
    "eligibility_zh": (N_("Enter who is eligible, in Chinese."),
                       N_("Who is eligible (Chinese): at most %(max)s characters (%(n)s given).")),
    "eligibility_en": (N_("Enter who is eligible, in English."),
                       N_("Who is eligible (English): at most %(max)s characters (%(n)s given).")),
    "enterprise_pays_zh": (N_("Enter what the enterprise pays itself, in Chinese."),
                           N_("What the enterprise pays (Chinese): at most %(max)s characters (%(n)s given).")),
    "enterprise_pays_en": (N_("Enter what the enterprise pays itself, in English."),
                           N_("What the enterprise pays (English): at most %(max)s characters (%(n)s given).")),
    "contact_hours_zh": ("", N_("Enquiry hours (Chinese): at most %(max)s characters (%(n)s given).")),
    "contact_hours_en": ("", N_("Enquiry hours (English): at most %(max)s characters (%(n)s given).")),
    "change_note": ("", N_("What changed: at most %(max)s characters (%(n)s given).")),
    "name_zh": (N_("Row %(row)s: enter the material's Chinese name."),
                N_("Row %(row)s: the Chinese name is longer than %(max)s characters.")),
    "name_en": (N_("Row %(row)s: enter the material's English name."),
                N_("Row %(row)s: the English name is longer than %(max)s characters.")),
    "note_zh": ("", N_("Row %(row)s: the Chinese note is longer than %(max)s characters.")),
    "note_en": ("", N_("Row %(row)s: the English note is longer than %(max)s characters.")),
    "title_zh": (N_("Row %(row)s: enter the document's Chinese title."),
                 N_("Row %(row)s: the Chinese title is longer than %(max)s characters.")),
    "title_en": (N_("Row %(row)s: enter the document's English title."),
                 N_("Row %(row)s: the English title is longer than %(max)s characters.")),
    "number": ("", N_("Row %(row)s: the document number is longer than %(max)s characters.")),
    "question_zh": (N_("Row %(row)s: enter the question in Chinese."),
                    N_("Row %(row)s: the Chinese question is longer than %(max)s characters.")),
    "question_en": (N_("Row %(row)s: enter the question in English."),
                    N_("Row %(row)s: the English question is longer than %(max)s characters.")),
    "answer_zh": (N_("Row %(row)s: enter the answer in Chinese."),
                  N_("Row %(row)s: the Chinese answer is longer than %(max)s characters.")),
    "answer_en": (N_("Row %(row)s: enter the answer in English."),
                  N_("Row %(row)s: the English answer is longer than %(max)s characters.")),
}


def _text(field: str, value: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    missing, too_long = _MESSAGES[field]
    if required and not value:
        raise ValidationFailed(missing, field=field)
    if len(value) > limit:
        raise ValidationFailed(too_long, field=field, max=limit, n=len(value))
    return value


def _row_text(field: str, row: int, value: str, limit: int, key: str, *, required: bool = True) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    missing, too_long = _MESSAGES[key]
    if required and not value:
        raise ValidationFailed(missing, field=field, row=row)
    if len(value) > limit:
        raise ValidationFailed(too_long, field=field, row=row, max=limit)
    return value


def clean_content(content: GuideContent) -> GuideContent:
    """The content checked and tidied (stripped, positions and codes assigned), or ValidationFailed
    naming the field (and the row) and the limit."""
    eligibility_zh = _text("eligibility_zh", content.eligibility_zh, TEXT_MAX)
    eligibility_en = _text("eligibility_en", content.eligibility_en, TEXT_MAX)
    pays_zh = _text("enterprise_pays_zh", content.enterprise_pays_zh, PAYS_MAX)
    pays_en = _text("enterprise_pays_en", content.enterprise_pays_en, PAYS_MAX)
    phone = (content.contact_phone or "").strip()
    if not _PHONE.match(phone) or not any(c.isdigit() for c in phone):
        raise ValidationFailed("Enter the enquiry phone number with digits, spaces, hyphens or brackets, at most "
                               "40 characters (e.g. 0577-88960000).", field="contact_phone")
    hours_zh = _text("contact_hours_zh", content.contact_hours_zh, HOURS_MAX, required=False)
    hours_en = _text("contact_hours_en", content.contact_hours_en, HOURS_MAX, required=False)

    if not content.materials:
        raise ValidationFailed("List at least one material.", field="materials")
    if len(content.materials) > MAX_MATERIALS:
        raise ValidationFailed("At most %(max)s materials.", field="materials", max=MAX_MATERIALS)
    materials: list[Material] = []
    used_codes: set[str] = set()
    names: set[str] = set()
    for n, m in enumerate(content.materials, start=1):
        name_zh = _row_text("materials", n, m.name_zh, NAME_MAX, "name_zh")
        name_en = _row_text("materials", n, m.name_en, NAME_MAX, "name_en")
        if name_zh in names:
            raise ValidationFailed("Row %(row)s: %(name)s is listed twice.", field="materials", row=n, name=name_zh)
        names.add(name_zh)
        formats = tuple(f for f in FORMATS if f in set(m.formats or ()))
        if not formats or set(m.formats or ()) - set(FORMATS):
            raise ValidationFailed("Row %(row)s: tick at least one accepted format (PDF, JPEG or PNG).",
                                   field="materials", row=n)
        note_zh = _row_text("materials", n, m.note_zh, MATERIAL_NOTE_MAX, "note_zh", required=False)
        note_en = _row_text("materials", n, m.note_en, MATERIAL_NOTE_MAX, "note_en", required=False)
        code = (m.code or "").strip()
        if not _CODE.match(code) or code in used_codes:
            code = ""
        used_codes.add(code)
        materials.append(Material(name_zh, name_en, bool(m.required), formats, note_zh, note_en, code, n))
    if not any(m.required for m in materials):
        raise ValidationFailed("Mark at least one material as required.", field="materials")
    taken = {m.code for m in materials if m.code}
    counter = 1
    for i, m in enumerate(materials):
        if not m.code:
            while f"material_{counter}" in taken:
                counter += 1
            taken.add(f"material_{counter}")
            materials[i] = replace(m, code=f"material_{counter}")

    if not content.basis:
        raise ValidationFailed("List at least one policy document.", field="basis")
    if len(content.basis) > MAX_BASIS:
        raise ValidationFailed("At most %(max)s policy documents.", field="basis", max=MAX_BASIS)
    basis = tuple(Basis(_row_text("basis", n, b.title_zh, TITLE_MAX, "title_zh"),
                        _row_text("basis", n, b.title_en, TITLE_MAX, "title_en"),
                        _row_text("basis", n, b.number, NUMBER_MAX, "number", required=False))
                  for n, b in enumerate(content.basis, start=1))
    if len(content.faq) > MAX_FAQ:
        raise ValidationFailed("At most %(max)s questions.", field="faq", max=MAX_FAQ)
    faq = tuple(Faq(_row_text("faq", n, f.question_zh, QUESTION_MAX, "question_zh"),
                    _row_text("faq", n, f.question_en, QUESTION_MAX, "question_en"),
                    _row_text("faq", n, f.answer_zh, ANSWER_MAX, "answer_zh"),
                    _row_text("faq", n, f.answer_en, ANSWER_MAX, "answer_en"))
                for n, f in enumerate(content.faq, start=1))
    return GuideContent(eligibility_zh, eligibility_en, pays_zh, pays_en, phone, hours_zh, hours_en,
                        tuple(materials), basis, faq)


def content_of(version: GuideVersion) -> GuideContent:
    return GuideContent(
        version.eligibility_zh, version.eligibility_en, version.enterprise_pays_zh, version.enterprise_pays_en,
        version.contact_phone, version.contact_hours_zh, version.contact_hours_en,
        tuple(Material(m.name_zh, m.name_en, m.required, tuple(f for f in m.formats.split(",") if f), m.note_zh,
                       m.note_en, m.code, m.position) for m in version.materials),
        tuple(Basis(b.get("title_zh", ""), b.get("title_en", ""), b.get("number", "")) for b in version.basis or ()),
        tuple(Faq(f.get("question_zh", ""), f.get("question_en", ""), f.get("answer_zh", ""), f.get("answer_en", ""))
              for f in version.faq or ()))


def _current(guide: ProgrammeGuide | None) -> GuideVersion | None:
    if guide is None:
        return None
    return db.session.scalar(select(GuideVersion).where(GuideVersion.guide_id == guide.id,
                                                        GuideVersion.version == guide.current_version))


def save_guide(actor: Actor, programme_id: int, kind: str, content: GuideContent, *, base_version: int,
               change_note: str = "") -> GuideVersion | None:
    """Save the guide of ``kind`` in the programme as a new version (``base_version`` is the version
    the officer started from, 0 for the default content).  Returns the new version, or None when
    nothing changed.  One ``programme_guide.saved`` audit event holds the version before and after."""
    require(actor, "guides.edit")
    programme = get_programme_for(programme_id, kind)
    content = clean_content(content)
    note = _text("change_note", change_note, NOTE_MAX, required=False)
    guide = db.session.execute(select(ProgrammeGuide).where(ProgrammeGuide.programme_id == programme.id,
                                                            ProgrammeGuide.kind == kind)
                               .with_for_update()
                               # the row as the lock found it, not a copy this session read before
                               .execution_options(populate_existing=True)).scalar_one_or_none()
    current_number = guide.current_version if guide is not None else 0
    if base_version != current_number:
        raise Conflict("Another officer saved version %(version)s of this guide while you were editing. Reload the "
                       "page to see it, then make your changes again.", version=current_number)
    previous = _current(guide)
    before = content_of(previous).snapshot() if previous is not None else None
    if before is not None and before == content.snapshot():
        return None
    if guide is None:
        guide = ProgrammeGuide(programme_id=programme.id, kind=kind, current_version=1)
        try:
            with db.session.begin_nested():
                db.session.add(guide)
                db.session.flush()
        except IntegrityError:
            raise Conflict("Another officer saved this guide at the same moment. Reload the page to see it, then "
                           "make your changes again.", version=1) from None
        number = 1
    else:
        number = guide.current_version + 1
        guide.current_version = number
    guide.updated_at = utcnow()
    version = GuideVersion(
        guide_id=guide.id, version=number, saved_by=actor.user_id, saved_by_label=actor.label[:200],
        change_note=note, eligibility_zh=content.eligibility_zh, eligibility_en=content.eligibility_en,
        enterprise_pays_zh=content.enterprise_pays_zh, enterprise_pays_en=content.enterprise_pays_en,
        contact_phone=content.contact_phone, contact_hours_zh=content.contact_hours_zh,
        contact_hours_en=content.contact_hours_en,
        basis=[{"title_zh": b.title_zh, "title_en": b.title_en, "number": b.number} for b in content.basis],
        faq=[{"question_zh": f.question_zh, "question_en": f.question_en, "answer_zh": f.answer_zh,
              "answer_en": f.answer_en} for f in content.faq],
        materials=[GuideMaterial(position=m.position, code=m.code, name_zh=m.name_zh, name_en=m.name_en,
                                 required=m.required, formats=",".join(m.formats), note_zh=m.note_zh,
                                 note_en=m.note_en) for m in content.materials])
    db.session.add(version)
    db.session.flush()
    after = {"version": number, "change_note": note, **content.snapshot()}
    record_event(actor, "programme_guide.saved", "programme_guide", guide.id,
                 before={"version": current_number, **before} if before is not None else None,
                 after={"programme_id": programme.id, "kind": kind, **after})
    return version


def default_phone() -> str | None:
    """The bureau's number on file (its organisation's contact phone), for a new guide."""
    from voucher.enterprises.models import Organisation

    return db.session.scalar(select(Organisation.contact_phone).where(Organisation.kind == "bureau",
                                                                      Organisation.contact_phone.is_not(None))
                             .order_by(Organisation.id).limit(1))


def save_defaults(actor: Actor, programme_id: int) -> list[GuideVersion]:
    """Save the default guide of every kind the programme funds that has no guide yet (demo data,
    or an officer publishing the defaults as they are)."""
    from voucher.guides.defaults import default_content

    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("There is no such programme guide.")
    saved = []
    for kind in GUIDE_KINDS:
        if not programme.funds(kind):
            continue
        exists = db.session.scalar(select(ProgrammeGuide.id).where(ProgrammeGuide.programme_id == programme.id,
                                                                   ProgrammeGuide.kind == kind))
        if exists:
            continue
        version = save_guide(actor, programme.id, kind, default_content(programme, kind, default_phone()),
                             base_version=0, change_note="")
        if version is not None:
            saved.append(version)
    return saved
