"""The registries, filled in one explicit step: ``create_app`` → :func:`configure_registries`.

Some modules keep a registry that other domains plug into:

- ``voucher.documents.builders``: document builders (``register_builder``) and who may download
  documents about a subject (``register_download_rule``);
- ``voucher.dashboard.queries``: the start page's cards per role (``register_panel``);
- ``voucher.audit.labels``: the words for audit events and states (``register_event_labels``,
  ``register_status_labels``).

Importing a domain's module registers nothing: this module says who registers what, domain by
domain, in a written order (the start page shows its cards in this order).  Every step may run
again (a second ``create_app`` in the same process, as the tests do): a register call replaces
or skips what is already there, it never adds a second copy.

Registrations that belong to a model (application numbers, ``appnumbers.register``) and the state
machines (``workflow.MACHINES``, declared with their services) stay where they are declared: see
*Registries* in docs/DEVELOPING.md.
"""
from __future__ import annotations

from flask import Flask


def configure_registries(app: Flask) -> None:
    """Fill every registry (idempotent).  ``app`` is unused today; it is taken so the step reads
    like the other ``configure_*`` steps and may later keep per-app state."""
    for step in REGISTRATIONS:
        step()


# --- audit labels: the words for each domain's events and states ------------------------------

def register_audit_labels() -> None:
    from voucher.amendments import queries as amendments
    from voucher.applications import queries as applications
    from voucher.audit.labels import register_event_labels, register_status_labels
    from voucher.benefits import queries as benefits
    from voucher.catalogue import labels as catalogue
    from voucher.dashboard import roles as dashboard
    from voucher.maturity import queries as maturity
    from voucher.parks import queries as parks
    from voucher.payments import queries as payments
    from voucher.recovery import queries as recovery
    from voucher.risk import queries as risk
    from voucher.subsidies import views as subsidies
    from voucher.trials import queries as trials

    register_event_labels(applications.TIMELINE_LABELS)
    register_status_labels("trial_application", applications.STATUS_LABELS)
    register_status_labels("solution", catalogue.STATUS_LABELS)
    register_event_labels(catalogue.EVENT_LABELS)
    register_event_labels(catalogue.SEEDED_LABELS)
    # The audit page's words for sensitive events.  Where a key is named twice the later words win:
    # this order (after applications and catalogue, before the others) is the order the imports
    # used to give, kept so every page reads as before.
    register_event_labels(dashboard.SENSITIVE_LABELS)
    register_event_labels(payments.EVENT_LABELS)
    register_status_labels("disbursement", payments.STATUS_LABELS)
    register_event_labels({f"{kind}_application.{action}": label
                           for kind in ("loan", "robot") for action, label in subsidies.ACTION_LABELS.items()})
    register_status_labels("loan_application", subsidies.STATUS_LABELS)
    register_status_labels("robot_application", subsidies.STATUS_LABELS)
    register_event_labels(trials.TIMELINE_LABELS)
    register_status_labels("trial", trials.STATUS_LABELS)
    register_event_labels(amendments.EVENT_LABELS)
    register_status_labels("grant_amendment", amendments.STATUS_LABELS)
    register_event_labels(recovery.EVENT_LABELS)
    register_status_labels("recovery_order", recovery.STATUS_LABELS)
    register_event_labels(risk.EVENT_LABELS)
    register_status_labels("risk_signal", risk.STATUS_LABELS)
    register_event_labels(maturity.EVENT_LABELS)
    register_event_labels(parks.EVENT_LABELS)
    register_status_labels("park_membership", parks.STATUS_LABELS)
    register_event_labels(benefits.EVENT_LABELS)
    register_status_labels("benefit_candidate", benefits.STATUS_LABELS)


# --- documents: builders and download rules -----------------------------------------------------

def register_documents() -> None:
    from voucher.payments import documents as payments
    from voucher.payments import reconciliation_documents as reconciliation

    payments.register()  # payment order, programme report, batch summary, bank file (the audit dossier: trials.grant)
    reconciliation.register()  # the reconciliation report of a payment batch
    from voucher.recovery import documents as recovery

    recovery.register()  # the recovery notice (追回通知书), signed


