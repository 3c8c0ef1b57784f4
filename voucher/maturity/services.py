"""The self-assessment's rules: the current questionnaire (the default seeded on first use), an
officer publishing a new version, an enterprise taking the assessment, reading one.

Maturity reads the other domains' models (never their services): nothing below imports maturity.
"""
from __future__ import annotations

import copy

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.calc.maturity import score_assessment
from voucher.enterprises.models import Enterprise
from voucher.errors import N_, Forbidden, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.maturity.models import MaturityAssessment, MaturityQuestionnaire
from voucher.maturity.questionnaire import DEFAULT_CONTENT, option_levels, structure, validate_content

NOTE_MAX = 500


def current_questionnaire() -> MaturityQuestionnaire:
    """The highest published version.  Rule: when none exists yet, version 1 is the default content
    (``questionnaire.DEFAULT_CONTENT``), created here on first use (two first uses at once: one wins
    the UNIQUE version, the other reads it)."""
    found = db.session.scalars(select(MaturityQuestionnaire).order_by(MaturityQuestionnaire.version.desc())
                               .limit(1)).first()
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            seeded = MaturityQuestionnaire(version=1, content=copy.deepcopy(DEFAULT_CONTENT))
            db.session.add(seeded)
            db.session.flush()
        return seeded
    except IntegrityError:
        return db.session.scalars(select(MaturityQuestionnaire).order_by(MaturityQuestionnaire.version.desc())
                                  .limit(1)).one()


def questionnaire(version_id: int) -> MaturityQuestionnaire:
    found = db.session.get(MaturityQuestionnaire, version_id)
    if found is None:
        raise NotFound("No such questionnaire version.")
    return found


def publish_questionnaire(actor: Actor, content, note: str | None) -> MaturityQuestionnaire:
    """Publish a new version (officer).  Rule: the content passes ``validate_content`` (six dimensions,
    questions with options naming levels 1–5, both languages); the version is the current one plus
    one; published versions never change, so past assessments keep the questions they answered."""
    require(actor, "maturity.publish")
    clean = validate_content(content)
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise ValidationFailed("The note is at most %(max)s characters.", field="note", max=NOTE_MAX)
    current = current_questionnaire()
    if clean == current.content:
        raise ValidationFailed("The questions are the same as in the current version %(version)s.", field="content",
                               version=current.version)
    version = (db.session.scalar(select(func.max(MaturityQuestionnaire.version))) or 0) + 1
    row = MaturityQuestionnaire(version=version, content=clean, note=note, published_by=actor.user_id)
    db.session.add(row)
    db.session.flush()
    record_event(actor, "maturity_questionnaire.publish", "maturity_questionnaire", row.id,
                 before={"version": current.version}, after={"version": version}, reason=note)
    return row


def _enterprise_of(actor: Actor) -> Enterprise:
    enterprise = db.session.get(Enterprise, actor.organisation_id) if actor.organisation_id else None
    if enterprise is None:
        raise Forbidden("Register your enterprise before taking the self-assessment.")
    return enterprise


def check_answers(content: dict, answers: dict) -> dict[str, int]:
    """The answers as question code → level.  Rule: every question is answered with one of its
    options' levels; all missing or invalid answers are named at once (field = the question code)."""
    allowed = option_levels(content)
    clean: dict[str, int] = {}
    fields: dict[str, str] = {}
    for code, levels in allowed.items():
        raw = answers.get(code)
        try:
            value = int(raw) if raw is not None and str(raw).strip() != "" else None
        except (TypeError, ValueError):
            value = None
        if value is None:
            fields[code] = N_("Choose an answer.")
        elif value not in levels:
            fields[code] = N_("Choose one of the answers given.")
        else:
            clean[code] = value
    if fields:
        raise ValidationFailed("Answer every question: %(count)s not answered.", fields=fields, count=len(fields))
    return clean


def take_assessment(actor: Actor, answers: dict) -> MaturityAssessment:
    """An enterprise's user answers the current questionnaire.  Rule: only for the actor's own
    enterprise; every question required (``check_answers``); the levels come from
    ``calc.maturity.score_assessment``; the assessment is kept (history), audited."""
    require(actor, "maturity.take")
    enterprise = _enterprise_of(actor)
    current = current_questionnaire()
    clean = check_answers(current.content, answers)
    result = score_assessment(structure(current.content), clean)
    row = MaturityAssessment(enterprise_id=enterprise.organisation_id, questionnaire_id=current.id, answers=clean,
                             dimensions={d.code: {"score": str(d.score), "level": d.level} for d in result.dimensions},
                             overall_score=str(result.overall_score), overall_level=result.overall_level,
                             taken_by=actor.user_id)
    db.session.add(row)
    db.session.flush()
    record_event(actor, "maturity_assessment.take", "maturity_assessment", row.id,
                 after={"overall_level": result.overall_level, "version": current.version,
                        "levels": result.levels})
    return row


def get_assessment(actor: Actor, assessment_id: int) -> MaturityAssessment:
    """One assessment for a reader allowed to see it: its enterprise's users and the bureau (403 for
    another enterprise's)."""
    row = db.session.get(MaturityAssessment, assessment_id)
    if row is None:
        raise NotFound("No such self-assessment.")
    require(actor, "maturity.read", row, message="This self-assessment belongs to another enterprise.")
    return row
