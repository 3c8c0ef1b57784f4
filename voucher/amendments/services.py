"""Amendments to an approved grant (变更申请, issue 18 §4): the SME asks, the officer approves or
refuses.  What may change, the checks and the ledger move belong to the grant's kind
(``voucher.grants.GrantKind.check_amendment`` / ``apply_amendment``: trial vouchers in
``voucher/trials/amendment.py``); this module keeps the request, its state machine and its audit
events, and imports nothing of the kinds' domains.

Rules:
- only the enterprise's own SME users ask (403 otherwise); only officers decide (403);
- the reason is required (at most 2,000 characters) and kept verbatim (exports neutralise a leading
  formula character); the officer's reason is required to refuse;
- at most one open request per grant: checked under the grant's row lock and held by the partial
  unique index ``uq_grant_amendment_open`` when two arrive at once;
- approving locks the grant's row first (as preparing a payment does), checks the changes again
  against the grant as it stands (a payment under way, a fully paid grant, the caps and the budget),
  then applies them: the ledger's reserve or release of the difference, the grant's rows.
"""
from __future__ import annotations

import copy
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.amendments.models import AMENDMENT_STATES, GrantAmendment
from voucher.audit.services import Actor, record_event
from voucher.db import utcnow
from voucher.errors import N_, Conflict, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.grants import AmendmentSubject, grant_kind
from voucher.notifications.services import notify_organisation, notify_role
from voucher.workflow import StateMachine, transition

REASON_MAX = 2000

MACHINE = StateMachine("grant_amendment", AMENDMENT_STATES, (
    transition("approve", "requested", "approved", "officer"),
    transition("refuse", "requested", "refused", "officer", requires_reason=True),
    transition("withdraw", "requested", "withdrawn", "sme"),
))


def _kind(source_type: str):
    kind = grant_kind(source_type)
    if kind is None or not kind.amendable_fields:
        raise NotFound("This kind of grant cannot be amended.")
    return kind


def subject_of(source_type: str, source_id: int) -> AmendmentSubject:
    return _kind(source_type).amendment_subject(source_id)


def _clean_reason(value: str | None, field: str, missing: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(missing, field=field)
    if len(text) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field=field, max=REASON_MAX)
    return text


def open_amendment(source_type: str, source_id: int) -> GrantAmendment | None:
    return db.session.scalar(select(GrantAmendment).where(
        GrantAmendment.source_type == source_type, GrantAmendment.source_id == source_id,
        GrantAmendment.status == "requested"))


def amendments_of(source_type: str, source_id: int) -> list[GrantAmendment]:
    return list(db.session.scalars(select(GrantAmendment).where(
        GrantAmendment.source_type == source_type, GrantAmendment.source_id == source_id)
        .order_by(GrantAmendment.id)))


def ensure_may_request(actor: Actor, subject: AmendmentSubject) -> None:
    require(actor, "amendments.request", message="Only the enterprise's own users may ask to change its grant.")
    require(actor, "amendments.request", subject, message="This grant belongs to another enterprise.")


def request_amendment(actor: Actor, source_type: str, source_id: int, asked: dict, reason: str | None,
                      today: date) -> GrantAmendment:
    """The SME asks to change an approved grant; the officers are told."""
    kind = _kind(source_type)
    subject = kind.amendment_subject(source_id)
    ensure_may_request(actor, subject)
    kind.lock(source_id)  # one request at a time per grant (the index holds it when two race)
    if open_amendment(source_type, source_id) is not None:
        raise Conflict("A change of this grant is already waiting for the bureau's decision: withdraw it or wait "
                       "for the decision before asking again.")
    try:
        changes = kind.check_amendment(source_id, asked, today)
    except ValidationFailed as err:
        try:
            _clean_reason(reason, "reason", "Say why the grant should change.")
        except ValidationFailed as reason_err:
            err.fields.update(reason_err.fields)
        raise
    text = _clean_reason(reason, "reason", "Say why the grant should change.")
    for name in kind.amendment_files:  # checked with the rest; stored only now that all is accepted
        if name in changes and asked.get(name) is not None:
            changes[name]["after"] = kind.store_amendment_file(actor, source_id, name, asked[name])
    amendment = GrantAmendment(source_type=source_type, source_id=source_id, programme_id=subject.programme_id,
                               enterprise_id=subject.enterprise_id, application_number=subject.number,
                               changes=changes, reason=text, status="requested", requested_by=actor.user_id,
                               requested_at=utcnow())
    db.session.add(amendment)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("A change of this grant is already waiting for the bureau's decision: withdraw it or wait "
                       "for the decision before asking again.") from None
    record_event(actor, "grant_amendment.requested", "grant_amendment", amendment.id,
                 after={"status": "requested", "source": f"{source_type}:{source_id}", "changes": changes},
                 reason=text)
    notify_role("officer", N_("The enterprise asks to change the approved grant %(number)s."),
                f"/amendments/{amendment.id}", number=subject.number, application_number=subject.number)
    return amendment