# --- the start page's cards, per role (shown in this order) ------------------------------------

def register_panels() -> None:
    from voucher.applications import views as applications
    from voucher.benefits import views as benefits
    from voucher.catalogue import panels as catalogue
    from voucher.dashboard.queries import register_panel
    from voucher.enterprises import views as enterprises
    from voucher.maturity import panels as maturity
    from voucher.payments import views as payments
    from voucher.programmes import views as programmes
    from voucher.subsidies import views as subsidies
    from voucher.trials import panels as trials
    from voucher.workcalendar import views as workcalendar

    register_panel({"sme"}, benefits.sme_panel)  # subsidies matched for the enterprise (issue 19 §2)
    register_panel({"sme"}, applications._sme_panel)
    register_panel({"officer"}, applications._officer_panel)
    register_panel({"provider"}, catalogue.provider_panel)
    register_panel({"evaluator"}, catalogue.evaluator_panel)
    register_panel({"officer"}, catalogue.officer_panel)
    register_panel({"sme"}, enterprises._sme_panel)
    register_panel({"sme"}, maturity.sme_panel)  # "Where do I start?" (issue 20 §1)
    register_panel({"officer", "auditor"}, maturity.bureau_panel)
    register_panel({"provider"}, enterprises._provider_panel)
    register_panel({"finance"}, payments._finance_panel)
    register_panel({"provider", "sme"}, payments._payee_panel)
    register_panel({"officer"}, payments._officer_panel)
    register_panel({"officer", "finance", "auditor"}, programmes._bureau_panel)
    register_panel({"sme"}, subsidies._sme_panel)
    register_panel({"officer"}, subsidies._officer_panel)
    register_panel({"provider"}, trials.provider_panel)
    register_panel({"sme"}, trials.sme_panel)
    register_panel({"evaluator"}, trials.evaluator_panel)
    register_panel({"officer"}, trials.officer_panel)
    register_panel({"officer", "finance"}, workcalendar._calendar_panel)
    register_panel({"officer"}, benefits.officer_panel)


# The written order: labels first (other registrations may name events), then documents, then panels.
# --- grant kinds: what payments pays, and the hook back from the kinds -------------------------

def register_grant_kinds() -> None:
    """The kinds of grant (``voucher.grants``) each register from their own domain; payments answers
    'is a payment of this grant under way?' through the contract's hook (issue 17 §1)."""
    from voucher.grants import register_payment_under_way
    from voucher.payments.queries import live_reference
    from voucher.subsidies import grant as subsidy_grants
    from voucher.trials import grant as trial_grants

    trial_grants.register()
    subsidy_grants.register()
    register_payment_under_way(live_reference)


# --- transition listeners: a domain that follows another domain's state changes -------------------

def register_transition_listeners() -> None:
    """The trials open and cancel a trial when applications publish an approval or its cancellation
    (``voucher.workflow``: ``StateMachine.subscribe`` / ``publish``); subscribing again changes nothing."""
    from voucher.risk.services import register as register_risk
    from voucher.trials.services import register as register_trials

    register_trials()
    register_risk()  # risk signals computed on every kind's submission (issue 20 §2)


# --- hooks: a domain that shows another domain's figure without importing it ----------------------

def register_hooks() -> None:
    """The park pages' maturity column is filled by the self-assessment's latest levels (issue 20 §1, §3);
    the nightly jobs the sweeper enqueues once a day (``voucher.tasks.schedule_nightly``)."""
    from voucher.benefits.jobs import nightly_match
    from voucher.maturity.queries import overall_level_texts
    from voucher.parks.maturity import register_maturity_provider
    from voucher.risk.jobs import nightly_scan
    from voucher.tasks import register_nightly

    register_maturity_provider(overall_level_texts)
    register_nightly(nightly_scan)  # risk signals over every application (issue 20 §2)
    register_nightly(nightly_match)  # benefits without applying: candidates from the sources (issue 19 §2)


REGISTRATIONS = (register_grant_kinds, register_transition_listeners, register_audit_labels, register_documents,
                 register_panels, register_hooks)
