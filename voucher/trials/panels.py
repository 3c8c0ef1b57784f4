"""The trials' cards on the start page (registered once, on import of the views)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.audit.services import Actor
from voucher.figures_cache import cached_figure
from voucher.trials import queries


def provider_panel(actor: Actor) -> dict | None:
    """Trials running, milestones the provider can report now, overdue trials."""
    if actor.organisation_id is None:
        return None
    c = queries.provider_counts(actor.organisation_id)
    if c["overdue"]:
        text = _("%(n)s trial(s) are past their end date: report the remaining milestones.", n=c["overdue"])
    elif c["to_accept"]:
        text = _("%(n)s completed trial(s) wait for your acceptance of the delivered scope.", n=c["to_accept"])
    elif c["to_report"]:
        text = _("%(n)s trial(s) are waiting for your next milestone report.", n=c["to_report"])
    else:
        text = _("No milestone to report at the moment.")
    return {"title": _l("Trials of my solutions"), "text": text,
            "items": [(_l("Trials running"), c["running"]), (_l("Milestones to report"), c["to_report"]),
                      (_l("Deliveries to accept"), c["to_accept"]), (_l("Overdue trials"), c["overdue"])],
            "link": ("trials.mine", _l("My trials"))}


def sme_panel(actor: Actor) -> dict | None:
    """Milestones to confirm and adoption decisions to record."""
    if actor.organisation_id is None:
        return None
    from voucher.dashboard.queries import shared

    c = shared(("sme_counts", actor.organisation_id), lambda: queries.sme_counts(actor.organisation_id))
    if c["to_confirm"]:
        text = _("The provider reported %(n)s milestone(s): confirm or dispute them.", n=c["to_confirm"])
    elif c["to_accept"]:
        text = _("%(n)s completed trial(s) wait for your acceptance of the delivered scope.", n=c["to_accept"])
    elif c["adoption"]:
        text = _("%(n)s evaluated trial(s): record whether you will keep using the solution.", n=c["adoption"])
    else:
        text = _("Nothing waits for you in your trials.")
    return {"title": _l("My trials"), "text": text,
            "items": [(_l("Milestones to confirm"), c["to_confirm"]), (_l("Deliveries to accept"), c["to_accept"]),
                      (_l("Adoption decisions to record"), c["adoption"])],
            "link": ("trials.mine", _l("My trials"))}


def evaluator_panel(actor: Actor) -> dict | None:
    """Assigned evaluations waiting for the evaluator."""
    c = queries.evaluator_counts(actor.user_id)
    waiting = c["to_declare"] + c["to_score"]
    return {"title": _l("Effect evaluations"),
            "text": (_("%(n)s assigned evaluation(s) are waiting for you.", n=waiting) if waiting
                     else _("No evaluation is waiting for you.")),
            "items": [(_l("Declaration of no conflict to make"), c["to_declare"]),
                      (_l("Forms to fill in"), c["to_score"])],
            "link": ("trials.evaluations_mine", _l("My evaluations"))}


def officer_panel(actor: Actor) -> dict | None:
    """Completed trials without an evaluator, and overdue trials."""
    c = cached_figure("trial_officer_counts", (), queries.officer_counts)
    return {"title": _l("Trials"),
            "text": (_("%(n)s completed trial(s) need evaluators.", n=c["needing_evaluators"])
                     if c["needing_evaluators"] else _("Every completed trial has evaluators.")),
            "items": [(_l("Completed trials needing evaluators"), c["needing_evaluators"]),
                      (_l("Overdue trials"), c["overdue"])],
            "link": ("trials.index", _l("All trials"))}
