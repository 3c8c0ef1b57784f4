"""The catalogue's cards on the start page (registered once, on import of the views)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.audit.services import Actor
from voucher.catalogue import queries
from voucher.catalogue.labels import STATUS_LABELS
from voucher.catalogue.models import SOLUTION_STATES
from voucher.ui import dt


def provider_panel(actor: Actor) -> dict | None:
    """The provider's solutions by status, and the next step."""
    if actor.organisation_id is None:
        return None
    counts = queries.status_counts(actor.organisation_id)
    items = [(STATUS_LABELS[s], counts[s]) for s in SOLUTION_STATES if counts.get(s)]
    if counts.get("rejected"):
        text = _("%(n)s solution(s) not listed: read the screening reasons, revise and resubmit.",
                 n=counts["rejected"])
    elif counts.get("draft"):
        text = _("%(n)s draft(s): complete them and submit them for screening.", n=counts["draft"])
    elif counts.get("submitted") or counts.get("screening"):
        text = _("Waiting for the evaluation institution's screening.")
    elif not counts:
        text = _("Add your first solution: once screened and listed, enterprises can choose it for a trial.")
    else:
        text = _("Your listed solutions are in the public catalogue.")
    return {"title": _l("My solutions"), "text": text, "items": items,
            "link": ("catalogue.my_solutions", _l("Manage my solutions"))}


def evaluator_panel(actor: Actor) -> dict | None:
    """Solutions waiting for screening, and how long the oldest has waited."""
    counts = queries.status_counts()
    items = [(_l("Submitted, not yet started"), counts.get("submitted", 0)),
             (_l("In screening"), counts.get("screening", 0))]
    oldest = queries.oldest_waiting()
    text = (_("The oldest was submitted on %(when)s.", when=dt(oldest)) if oldest
            else _("No solution is waiting for screening."))
    return {"title": _l("Solutions waiting for screening"), "text": text, "items": items,
            "link": ("catalogue.screening_queue", _l("Open the screening queue"))}


def officer_panel(actor: Actor) -> dict | None:
    """The catalogue at a glance for the bureau."""
    counts = queries.status_counts()
    items = [(STATUS_LABELS[s], counts.get(s, 0)) for s in ("listed", "recommended", "submitted", "screening",
                                                            "delisted")]
    return {"title": _l("Solution catalogue"), "items": items,
            "link": ("catalogue.manage", _l("All solutions"))}
