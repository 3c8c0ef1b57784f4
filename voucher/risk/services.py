"""Risk signals: gather the rows, run :mod:`voucher.risk.detect`, keep each pattern once, dismiss.

Computed when an application is submitted (a listener on the kinds' ``submit`` transition,
subscribed by :func:`register`) and nightly (:func:`scan`, ``flask voucher risk-scan``).  Nothing
here ever refuses: a failure while computing on submission is logged and the submission goes on.
Risk reads the other domains' models (never their services): nothing below imports risk.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.applications.models import TrialApplication
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.auth.models import LoginSession, User
from voucher.catalogue.models import Solution
from voucher.db import utcnow
from voucher.enterprises.models import Organisation
from voucher.errors import NotFound, ValidationFailed
from voucher.extensions import db
from voucher.identifiers import invoice_key
from voucher.risk import detect
from voucher.risk.models import SIGNAL_STATES, RiskSignal
from voucher.subsidies.models import LoanApplication, RobotApplication, RobotLineItem
from voucher.workflow import StateMachine, transition

log = logging.getLogger(__name__)

MACHINE = StateMachine("risk_signal", SIGNAL_STATES, (
    transition("dismiss", "open", "dismissed", ("officer", "finance"), requires_reason=True),
))
REASON_MAX = 2000
IP_LOOKBACK = timedelta(days=30)   # the logins and submissions the same-address check reads
SUBMIT_ACTIONS = ("trial_application.submit", "loan_application.submit", "robot_application.submit")


# --- gathering the rows --------------------------------------------------------------------------

def load_orgs() -> list[detect.Org]:
    emails: dict[int, list[str]] = {}
    for org_id, email in db.session.execute(select(User.organisation_id, User.email)
                                            .where(User.organisation_id.is_not(None))):
        emails.setdefault(org_id, []).append(email)
    rows = db.session.execute(select(Organisation.id, Organisation.kind, Organisation.name, Organisation.contact_name,
                                     Organisation.contact_phone, Organisation.bank_account)
                              .where(Organisation.kind.in_(("enterprise", "provider"))))
    return [detect.Org(r.id, r.kind, r.name, r.contact_name, r.contact_phone, r.bank_account,
                       tuple(emails.get(r.id, ()))) for r in rows]


def _in_chunks(column, ids):
    """``column IN ids`` in chunks of 500 (a parameter list stays small), or no filter when ``ids`` is None."""
    if ids is None:
        return [None]
    ids = sorted(ids)
    return [column.in_(ids[i:i + 500]) for i in range(0, len(ids), 500)]


def load_apps(enterprise_ids: Iterable[int] | None = None) -> list[detect.App]:
    """The submitted applications of every kind; with ``enterprise_ids``, of those enterprises only."""
    ids = None if enterprise_ids is None else set(enterprise_ids)
    apps = []
    for cond in _in_chunks(TrialApplication.enterprise_id, ids):
        stmt = (select(TrialApplication.id, TrialApplication.number, TrialApplication.enterprise_id,
                       TrialApplication.status, TrialApplication.submitted_at, TrialApplication.provider_id,
                       TrialApplication.solution_id, TrialApplication.requested_amount, Solution.trial_price,
                       Solution.list_price)
                .join(Solution, Solution.id == TrialApplication.solution_id)
                .where(TrialApplication.submitted_at.is_not(None)))
        apps += [detect.App("trial_application", r.id, r.number, r.enterprise_id, r.status, r.submitted_at,
                            provider_id=r.provider_id, solution_id=r.solution_id, amount=r.requested_amount,
                            trial_price=r.trial_price, list_price=r.list_price)
                 for r in db.session.execute(stmt if cond is None else stmt.where(cond))]
    for model, source in ((LoanApplication, "loan_application"), (RobotApplication, "robot_application")):
        for cond in _in_chunks(model.enterprise_id, ids):
            stmt = select(model.id, model.number, model.enterprise_id, model.status,
                          model.submitted_at).where(model.submitted_at.is_not(None))
            apps += [detect.App(source, r.id, r.number, r.enterprise_id, r.status, r.submitted_at)
                     for r in db.session.execute(stmt if cond is None else stmt.where(cond))]
    return apps


def load_hits(now: datetime, *, organisation_ids: Iterable[int] | None = None,
              ips: Iterable[str] | None = None) -> list[detect.IpHit]:
    """Logins and submissions of the last ``IP_LOOKBACK`` with their address; with
    ``organisation_ids`` those organisations' only, with ``ips`` those addresses' only."""
    since = now - IP_LOOKBACK
    org_ids = None if organisation_ids is None else set(organisation_ids)
    addresses = None if ips is None else set(ips)
    hits = []
    for column, what, stmt in (
            (LoginSession.ip, "login",
             select(User.organisation_id, LoginSession.ip, LoginSession.created_at)
             .join(User, User.id == LoginSession.user_id)
             .where(LoginSession.ip.is_not(None), User.organisation_id.is_not(None),
                    LoginSession.created_at >= since)),
            (AuditEvent.ip, "submit",
             select(User.organisation_id, AuditEvent.ip, AuditEvent.occurred_at)
             .join(User, User.id == AuditEvent.actor_id)
             .where(AuditEvent.action.in_(SUBMIT_ACTIONS), AuditEvent.ip.is_not(None),
                    User.organisation_id.is_not(None), AuditEvent.occurred_at >= since))):
        conds = [None]
        if org_ids is not None:
            conds = _in_chunks(User.organisation_id, org_ids)
        elif addresses is not None:
            conds = _in_chunks(column, addresses)
        for cond in conds:
            hits += [detect.IpHit(r[0], r[1], r[2], what)
                     for r in db.session.execute(stmt if cond is None else stmt.where(cond))]
    return hits


def load_identifiers() -> list[detect.Identifier]:
    ids = [detect.Identifier("invoice", invoice_key(r.invoice_no), r.invoice_no, "robot_application", r.id, r.number,
                             r.enterprise_id, r.status)
           for r in db.session.execute(select(RobotLineItem.invoice_no, RobotApplication.id, RobotApplication.number,
                                              RobotApplication.enterprise_id, RobotApplication.status)
                                       .join(RobotApplication, RobotApplication.id == RobotLineItem.application_id))]
    ids += [detect.Identifier("contract", r.contract_key, r.contract_no, "loan_application", r.id, r.number,
                              r.enterprise_id, r.status)
            for r in db.session.execute(select(LoanApplication.contract_key, LoanApplication.contract_no,
                                               LoanApplication.id, LoanApplication.number,
                                               LoanApplication.enterprise_id, LoanApplication.status)
                                        .where(LoanApplication.contract_key.is_not(None)))]
    return ids


def findings(now: datetime | None = None) -> list[detect.Finding]:
    """Every pattern in the data now (pure detection over the gathered rows)."""
    now = now or utcnow()
    orgs = load_orgs()
    return _named(detect.detect(orgs, load_apps(), load_hits(now), load_identifiers()), orgs)


def findings_for_enterprise(enterprise_id: int, now: datetime | None = None) -> list[detect.Finding]:
    """The patterns that concern one enterprise (:func:`detect.touches`): exactly those of
    :func:`findings` with the enterprise among their organisations, read from its neighbourhood
    (:func:`detect.for_enterprise`) instead of every application.  A submission's scan must not grow
    with the city: reading everything, it took a minute per submission at 10,000 applications,
    longer than submissions arrive in a rush."""
    now = now or utcnow()
    orgs = load_orgs()
    found = detect.for_enterprise(enterprise_id, orgs, load_apps, lambda ids: load_hits(now, organisation_ids=ids),
                                  lambda ips: load_hits(now, ips=ips), load_identifiers())
    return _named(found, orgs)


def _named(found: list[detect.Finding], orgs: list[detect.Org]) -> list[detect.Finding]:
    """Name the organisations in the rows behind each finding."""
    names = {o.id: o.name for o in orgs}
    for f in found:
        for row in f.evidence.get("rows", ()):
            if "organisation_id" in row and "organisation" not in row:
                row["organisation"] = names.get(row["organisation_id"], "")
            if "enterprise_id" in row:
                row["enterprise"] = names.get(row["enterprise_id"], "")
    return found


# --- keeping each pattern once -------------------------------------------------------------------

def _store(found: list[detect.Finding], now: datetime) -> list[RiskSignal]:
    """Insert the new patterns, refresh the rows behind the known ones (open or dismissed: a
    dismissed signal stays dismissed).  Returns the new signals."""
    existing: dict[str, RiskSignal] = {}
    keys = [f.key for f in found]
    for i in range(0, len(keys), 500):
        for s in db.session.scalars(select(RiskSignal).where(RiskSignal.key.in_(keys[i:i + 500]))):
            existing[s.key] = s
    new = []
    for f in found:
        s = existing.get(f.key)
        related = [list(r) for r in f.related]
        if s is not None:
            if s.evidence != f.evidence or s.related != related:
                s.evidence, s.related, s.numbers = f.evidence, related, _numbers(f)
                s.source_type, s.source_id, s.application_number = f.source_type, f.source_id, f.number
            s.last_seen_at = now
            continue
        s = RiskSignal(kind=f.kind, key=f.key, status="open", source_type=f.source_type, source_id=f.source_id,
                       application_number=f.number, numbers=_numbers(f), org_a_id=f.org_ids[0] if f.org_ids else None,
                       org_b_id=f.org_ids[1] if len(f.org_ids) > 1 else None, evidence=f.evidence,
                       related=related, detected_at=now, last_seen_at=now)
        try:
            with db.session.begin_nested():   # a concurrent scan may have stored the same key
                db.session.add(s)
                db.session.flush()
        except IntegrityError:
            continue
        new.append(s)
    db.session.flush()
    return new


def _numbers(f: detect.Finding) -> str:
    found = {f.number} | {row.get("number") for row in f.evidence.get("rows", ())}
    return " ".join(sorted(n for n in found if n))[:400]


def scan(now: datetime | None = None) -> list[RiskSignal]:
    """The nightly scan: every pattern in the data, each stored once (run twice, the same signals)."""
    now = now or utcnow()
    return _store(findings(now), now)


def scan_application(source_type: str, source_id: int, now: datetime | None = None) -> list[RiskSignal]:
    """The patterns one application takes part in (on its submission), read from its enterprise's
    neighbourhood (:func:`findings_for_enterprise`): the same signals the nightly scan stores for it."""
    now = now or utcnow()
    enterprise_id = _enterprise_of(source_type, source_id)
    if enterprise_id is None:
        return []
    found = [f for f in findings_for_enterprise(enterprise_id, now)
             if detect.touches(f, source_type, source_id, enterprise_id)]
    return _store(found, now)


def _enterprise_of(source_type: str, source_id: int) -> int | None:
    model = {"trial_application": TrialApplication, "loan_application": LoanApplication,
             "robot_application": RobotApplication}.get(source_type)
    if model is None:
        return None
    return db.session.scalar(select(model.enterprise_id).where(model.id == source_id))


def on_submit(obj, actor: Actor, **facts) -> None:
    """Listener of the kinds' ``submit``: the application's signals are computed by a background job
    once the submission commits (``risk.jobs.scan_submitted``).  Never in the request: a scan reads
    every application (seconds at a city's volume, with the submission's locks held) and a signal
    never refuses anything, so the submission does not wait for it."""
    from voucher.risk import jobs
    from voucher.tasks import enqueue_after_commit

    enqueue_after_commit(jobs.scan_submitted, obj.__tablename__, obj.id, result_ttl=3600,
                         failure_ttl=7 * 24 * 3600)


def register() -> None:
    """Follow the submissions of every kind (called once by ``create_app``; again changes nothing)."""
    from voucher.applications.services import MACHINE as TRIAL_MACHINE
    from voucher.subsidies.services import LOAN_MACHINE, ROBOT_MACHINE

    for machine in (TRIAL_MACHINE, LOAN_MACHINE, ROBOT_MACHINE):
        machine.subscribe("submit", on_submit)


# --- dismissing ----------------------------------------------------------------------------------

def get_signal(actor: Actor, signal_id: int) -> RiskSignal:
    require(actor, "risk.read")
    signal = db.session.get(RiskSignal, signal_id)
    if signal is None:
        raise NotFound("No such risk signal.")
    return signal


def dismiss(actor: Actor, signal_id: int, reason: str | None) -> RiskSignal:
    """Close an open signal with the reason (officer or finance; audited by the machine).

    Rule: a reason is required and at most ``REASON_MAX`` characters; a dismissed signal stays
    dismissed (a second dismissal is a 409), and a rescan never reopens it."""
    require(actor, "risk.dismiss")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("The reason is at most %(max)s characters.", field="reason", max=REASON_MAX)
    signal = db.session.scalars(select(RiskSignal).where(RiskSignal.id == signal_id).with_for_update()).first()
    if signal is None:
        raise NotFound("No such risk signal.")
    MACHINE.apply(signal, "dismiss", actor, reason=reason, details={"kind": signal.kind})
    signal.dismissed_at = utcnow()
    signal.dismissed_by = actor.user_id
    signal.dismiss_reason = reason
    db.session.flush()
    return signal
