"""The audit dossier of a trial-voucher application (a document built by the jobs worker): its
chronology from the audit trail, the voucher's split, the fund ledger entries, the evaluations and
every approval, its payments' included.  Registered by :func:`register` (from
``voucher.trials.grant.register``)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from voucher.applications.models import TrialApplication
from voucher.deadlines import local_date
from voucher.documents.builders import IssueContext, PermanentJobError, register_builder, register_subject_lookup
from voucher.documents.pdf import AuditDossierData, CalculationSection, ChronologyEntry, audit_dossier_pdf
from voucher.extensions import db
from voucher.money import format_money
from voucher.payments.documents import _milestone_label, _names, approval_trail, in_language
from voucher.payments.models import Disbursement
from voucher.trials.grant import SOURCE_TYPE, _pct
from voucher.trials.models import Evaluation, EvaluatorAssignment, Milestone, Trial


def _chronology(objects: list[tuple[str, int]]):
    from voucher.audit.queries import events_for

    events = []
    for object_type, object_id in objects:
        events += events_for(object_type, object_id)
    events.sort(key=lambda e: e.id)
    return events


def build_audit_dossier(subject_id: int, lang: str, issue: IssueContext):
    from voucher.audit.labels import describe_change, event_label, status_label
    from voucher.audit.services import chain_head
    from voucher.programmes.models import FundLedgerEntry

    application = db.session.get(TrialApplication, subject_id)
    if application is None:
        raise PermanentJobError(f"Trial-voucher application {subject_id} does not exist.")
    trial = milestones = assignments = evaluations = None
    trial = db.session.scalar(select(Trial).where(Trial.application_id == application.id))
    if trial is not None:
        milestones = list(db.session.scalars(select(Milestone).where(Milestone.trial_id == trial.id)
                                             .order_by(Milestone.seq)))
        assignments = list(db.session.scalars(select(EvaluatorAssignment)
                                              .where(EvaluatorAssignment.trial_id == trial.id)
                                              .order_by(EvaluatorAssignment.id)))
        evaluations = list(db.session.scalars(select(Evaluation).where(Evaluation.trial_id == trial.id)
                                              .order_by(Evaluation.assignment_id, Evaluation.version)))
    disbursements = list(db.session.scalars(select(Disbursement).where(
        Disbursement.source_type == SOURCE_TYPE, Disbursement.source_id == application.id)
        .order_by(Disbursement.id)))
    objects = [(SOURCE_TYPE, application.id)]
    if trial is not None:
        objects.append(("trial", trial.id))
        objects += [("milestone", m.id) for m in milestones or []]
        objects += [("evaluator_assignment", a.id) for a in assignments or []]
    objects += [("disbursement", d.id) for d in disbursements]
    events = _chronology(objects)
    entries = list(db.session.scalars(select(FundLedgerEntry).where(
        FundLedgerEntry.source_type == SOURCE_TYPE, FundLedgerEntry.source_id == application.id)
        .order_by(FundLedgerEntry.seq)))
    names = _names(*[e.evaluator_id for e in evaluations or []])
    with in_language(lang):
        chronology = [ChronologyEntry(e.occurred_at, e.actor_label, event_label(e.action), reason=e.reason,
                                      change="; ".join(describe_change(e.before, e.after, e.object_type)))
                      for e in events]
        calculations = []
        split = [_("Requested and approved amount: %(amount)s", amount=format_money(application.requested_amount))]
        if trial is not None and trial.advance_amount is not None:
            split.append(_("Advance: %(approved)s × %(pct)s%% = %(advance)s (rounded to the fen, half up)",
                           approved=format_money(trial.approved_amount), pct=_pct(trial.advance_pct),
                           advance=format_money(trial.advance_amount)))
            split.append(_("Balance: %(approved)s − advance %(advance)s = %(balance)s",
                           approved=format_money(trial.approved_amount), advance=format_money(trial.advance_amount),
                           balance=format_money(trial.balance_amount)))
        if trial is not None and trial.score is not None:
            split.append(_("Trial score (mean of the evaluators' overall scores): %(score)s — %(outcome)s",
                           score=trial.score, outcome=_("passed") if trial.outcome == "passed" else _("not passed")))
        calculations.append(CalculationSection(_("Voucher amount and its split"), split))
        ledger_lines = [_("No. %(seq)s %(kind)s %(amount)s %(milestone)s on %(date)s", seq=e.seq,
                          kind={"reserve": _("reserved"), "release": _("released"), "pay": _("paid"),
                                "return": _("returned by the bank"),
                                "recover": _("recovered")}.get(e.kind, e.kind),
                          amount=format_money(e.amount), milestone=_milestone_label(e.milestone) if e.milestone else "",
                          date=local_date(e.created_at).isoformat()) for e in entries]
        calculations.append(CalculationSection(_("Fund ledger entries of this grant"), ledger_lines or [_("Nothing recorded")]))
        header = [_("Evaluator"), _("Version"), _("Effect"), _("Quality"), _("Service"), _("Cost-effectiveness"),
                  _("Replicability"), _("Overall")]
        rows = [[names.get(e.evaluator_id, "—"), str(e.version), *[str(e.scores[c]) for c in
                 ("effect", "quality", "service", "cost_effectiveness", "replicability")], str(e.overall)]
                for e in evaluations or []]
        approvals = []
        for e in events:
            if e.action in ("trial_application.approve", "trial_application.reject", "trial_application.cancel"):
                approvals.append((event_label(e.action), e.actor_label, e.occurred_at))
        for d in disbursements:
            for role, name, when in approval_trail(d):
                approvals.append((f"{d.reference}: {role}", name, when))
        facts = [(_("Enterprise"), application.enterprise.name), (_("Provider (payee)"), application.provider.name),
                 (_("Solution"), application.solution.title), (_("Status"), status_label(SOURCE_TYPE, application.status))]
        data = AuditDossierData(reference=application.number,
                                title=f"{application.enterprise.name} — {application.solution.title}",
                                programme_name=application.programme.name, chain_head=chain_head(),
                                issued_at=issue.issued_at, verification_code=issue.verification_code,
                                verification_url=issue.verification_url, chronology=chronology,
                                calculations=calculations, evaluation_header=header if rows else (),
                                evaluation_rows=rows, approvals=approvals, facts=facts, lang=lang)
    return (f"audit-dossier-{application.number}.pdf", audit_dossier_pdf(data), "application/pdf",
            application.number)


def register() -> None:
    register_builder("audit_dossier", build_audit_dossier, subject_type="application",
                     roles=("auditor", "officer", "finance"))
    register_subject_lookup("application", lambda subject_id: db.session.get(TrialApplication, subject_id) is not None)
