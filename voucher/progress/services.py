"""Where an application stands, for anyone who knows its number and its enterprise's USCC.

The answer is the stage only (the stage now, who acts next, the date the bureau promised): no
amount, no name.  A wrong USCC and a number that does not exist give the very same answer
(:func:`lookup` returns None for both), so the form cannot be used to find which numbers exist;
the view limits how often one address may ask.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from voucher.appnumbers import parse_number
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.identifiers import normalise_identifier
from voucher.timeline import Timeline, build

NUMBER_EXAMPLE = "SY-2026-000013"


@dataclass(frozen=True)
class PublicProgress:
    number: str
    kind: str  # trial_application | loan_application | robot_application
    timeline: Timeline


def _machine_and_model(kind: str):
    if kind == "trial_application":
        from voucher.applications.models import TrialApplication
        from voucher.applications.services import MACHINE

        return MACHINE, TrialApplication
    from voucher.subsidies.models import LoanApplication, RobotApplication
    from voucher.subsidies.services import LOAN_MACHINE, ROBOT_MACHINE

    return (LOAN_MACHINE, LoanApplication) if kind == "loan_application" else (ROBOT_MACHINE, RobotApplication)


def lookup(number: str | None, uscc: str | None) -> PublicProgress | None:
    """The stage of the application ``number`` if ``uscc`` is its enterprise's code, else None.

    Rule: a number not in the one shape is refused with the shape (422, nothing looked up); an
    unknown number and a wrong USCC both give None (no enumeration)."""
    from voucher.audit.queries import events_for
    from voucher.enterprises.models import Organisation

    parsed = parse_number(number)
    if parsed is None:
        raise ValidationFailed("Enter the application number as printed on your receipt, e.g. %(example)s.",
                               field="number", example=NUMBER_EXAMPLE)
    key = normalise_identifier(uscc)
    if not 1 <= len(key) <= 18:
        raise ValidationFailed("Enter the 18-character unified social credit code.", field="uscc")
    machine, model = _machine_and_model(parsed.kind)
    row = db.session.execute(select(model, Organisation.uscc).join(Organisation, Organisation.id == model.enterprise_id)
                             .where(model.number == parsed.text)).first()
    if row is None or normalise_identifier(row[1]) != key:
        return None
    application = row[0]
    timeline = build(parsed.kind, machine, application, events_for(parsed.kind, application.id),
                     with_payment=parsed.kind != "trial_application")
    return PublicProgress(parsed.text, parsed.kind, timeline)
