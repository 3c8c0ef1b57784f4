"""The start page's cards: an enterprise's "Where do I start?" (its latest level, or the invitation
to take the self-assessment) and the bureau's count of enterprises assessed."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from voucher.extensions import db
from voucher.maturity import queries
from voucher.maturity.models import MaturityAssessment
from voucher.maturity.questionnaire import LEVEL_LABELS


def sme_panel(actor):
    if actor.organisation_id is None:
        return None
    latest = queries.latest_levels([actor.organisation_id]).get(actor.organisation_id)
    if latest is None:
        return {"title": _("Where do I start?"),
                "text": _("Take the digital maturity self-assessment: about ten minutes, a level for each dimension "
                          "of your business and solutions that similar enterprises found useful."),
                "items": [], "link": ("maturity.take", _("Take the self-assessment"))}
    return {"title": _("Digital maturity"),
            "items": [(_("Your overall level"), str(LEVEL_LABELS[latest["overall_level"]]))],
            "link": ("maturity.index", _("My self-assessments"))}


def bureau_panel(actor):
    assessed = db.session.scalar(select(func.count(func.distinct(MaturityAssessment.enterprise_id)))) or 0
    return {"title": _("Digital maturity"),
            "items": [(_("Enterprises assessed"), str(assessed))],
            "link": ("maturity.overview", _("Levels by district and industry"))}
