"""What an audit event is called in words: one place for every page, export and document.

The audit trail stores codes (``trial_application.approve``); people read ``Approved; the amount
was reserved in the fund``.  Domains keep the words for their own events beside their other labels;
``voucher.registries`` hands them over (``register_event_labels``) when ``create_app`` runs; an event no domain names is
described from its object and its verb, never shown as its code.  ``describe_change`` says in
words what an event's before/after changed (statuses as their labels), for the audit dossier.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

_EVENT_LABELS: dict[str, Any] = {}
_STATUS_LABELS: dict[str, Mapping[str, Any]] = {}

# An evaluation's outcome, as the documents word it.
OUTCOME_LABELS = {"passed": _l("passed"), "failed": _l("not passed")}

OBJECT_LABELS = {
    "trial_application": _l("Trial-voucher application"),
    "grant_amendment": _l("Amendment request"),
    "loan_application": _l("Loan-discount application"),
    "robot_application": _l("Robot-subsidy application"),
    "trial": _l("Trial"),
    "milestone": _l("Milestone"),
    "evaluator_assignment": _l("Evaluator assignment"),
    "disbursement": _l("Disbursement"),
    "payment_batch": _l("Payment batch"),
    "notice_objection": _l("Objection"),
    "public_notice": _l("Public notice"),
    "solution": _l("Solution"),
    "programme": _l("Programme"),
    "organisation": _l("Organisation"),
    "enterprise": _l("Enterprise"),
    "provider": _l("Solution provider"),
    "user": _l("User account"),
    "api_token": _l("API token"),
    "document": _l("Document"),
    "lpr_rate": _l("Loan prime rate"),
    "calendar_year": _l("Working-day calendar"),
    "audit_anchor": _l("Published chain head"),
    "park": _l("Park"),
    "park_membership": _l("Park membership"),
}

# Verbs shared by several objects: "<object>: <verb>" when no domain gave the event its own words.
VERB_LABELS = {
    "create": _l("created"), "created": _l("created"), "seeded": _l("entered with the demo data"),
    "update": _l("changed"), "updated": _l("changed"), "edited": _l("changed"),
    "submit": _l("submitted"), "approve": _l("approved"), "reject": _l("not approved"),
    "return": _l("returned for revision"), "withdraw": _l("withdrawn"), "cancel": _l("cancelled"),
    "close": _l("completed"), "registered": _l("registered"), "published": _l("published"),
    "issued": _l("issued"), "revoked": _l("revoked"), "requested": _l("requested"),
    "entered": _l("entered"), "login": _l("signed in"), "logout": _l("signed out"), "activated": _l("activated"), "deactivated": _l("deactivated"),
}

FIELD_LABELS = {
    "status": _l("Status"), "amount": _l("Amount"), "requested_amount": _l("Requested amount"),
    "approved_amount": _l("Approved amount"), "reason": _l("Reason"), "name": _l("Name"),
    "payee_name": _l("Account name"), "bank_name": _l("Bank"), "bank_account": _l("Account number"), "bank_code": _l("Bank code (CNAPS)"),
    "score": _l("Score"), "outcome": _l("Outcome"), "kind": _l("Kind"), "version": _l("Version"),
}


def register_event_labels(labels: Mapping[str, Any]) -> None:
    """A domain names its audit events (``"object_type.action": _l("words")``)."""
    _EVENT_LABELS.update(labels)


def register_status_labels(object_type: str, labels: Mapping[str, Any]) -> None:
    """A domain names its object's states, so a change of status reads as words."""
    _STATUS_LABELS[object_type] = labels


def object_label(object_type: str) -> str:
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else _("Other record")


def event_label(action: str) -> str:
    """The event in words: the domain's own label, else its object and verb; never the code."""
    label = _EVENT_LABELS.get(action)
    if label is not None:
        return str(label)
    object_type, _sep, verb = action.partition(".")
    verb_label = VERB_LABELS.get(verb)
    return _("%(object)s: %(verb)s", object=object_label(object_type),
             verb=str(verb_label) if verb_label is not None else _("change recorded"))


def status_label(object_type: str, code: str | None) -> str:
    """A state of ``object_type`` in words (the domain's registered label), never the code."""
    if not code:
        return "—"
    return str(_STATUS_LABELS.get(object_type, {}).get(code, _("(another state)")))


def _value(key: str, value: Any, status_labels: Mapping[str, Any]) -> str:
    if value is None or value == "":
        return "—"
    if key == "status" or key.endswith("_status"):
        return str(status_labels.get(value, _("(another state)")))
    if key == "outcome" and value in OUTCOME_LABELS:
        return str(OUTCOME_LABELS[value])
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (dict, list)):
        return _("(details kept in the audit trail)")
    return str(value)


def describe_change(before: Mapping | None, after: Mapping | None, object_type: str = "") -> list[str]:
    """What an event changed, one line per named field ("Status: Submitted → Approved"), in words.
    Fields without a name of their own are counted, not printed as code."""
    labels = _STATUS_LABELS.get(object_type, {})
    before, after = before or {}, after or {}
    lines, unnamed = [], 0
    for key in list(dict.fromkeys([*before.keys(), *after.keys()])):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = FIELD_LABELS.get(key)
        if name is None:
            unnamed += 1
            continue
        if key in before and key in after:
            lines.append(f"{name}: {_value(key, old, labels)} → {_value(key, new, labels)}")
        else:
            lines.append(f"{name}: {_value(key, new if key in after else old, labels)}")
    if unnamed:
        lines.append(_("%(n)s further details in the audit trail", n=unnamed))
    return lines