def _locked(amendment_id: int) -> GrantAmendment:
    amendment = db.session.scalar(select(GrantAmendment).where(GrantAmendment.id == amendment_id)
                                  .with_for_update().execution_options(populate_existing=True))
    if amendment is None:
        raise NotFound("No such amendment.")
    return amendment


def get_amendment(actor: Actor, amendment_id: int) -> GrantAmendment:
    amendment = db.session.get(GrantAmendment, amendment_id)
    if amendment is None:
        raise NotFound("No such amendment.")
    require(actor, "amendments.read", amendment, message="You may not see this.")
    return amendment


def _decided(actor: Actor, amendment: GrantAmendment, reason: str | None) -> None:
    amendment.decided_by = actor.user_id
    amendment.decided_at = utcnow()
    amendment.decision_reason = (reason or "").strip() or None
    db.session.flush()


def approve(actor: Actor, amendment_id: int, comment: str | None = None) -> GrantAmendment:
    """Rule: officers only; the grant's row locked first, then the amendment; the changes checked again
    and applied by the kind (ledger reserve/release under the programme's lock and caps)."""
    require(actor, "amendments.decide", message="Only a programme officer may decide on amendments.")
    peek = db.session.get(GrantAmendment, amendment_id)
    if peek is None:
        raise NotFound("No such amendment.")
    kind = _kind(peek.source_type)
    kind.lock(peek.source_id)  # lock order: the grant's row, as preparing a payment takes it
    amendment = _locked(amendment_id)
    if len((comment or "").strip()) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
    if MACHINE.find(amendment.status, "approve") is None:
        raise Conflict("This amendment was already decided (%(state)s).", state=amendment.status)
    changes = copy.deepcopy(amendment.changes)  # the kind may say what a recomputed figure became
    difference = kind.apply_amendment(actor, amendment.source_id, changes)
    amendment.changes = changes
    amendment.ledger_difference = difference
    MACHINE.apply(amendment, "approve", actor, reason=comment,
                  details={"changes": amendment.changes, "ledger_difference": difference})
    _decided(actor, amendment, comment)
    notify_organisation(amendment.enterprise_id, N_("The change of your grant %(number)s was approved."),
                        kind.detail_link(amendment.source_id) or "/", number=amendment.application_number,
                        application_number=amendment.application_number)
    return amendment


def refuse(actor: Actor, amendment_id: int, reason: str | None) -> GrantAmendment:
    require(actor, "amendments.decide", message="Only a programme officer may decide on amendments.")
    amendment = _locked(amendment_id)
    text = _clean_reason(reason, "reason", "Say why the change is refused.")
    MACHINE.apply(amendment, "refuse", actor, reason=text)
    _decided(actor, amendment, text)
    notify_organisation(amendment.enterprise_id,
                        N_("The change of your grant %(number)s was refused. Reason: %(reason)s"),
                        f"/amendments/{amendment.id}", number=amendment.application_number, reason=text,
                        application_number=amendment.application_number)
    return amendment


def withdraw(actor: Actor, amendment_id: int) -> GrantAmendment:
    amendment = _locked(amendment_id)
    require(actor, "amendments.request", amendment, message="This grant belongs to another enterprise.")
    MACHINE.apply(amendment, "withdraw", actor)
    return amendment
