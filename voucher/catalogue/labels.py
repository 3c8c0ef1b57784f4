"""Plain-language statuses of a solution, for its provider and for the bureau."""
from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted: waiting for screening"),
    "screening": _l("Being screened"),
    "listed": _l("Listed in the catalogue"),
    "rejected": _l("Not listed"),
    "recommended": _l("Recommended"),
    "delisted": _l("Delisted"),
}

STATUS_BADGES = {
    "draft": "secondary",
    "submitted": "info",
    "screening": "info",
    "listed": "success",
    "rejected": "danger",
    "recommended": "warning",
    "delisted": "dark",
}

# What the provider does next, per status.
PROVIDER_NEXT_STEP = {
    "draft": _l("Complete the details and submit the solution for screening."),
    "submitted": _l("Waiting for the evaluation institution to start screening."),
    "screening": _l("The evaluation institution is screening the solution."),
    "listed": _l("Listed: enterprises can choose it for a trial."),
    "rejected": _l("Not listed: read the screening reasons, then revise and resubmit."),
    "recommended": _l("On the government procurement recommendation list."),
    "delisted": _l("Delisted by the bureau: see the reason below."),
}

DECISIONS = {
    "list": _l("List in the catalogue"),
    "reject": _l("Reject"),
}

RUBRIC_LABELS = {
    "maturity": _l("Maturity"),
    "references_score": _l("References"),
    "price_reasonableness": _l("Price reasonableness"),
    "service_capability": _l("Service capability"),
    "data_security": _l("Data security"),
}

SORTS = {
    "recommended": _l("Recommended first"),
    "newest": _l("Newest"),
    "price_asc": _l("Trial price: low to high"),
    "price_desc": _l("Trial price: high to low"),
}

# The audit trail's solution events, as the history on the solution page names them.
EVENT_LABELS = {
    "solution.create": _l("Draft created"),
    "solution.update": _l("Draft edited"),
    "solution.submit": _l("Submitted for screening"),
    "solution.start_screening": _l("Screening started"),
    "solution.list": _l("Listed after screening"),
    "solution.reject": _l("Not listed after screening"),
    "solution.revise": _l("Taken back into draft for revision"),
    "solution.recommend": _l("Promoted to the recommendation catalogue"),
    "solution.delist": _l("Delisted"),
    "solution.relist": _l("Listed again"),
}
# Registered with the audit labels by ``voucher.registries`` (not shown on the solution's own page).
SEEDED_LABELS = {"solution.seeded": _l("Entered in the catalogue with the demo data")}
