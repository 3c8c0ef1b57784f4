"""Disbursements (maker-checker), payment batches, bank results, the public notice and objections.

Every function takes plain arguments and an :class:`Actor`, enforces its rule, writes the audit
event (through the state machines or ``record_event``) and raises domain exceptions; it only
flushes (the request or job commits).  Lock order where money moves: the disbursement row (or, when
preparing, the grant's row), then the payee's recovery orders (``voucher.recovery.services``: an
offset 抵扣), then the fund-ledger functions (the programme row), then our own state changes and audit
events.

Choices written down:

- A failed bank payment leaves its disbursement ``failed`` for good (what the bank said stays on
  record); the item is back in the finance queue and a **new** disbursement is prepared for it, with
  the payee's bank details as they stand then and a new approval.  A rejected one likewise.
- Editing the payee name or bank details of a prepared or approved disbursement makes the editor its
  preparer of record (so the editor cannot approve their own edit) and voids an approval.
- Offset (抵扣): a disbursement prepared for a payee that owes on open recovery orders nets what it owes
  (oldest order first, up to the amount) as ``offset_amount``; the bank transfers the rest
  (``transfer_amount``: the bank file, the batch total, the reconciliation).  Paid: the ledger
  records a ``pay`` of the full amount and the recovery domain a ``recover`` of the offset (its
  settlements); rejected or failed first: the offset is released.  A disbursement offset in full
  (nothing to transfer) is approved as any other, is not put in a batch, and a finance officer
  records it paid by offset (``record_offset_paid``).  A return (退汇) concerns the transfer only: the
  offset stays settled and the item's next disbursement carries it.
- Every grant must be on a public notice whose period has ended (and have no open or upheld
  objection) before any of its payments is prepared.

Over 600 lines, on purpose: the disbursement, batch and notice machines share one lock order
(written above) and the fund-ledger calls where money moves; keeping them in one module keeps
that order in one place.  Reconciliation is in ``voucher.payments.reconciliation``.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import can, require
from voucher.appnumbers import number_of
from voucher.audit.services import Actor, record_event
from voucher.auth.models import User
from voucher.db import utcnow
from voucher.errors import (
    N_,
    Conflict,
    Duplicate,
    Forbidden,
    NotFound,
    SameApprover,
    TransitionNotAllowed,
    ValidationFailed,
)
from voucher.extensions import db
from voucher.formulas import BANK_NAME_MESSAGE, PAYEE_NAME_MESSAGE, mark_formula
from voucher.grants import grant_kind
from voucher.identifiers import normalise_identifier
from voucher.money import format_money
from voucher.notifications.services import notify_organisation, notify_role, notify_users
from voucher.payments import queries
from voucher.payments.models import (
    BATCH_STATES,
    DISBURSEMENT_STATES,
    LIVE_STATES,
    OBJECTION_STATES,
    Disbursement,
    NoticeObjection,
    PaymentBatch,
    PublicNotice,
    PublicNoticeItem,
)
from voucher.programmes import services as ledger
from voucher.recovery import services as recovery
from voucher.workflow import StateMachine, transition

MAX_BATCH_LINES = 5000
REASON_MAX = 2000
REFERENCE_MAX = 100
OBJECTION_TEXT_MAX = 4000
local_today = queries.local_today



DISBURSEMENT_MACHINE = StateMachine("disbursement", DISBURSEMENT_STATES, (
    transition("approve", "prepared", "approved", "finance"),
    transition("reject", "prepared", "rejected", "finance", requires_reason=True),
    transition("void_approval", "approved", "prepared", "finance", requires_reason=True),
    transition("add_to_batch", "approved", "in_batch", "finance"),
    transition("remove_from_batch", "in_batch", "approved", "finance", requires_reason=True),
    transition("mark_paid", "in_batch", "paid", "finance"),
    transition("settle_by_offset", "approved", "paid", "finance"),  # offset in full: nothing to transfer
    transition("mark_failed", "in_batch", "failed", "finance", requires_reason=True),
    transition("mark_returned", "paid", "returned", "finance", requires_reason=True),  # 退汇: voucher.payments.returns
))

BATCH_MACHINE = StateMachine("payment_batch", BATCH_STATES, (
    transition("complete", "confirmed", "completed", "finance"),
    transition("cancel", "confirmed", "cancelled", "finance", requires_reason=True),
))

OBJECTION_MACHINE = StateMachine("notice_objection", OBJECTION_STATES, (
    transition("uphold", "open", "upheld", "officer", requires_reason=True),
    transition("dismiss", "open", "dismissed", "officer", requires_reason=True),
))

HOLD_MESSAGES = {
    "not_announced": N_("This grant is not yet on a public notice: it can be paid once a programme officer has "
                        "published the notice and its period has ended."),
    "notice_running": N_("This grant is on public notice until %(date)s; it can be paid from the day after."),
    "objection_open": N_("An objection to this grant's public notice is waiting for the programme officer's "
                         "decision; the payment is held."),
    "objection_upheld": N_("An objection to this grant's public notice was upheld: it cannot be paid."),
    "no_bank_account": N_("The payee %(payee)s has no bank name or account on file; ask them to complete their "
                          "profile first."),
}


def _number(d: Disbursement) -> str | None:
    """The application number of the grant a disbursement pays (its notifications name it)."""
    return number_of(d.source_type, d.source_id)


def disbursement_link(disbursement_id: int) -> str:
    return f"/payments/disbursements/{disbursement_id}"


def batch_link(batch_id: int) -> str:
    return f"/payments/batches/{batch_id}"


# --- reading and access ----------------------------------------------------------------------

def can_see_disbursement(actor: Actor, d: Disbursement) -> bool:
    """Bureau roles see every disbursement; a payee's own users (provider or enterprise) see theirs."""
    return can(actor, "payments.see_disbursement", d)


def get_disbursement(actor: Actor, disbursement_id: int) -> Disbursement:
    """Rule: bureau roles and the payee's own users only (another payee's: 403)."""
    d = db.session.get(Disbursement, disbursement_id)
    if d is None:
        raise NotFound("No such disbursement.")
    if not can_see_disbursement(actor, d):
        raise Forbidden("You may not see this.")
    return d


def get_batch(actor: Actor, batch_id: int) -> PaymentBatch:
    """Rule: bureau roles only."""
    require(actor, "payments.read")
    batch = db.session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound("No such payment batch.")
    return batch


def _locked(disbursement_id: int) -> Disbursement:
    d = db.session.scalar(select(Disbursement).where(Disbursement.id == disbursement_id).with_for_update()
                          .execution_options(populate_existing=True))
    if d is None:
        raise NotFound("No such disbursement.")
    return d


def _ensure_finance(actor: Actor) -> None:
    require(actor, "payments.handle", message="Only a finance officer may do this.")


def fingerprint(d: Disbursement) -> str:
    """What an approval is bound to: payee, the name and bank details (bank code too) paid to, the
    amount and the offset (抵扣) against recovery orders."""
    parts = [str(d.payee_id), d.payee_name or "", d.bank_name or "", d.bank_account or "",
             format(Decimal(d.amount), "f")]
    if d.bank_code:  # appended only when present: approvals given before bank codes existed stay valid
        parts.append(d.bank_code)
    if d.offset_amount:  # likewise: approvals of disbursements without an offset stay valid
        parts.append("offset " + format(Decimal(d.offset_amount), "f"))
    text = "|".join(parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def approval_valid(d: Disbursement) -> bool:
    return bool(d.approved_by and d.approval_fingerprint and d.approval_fingerprint == fingerprint(d))


def _snapshot(d: Disbursement) -> dict:
    return {"payee_id": d.payee_id, "payee_name": d.payee_name, "bank_name": d.bank_name,
            "bank_account": d.bank_account, "bank_code": d.bank_code, "amount": d.amount,
            "offset_amount": d.offset_amount or Decimal("0.00"), "transfer_amount": d.transfer_amount}


# --- preparing --------------------------------------------------------------------------------

def live_disbursement(source_type: str, source_id: int, milestone: str) -> Disbursement | None:
    return db.session.scalar(select(Disbursement).where(
        Disbursement.source_type == source_type, Disbursement.source_id == source_id,
        Disbursement.milestone == milestone, Disbursement.status.in_(LIVE_STATES)))


def _lock_grant(source_type: str, source_id: int) -> None:
    """Lock the grant's application row, as cancelling a grant does first: a preparation and a
    cancellation of the same grant then run one after the other, and the second sees the first."""
    kind = grant_kind(source_type)
    if kind is not None:
        kind.lock(source_id)


def find_payable(source_type: str, source_id: int, milestone: str, today: date | None = None):
    for item in queries.payables(source=(source_type, source_id), today=today):
        if item.milestone == milestone:
            return item
    return None


def _refuse_hold(item) -> None:
    message = HOLD_MESSAGES.get(item.hold or "")
    if item.hold == "no_bank_account":
        raise ValidationFailed(message, payee=item.payee_name)
    if item.hold:
        raise Conflict(message, date=item.hold_until.isoformat() if item.hold_until else "")


def prepare(actor: Actor, source_type: str, source_id: int, milestone: str, today: date | None = None,
            confirm_same_account: bool = False) -> Disbursement:
    """Prepare the disbursement of one payable item.

    Rule: finance officers only; the item must be payable now (trial advance after the kick-off
    confirmation, balance after a passed evaluation and both parties' acceptance, an approved loan discount or
    robot subsidy; never one already paid), its grant's public notice period ended without an open or upheld
    objection, and the payee must have bank details on file — which are copied onto the
    disbursement.  One live disbursement per item: a second one (a double click, ten concurrent
    clicks) is refused as a duplicate by the database's unique index.  The grant's row is locked
    first, so a cancellation of the grant at the same moment either comes first (nothing is payable)
    or sees this disbursement and is refused.  After a return (退汇) the payee's bank details are
    copied as they are now; when they equal the returned payment's, it is refused unless the
    finance officer confirms ``confirm_same_account``.  When the payee owes on recovery orders, the
    offset is reserved after the disbursement row exists (the orders' rows locked after the grant's).
    """
    _ensure_finance(actor)
    _lock_grant(source_type, source_id)
    existing = live_disbursement(source_type, source_id, milestone)
    if existing is not None:
        raise Duplicate("This payment has already been prepared (%(reference)s).", reference=existing.reference,
                        disbursement_id=existing.id)
    item = find_payable(source_type, source_id, milestone, today)
    if item is None:
        existing = live_disbursement(source_type, source_id, milestone)  # prepared meanwhile by another click
        if existing is not None:
            raise Duplicate("This payment has already been prepared (%(reference)s).", reference=existing.reference,
                            disbursement_id=existing.id)
        raise Conflict("This payment is not (or no longer) payable.")
    _refuse_hold(item)
    since = item.payable_since.isoformat() if item.payable_since else None  # the payment deadline runs from it
    d = Disbursement(programme_id=item.programme_id, funding_kind=item.funding_kind, source_type=source_type,
                     source_id=source_id, milestone=milestone, enterprise_id=item.enterprise_id, payee_id=item.payee_id,
                     payee_name=item.payee_name, bank_name=item.bank_name.strip(),
                     bank_account=item.bank_account.strip(), bank_code=(item.bank_code or "").strip() or None,
                     amount=item.amount,
                     basis={**item.basis, "payable_since": since},
                     status="prepared", prepared_by=actor.user_id, prepared_at=utcnow())
    from voucher.payments.returns import check_same_account, last_returned

    check_same_account(d, confirm_same_account)
    d.offset_amount = Decimal("0.00")
    try:
        with db.session.begin_nested():
            db.session.add(d)
    except IntegrityError:
        existing = live_disbursement(source_type, source_id, milestone)
        raise Duplicate("This payment has already been prepared (%(reference)s).",
                        reference=existing.reference if existing else "",
                        disbursement_id=existing.id if existing else None) from None
    returned = last_returned(source_type, source_id, milestone)
    d.offset_amount = recovery.reserve_offsets(actor, d.id, d.payee_id, d.amount,
                                               carried_from=returned.id if returned is not None else None)
    db.session.flush()
    record_event(actor, "disbursement.prepared", "disbursement", d.id,
                 after={"status": "prepared", "source_type": source_type, "source_id": source_id,
                        "milestone": milestone, **_snapshot(d), "basis": d.basis})
    others = db.session.scalars(select(User.id).where(User.role == "finance", User.active.is_(True),
                                                      User.id != actor.user_id))
    notify_users(list(others), N_("Disbursement %(reference)s of %(amount)s to %(payee)s is waiting for approval by "
                                  "a second finance officer."), disbursement_link(d.id), reference=d.reference,
                 amount=format_money(d.amount), payee=d.payee_name, application_number=_number(d))
    return d


# --- approving --------------------------------------------------------------------------------

def _check_password(actor: Actor, password: str | None) -> None:
    from voucher.auth.passwords import verify_password

    user = db.session.get(User, actor.user_id) if actor.user_id else None
    if user is None or not user.active or not password or not verify_password(user.password_hash, password):
        raise ValidationFailed("The password is not correct. Enter your own login password to confirm.",
                               field="password")


def _decide_checks(actor: Actor, d: Disbursement, action: str, password: str | None) -> None:
    _ensure_finance(actor)
    if DISBURSEMENT_MACHINE.find(d.status, action) is None:
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action=action, state=d.status)
    if actor.user_id == d.prepared_by:
        raise SameApprover("You prepared this disbursement: a different finance officer must approve or reject it.")
    _check_password(actor, password)


def approve(actor: Actor, disbursement_id: int, password: str | None) -> Disbursement:
    """Approve a prepared disbursement (the checker's step).

    Rule: a finance officer other than its preparer (SameApprover, 403 — and the database refuses it
    too), re-entering their own password (wrong: refused, nothing changes); the approval is bound to
    the payee, bank details and amount by a fingerprint stored with it.
    """
    d = _locked(disbursement_id)
    _decide_checks(actor, d, "approve", password)
    d.approved_by = actor.user_id
    d.approved_at = utcnow()
    d.approval_fingerprint = fingerprint(d)
    DISBURSEMENT_MACHINE.apply(d, "approve", actor, details={**_snapshot(d), "fingerprint": d.approval_fingerprint,
                                                             "password_confirmed": True})
    notify_users([d.prepared_by], N_("Disbursement %(reference)s was approved; it can be put in a payment batch."),
                 disbursement_link(d.id), reference=d.reference, application_number=_number(d))
    return d


def reject(actor: Actor, disbursement_id: int, password: str | None, reason: str | None) -> Disbursement:
    """Reject a prepared disbursement.

    Rule: as for approval (another finance officer, own password), and a reason is required; the
    item goes back to the finance queue.
    """
    d = _locked(disbursement_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
    _decide_checks(actor, d, "reject", password)
    recovery.release_offsets(actor, d.id, reason)
    d.rejected_by = actor.user_id
    d.rejected_at = utcnow()
    d.decision_reason = reason
    DISBURSEMENT_MACHINE.apply(d, "reject", actor, reason=reason)
    notify_users([d.prepared_by], N_("Disbursement %(reference)s was rejected: %(reason)s"), disbursement_link(d.id),
                 reference=d.reference, reason=reason, application_number=_number(d))
    return d


# Digits, hyphens between them (as some passbooks print them): a bank account never has letters.
_ACCOUNT = re.compile(r"^[0-9](?:[0-9-]{4,38})[0-9]$")
_BANK_CODE = re.compile(r"^[0-9]{12}$")  # 联行号 (CNAPS)


def update_bank_details(actor: Actor, disbursement_id: int, *, payee_name: str, bank_name: str,
                        bank_account: str, bank_code: str | None = None) -> Disbursement:
    """Correct the payee name or bank details of a prepared or approved disbursement.

    Rule: finance officers only, before it is batched; every field required, the account 6–40
    digits or hyphens between digits (spaces are dropped), no leading formula character; the bank code
    (联行号) empty or 12 digits (``None``: left as it is, for callers that do not edit it); a change to an
    approved disbursement voids its approval (back to prepared, audited) and the editor becomes its
    preparer of record, so another finance officer must approve it again.  Nothing changed → no event.
    """
    d = _locked(disbursement_id)
    _ensure_finance(actor)
    if d.status not in ("prepared", "approved"):
        raise TransitionNotAllowed("Only a prepared or approved disbursement can be changed (it is %(state)s).",
                                   state=d.status)
    values = {"payee_name": (payee_name or "").strip(), "bank_name": (bank_name or "").strip(),
              "bank_account": normalise_identifier(bank_account)}
    errors = {}
    for name, limit in (("payee_name", 200), ("bank_name", 200)):
        if not values[name]:
            errors[name] = N_("Enter a value.")
        elif len(values[name]) > limit:
            errors[name] = N_("At most 200 characters.")
        else:
            mark_formula(errors, name, values[name],
                         PAYEE_NAME_MESSAGE if name == "payee_name" else BANK_NAME_MESSAGE)
    if not _ACCOUNT.match(values["bank_account"]):
        errors["bank_account"] = N_("Enter the account number: 6 to 40 digits (hyphens allowed between them).")
    if bank_code is not None:
        values["bank_code"] = normalise_identifier(bank_code).replace("-", "") or None
        if values["bank_code"] is not None and not _BANK_CODE.match(values["bank_code"]):
            errors["bank_code"] = N_("A bank code (CNAPS) has 12 digits.")
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors)
    before = _snapshot(d)
    changed = {k: v for k, v in values.items() if getattr(d, k) != v}
    if not changed:
        return d
    for k, v in changed.items():
        setattr(d, k, v)
    was_approved = d.status == "approved"
    previous_preparer = d.prepared_by
    d.prepared_by = actor.user_id
    d.prepared_at = utcnow()
    if was_approved:
        # Cleared in the same flush as the state change (the CHECKs see a consistent row).
        d.approved_by = None
        d.approved_at = None
        d.approval_fingerprint = None
        DISBURSEMENT_MACHINE.apply(d, "void_approval", actor, reason="payee or bank details edited after approval",
                                   details={"changed": sorted(changed)})
    db.session.flush()
    record_event(actor, "disbursement.edited", "disbursement", d.id, before={k: before[k] for k in changed},
                 after={**changed, "prepared_by": actor.user_id, "previous_preparer": previous_preparer})
    return d


# --- batches ----------------------------------------------------------------------------------

def create_batch(actor: Actor, programme_id: int, disbursement_ids, note: str | None = None) -> PaymentBatch:
    """Group approved disbursements of one programme into a payment batch.

    Rule: finance officers only; at least one and at most 5,000 disbursements, each approved (with
    its approval still matching its payee, bank details and amount), with a bank code (联行号: the bank
    file needs it), and of the programme.  The bank
    payment file and the batch summary are then produced by background jobs (after the commit).
    """
    _ensure_finance(actor)
    ids = list(dict.fromkeys(int(i) for i in disbursement_ids))
    if not ids:
        raise ValidationFailed("Choose at least one approved disbursement.", field="disbursement_ids")
    if len(ids) > MAX_BATCH_LINES:
        raise ValidationFailed("At most %(max)s disbursements per batch.", field="disbursement_ids",
                               max=MAX_BATCH_LINES)
    programme = ledger.get_programme(programme_id)
    rows = []
    for start in range(0, len(ids), 500):
        rows += list(db.session.scalars(select(Disbursement).where(Disbursement.id.in_(ids[start:start + 500]))
                                        .order_by(Disbursement.id).with_for_update()
                                        .execution_options(populate_existing=True)))
    if len(rows) != len(ids):
        raise NotFound("No such disbursement.")
    for d in rows:
        if d.status != "approved":
            raise TransitionNotAllowed("%(reference)s is not approved (it is %(state)s).", reference=d.reference,
                                       state=d.status)
        if d.programme_id != programme.id:
            raise ValidationFailed("%(reference)s belongs to another programme.", field="disbursement_ids",
                                   reference=d.reference)
        if not approval_valid(d):
            raise Conflict("%(reference)s changed after its approval; it must be approved again.",
                           reference=d.reference)
        if d.transfer_amount <= 0:
            raise ValidationFailed("%(reference)s is offset in full against recovery orders: nothing is transferred, "
                                   "so it is recorded paid by offset on its page, not put in a batch.",
                                   field="disbursement_ids", reference=d.reference)
        if not d.bank_code:  # the bank file needs it: refused here, while the details can still be corrected
            raise ValidationFailed("%(reference)s has no bank code (CNAPS): correct its bank details, and have it "
                                   "approved again, before adding it to a batch.", field="disbursement_ids",
                                   reference=d.reference)
    total = sum((d.transfer_amount for d in rows), Decimal("0.00"))  # what the bank transfers
    batch = PaymentBatch(programme_id=programme.id, status="confirmed", line_count=len(rows), total=total,
                         note=(note or "").strip()[:500] or None, created_by=actor.user_id, created_at=utcnow())
    db.session.add(batch)
    db.session.flush()
    for d in rows:
        d.batch_id = batch.id
        DISBURSEMENT_MACHINE.apply(d, "add_to_batch", actor, details={"batch_id": batch.id})
    record_event(actor, "payment_batch.created", "payment_batch", batch.id,
                 after={"status": "confirmed", "programme_id": programme.id, "lines": [d.id for d in rows],
                        "total": total})
    request_batch_files(actor, batch.id, quiet=True)
    return batch


def request_batch_files(actor: Actor, batch_id: int, quiet: bool = False) -> list:
    """Ask for the bank payment file and the batch summary of a batch (background jobs).

    Rule: finance officers only, for a batch that is not cancelled.  With ``quiet`` a missing job
    queue is not an error (the batch page offers the button again).
    """
    from voucher.documents import services as documents

    _ensure_finance(actor)
    batch = db.session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound("No such payment batch.")
    if batch.status == "cancelled":
        raise TransitionNotAllowed("This batch is cancelled.")
    try:
        return [documents.request_document(actor, kind, "payment_batch", batch.id)
                for kind in ("bank_file", "batch_summary")]
    except Conflict:
        if quiet:
            return []
        raise


def request_payment_orders(actor: Actor, batch_id: int, lang: str = "zh"):
    """Ask for the payment order of every line of a batch (one background job per line, one progress bar).

    Rule: finance officers only; the batch is not cancelled.
    """
    from voucher.documents import services as documents

    _ensure_finance(actor)
    batch = db.session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound("No such payment batch.")
    if batch.status == "cancelled":
        raise TransitionNotAllowed("This batch is cancelled.")
    ids = [d.id for d in queries.batch_lines(batch.id)]
    parent = documents.request_batch(actor, "payment_order", "disbursement", ids, lang=lang)
    batch.orders_job_id = parent.id
    db.session.flush()
    return parent


def cancel_batch(actor: Actor, batch_id: int, reason: str) -> PaymentBatch:
    """Cancel a batch before the bank has answered for any line.

    Rule: finance officers only; a reason is required; refused once a line has a result.  Its lines
    go back to approved (still bound to their approvals) and its bank file and summary are revoked.
    """
    from voucher.documents import services as documents
    from voucher.documents.models import Document

    _ensure_finance(actor)
    batch = db.session.scalar(select(PaymentBatch).where(PaymentBatch.id == batch_id).with_for_update()
                              .execution_options(populate_existing=True))
    if batch is None:
        raise NotFound("No such payment batch.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    lines = queries.batch_lines(batch.id)
    if any(d.status in ("paid", "failed", "returned") for d in lines):
        raise Conflict("The bank's result is already recorded for some lines; this batch can no longer be cancelled.")
    BATCH_MACHINE.apply(batch, "cancel", actor, reason=reason)
    batch.cancelled_reason = reason
    for d in lines:
        d.batch_id = None
        DISBURSEMENT_MACHINE.apply(d, "remove_from_batch", actor, reason=reason, details={"batch_id": batch.id})
    for doc in db.session.scalars(select(Document).where(Document.subject_type == "payment_batch",
                                                         Document.subject_id == batch.id,
                                                         Document.status == "valid")):
        documents.revoke_document(actor, doc.id, reason)
    db.session.flush()
    return batch


def already_paid(source_type: str, source_id: int, milestone: str) -> bool:
    """The ledger shows the milestone paid: a payment not followed by a return (退汇)."""
    return (source_id, milestone) in ledger.paid_milestones(source_type, [source_id])


def record_result(actor: Actor, disbursement_id: int, outcome: str, *, bank_reference: str | None = None,
                  reason: str | None = None) -> Disbursement:
    """Record the bank's result for one line of a batch.

    Rule: finance officers only; the line is in a batch and its approval still matches it.  ``paid``
    needs the bank's reference and moves the amount from reserved to paid in the fund ledger (the
    ledger first, then the state): a milestone the ledger already shows paid is refused, so nothing
    is ever paid twice; an offset (抵扣) is settled on its recovery orders (the ledger's ``recover``).
    ``failed`` needs the bank's reason; the item goes back to the finance queue and its offset is
    released.  When every line has a result the batch is completed.
    """
    _ensure_finance(actor)
    d = _locked(disbursement_id)
    recovery.lock_offsets(d.id)  # lock order: the disbursement, the recovery orders, then the ledger
    if outcome not in ("paid", "failed"):
        raise ValidationFailed("Choose paid or failed.", field="outcome")
    if d.status != "in_batch":
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action=f"mark_{outcome}", state=d.status)
    if not approval_valid(d):
        raise Conflict("%(reference)s changed after its approval; it cannot be paid.", reference=d.reference)
    now = utcnow()
    if outcome == "paid":
        ref = (bank_reference or "").strip()
        if not ref:
            raise ValidationFailed("Enter the bank's reference for this payment.", field="bank_reference")
        if len(ref) > REFERENCE_MAX:
            raise ValidationFailed("At most %(max)s characters.", field="bank_reference", max=REFERENCE_MAX)
        if already_paid(d.source_type, d.source_id, d.milestone):
            raise Conflict("This payment has already been paid once; it is never paid twice.")  # unless returned
        entry = ledger.pay(actor, d.source_type, d.source_id, d.amount, d.milestone,
                           note=f"{d.reference} bank ref {ref}"[:500])
        recovery.settle_offsets(actor, d.id, d.reference, local_today())
        d.bank_reference = ref
        d.ledger_entry_id = entry.id
        d.result_recorded_by = actor.user_id
        d.result_recorded_at = now
        DISBURSEMENT_MACHINE.apply(d, "mark_paid", actor, details={"bank_reference": ref, "amount": d.amount,
                                                                   "offset_amount": d.offset_amount,
                                                                   "transfer_amount": d.transfer_amount,
                                                                   "ledger_entry_id": entry.id,
                                                                   "batch_id": d.batch_id})
        notify_organisation(d.payee_id, N_("%(amount)s was paid to your account %(account)s (%(reference)s)."),
                            disbursement_link(d.id), amount=format_money(d.transfer_amount), account=d.bank_account,
                            reference=d.reference, application_number=_number(d))
    else:
        text = (reason or "").strip()
        if not text:
            raise ValidationFailed("Enter the bank's reason for the failure.", field="reason")
        if len(text) > REASON_MAX:
            raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
        recovery.release_offsets(actor, d.id, text)
        d.result_reason = text
        d.result_recorded_by = actor.user_id
        d.result_recorded_at = now
        DISBURSEMENT_MACHINE.apply(d, "mark_failed", actor, reason=text, details={"batch_id": d.batch_id})
    _complete_if_done(actor, d.batch_id)
    return d


def record_offset_paid(actor: Actor, disbursement_id: int) -> Disbursement:
    """Record paid a disbursement offset in full against the payee's recovery orders (抵扣).

    Rule: finance officers only; an approved disbursement whose approval still matches it and whose
    transfer amount is 0 (nothing goes to the bank, so it is in no batch).  As for a bank payment:
    the ledger's ``pay`` of the full amount, then the offsets' settlements (``recover``), then the
    state (``settle_by_offset``); its bank reference reads ``OFFSET-`` and its own reference.
    """
    _ensure_finance(actor)
    d = _locked(disbursement_id)
    recovery.lock_offsets(d.id)
    if DISBURSEMENT_MACHINE.find(d.status, "settle_by_offset") is None:
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action="settle_by_offset", state=d.status)
    if d.transfer_amount != 0:
        raise Conflict("%(reference)s transfers %(amount)s: it is paid through a payment batch.",
                       reference=d.reference, amount=format_money(d.transfer_amount))
    if not approval_valid(d):
        raise Conflict("%(reference)s changed after its approval; it cannot be paid.", reference=d.reference)
    if already_paid(d.source_type, d.source_id, d.milestone):
        raise Conflict("This payment has already been paid once; it is never paid twice.")
    entry = ledger.pay(actor, d.source_type, d.source_id, d.amount, d.milestone,
                       note=f"{d.reference} offset in full"[:500])
    recovery.settle_offsets(actor, d.id, d.reference, local_today())
    d.bank_reference = f"OFFSET-{d.reference}"
    d.ledger_entry_id = entry.id
    d.result_recorded_by = actor.user_id
    d.result_recorded_at = utcnow()
    DISBURSEMENT_MACHINE.apply(d, "settle_by_offset", actor, details={"amount": d.amount,
                                                                      "offset_amount": d.offset_amount,
                                                                      "transfer_amount": d.transfer_amount,
                                                                      "ledger_entry_id": entry.id})
    notify_organisation(d.payee_id, N_("%(amount)s of %(reference)s was offset against what you owe on recovery "
                                       "orders; nothing was transferred."), disbursement_link(d.id),
                        amount=format_money(d.offset_amount), reference=d.reference, application_number=_number(d))
    return d


def _complete_if_done(actor: Actor, batch_id: int | None) -> None:
    if batch_id is None:
        return
    batch = db.session.get(PaymentBatch, batch_id)
    if batch is None or batch.status != "confirmed":
        return
    counts = queries.batch_progress([batch_id])[batch_id]
    if counts.get("in_batch", 0) == 0:
        batch.completed_at = utcnow()
        BATCH_MACHINE.apply(batch, "complete", actor, details={"paid": counts.get("paid", 0),
                                                               "failed": counts.get("failed", 0)})


# --- the public notice (公示) ----------------------------------------------------------------

def _ensure_officer(actor: Actor) -> None:
    require(actor, "payments.notices", message="Only a programme officer may do this.")


def publish_notice(actor: Actor, programme_id: int, today: date | None = None) -> PublicNotice:
    """Publish the programme's approved grants (enterprise, kind, amount) not yet announced.

    Rule: programme officers only; at least one grant to announce; the notice runs for the
    programme's ``publicity_working_days`` Chinese working days after the day of publication
    (holidays skipped, adjusted working weekends counted); the grants become payable the day after
    it ends, unless an objection holds them.  A grant is announced once.
    """
    from voucher.workdays import CalendarUnknown, add_working_days

    _ensure_officer(actor)
    programme = ledger.get_programme(programme_id)
    grants = queries.announceable_grants(programme.id)
    if not grants:
        raise ValidationFailed("Every approved grant of this programme is already on a public notice: there is "
                               "nothing new to publish.")
    day = today or local_today()
    days = int(ledger.parameters_on(programme.id, day)[1]["publicity_working_days"])  # the version of the day
    try:
        ends_on = add_working_days(day, days)
    except CalendarUnknown as exc:
        raise ValidationFailed("The working-day calendar has no data for %(year)s yet, so the notice period cannot "
                               "be counted; a programme officer enters the State Council's arrangement for %(year)s on the "
                               "working-day calendar page.", year=exc.day.year) from None
    notice = PublicNotice(programme_id=programme.id, title=programme.name, published_by=actor.user_id,
                          published_at=utcnow(), published_on=day, working_days=days, ends_on=ends_on)
    try:
        with db.session.begin_nested():
            db.session.add(notice)
            db.session.flush()
            for g in grants:
                db.session.add(PublicNoticeItem(notice_id=notice.id, source_type=g.source_type, source_id=g.source_id,
                                                funding_kind=g.funding_kind, enterprise_id=g.enterprise_id,
                                                enterprise_name=g.enterprise_name, amount=g.amount))
    except IntegrityError:
        raise Conflict("Another officer published a notice for these grants at the same moment; reload the "
                       "page.") from None
    record_event(actor, "public_notice.published", "public_notice", notice.id,
                 after={"programme_id": programme.id, "published_on": day, "ends_on": ends_on, "working_days": days,
                        "items": [{"source_type": g.source_type, "source_id": g.source_id, "kind": g.funding_kind,
                                   "enterprise_id": g.enterprise_id, "amount": g.amount} for g in grants]})
    for enterprise_id in dict.fromkeys(g.enterprise_id for g in grants):
        notify_organisation(enterprise_id, N_("Your grant is on the bureau's public notice until %(date)s; it is paid "
                                              "after the notice period if no objection holds it."),
                            f"/notices/{notice.id}", date=ends_on.isoformat())
    from voucher.payments.jobs import schedule_announcement

    schedule_announcement(ends_on)
    return notice


def announce_payable_notices(today: date | None = None) -> list[PublicNotice]:
    """Tell the finance officers which grants became payable when a notice's period ended.

    Rule: each notice once (``payable_announced_at``), from the day after its period ends; the
    grants counted are the notice's items payable that day (no open or upheld objection, not already
    prepared or paid; an item only waiting for the payee's bank details counts, since the bureau must
    act on it); a notice with none is marked without a message.  Runs as a scheduled job and from
    ``flask voucher notify-payable``; a second or concurrent run announces nothing twice (row lock,
    then the mark is checked again).
    """
    today = today or local_today()
    due = db.session.scalars(select(PublicNotice.id).where(PublicNotice.ends_on < today,
                                                           PublicNotice.payable_announced_at.is_(None))
                             .order_by(PublicNotice.id)).all()
    announced = []
    for notice_id in due:
        notice = db.session.scalar(select(PublicNotice).where(PublicNotice.id == notice_id).with_for_update()
                                   .execution_options(populate_existing=True))
        if notice.payable_announced_at is not None:
            continue  # another run got here first
        keys = {(i.source_type, i.source_id) for i in notice.items}
        items = [p for p in queries.payables(programme_id=notice.programme_id, today=today)
                 if (p.source_type, p.source_id) in keys and p.waits_on_bureau]
        total = sum((p.amount for p in items), Decimal("0.00"))
        notice.payable_announced_at = utcnow()
        record_event(Actor.system(), "public_notice.payable_announced", "public_notice", notice.id,
                     after={"ends_on": notice.ends_on, "payable": len(items), "total": total})
        if items:
            notify_role("finance", N_("The public notice of %(programme)s ended on %(date)s: %(n)s payment(s), "
                                      "%(total)s in all, can now be prepared."),
                        f"/payments/queue?programme_id={notice.programme_id}&show=payable",
                        programme=notice.title, date=notice.ends_on.isoformat(), n=len(items),
                        total=format_money(total))
        announced.append(notice)
    db.session.flush()
    return announced


def get_notice(notice_id: int) -> PublicNotice:
    """A notice (public: anyone may read a published notice)."""
    notice = db.session.get(PublicNotice, notice_id)
    if notice is None:
        raise NotFound("No such public notice.")
    return notice


def notice_open(notice: PublicNotice, today: date | None = None) -> bool:
    day = today or local_today()
    return notice.published_on <= day <= notice.ends_on


PUBLIC_ACTOR_ROLE = "public"


def file_objection(notice_id: int, *, item_id: int | None, name: str, contact: str, text: str,
                   ip: str | None = None, today: date | None = None) -> NoticeObjection:
    """Anyone objects to a notice (one grant, or the whole list) during its period.

    Rule: only while the notice runs (up to and including its last day); name, contact and a text
    of at least 10 characters are required; the objection holds the grant(s) until an officer
    decides.  Audited (the objector's name, not their contact details, goes into the audit trail).
    """
    notice = get_notice(notice_id)
    if not notice_open(notice, today):
        raise Conflict("This notice's period ended on %(date)s: objections are no longer accepted here. Contact "
                       "the bureau directly.", date=notice.ends_on.isoformat())
    item = None
    if item_id is not None:
        item = db.session.get(PublicNoticeItem, item_id)
        if item is None or item.notice_id != notice.id:
            raise ValidationFailed("Choose a grant from this notice.", field="item_id")
    values = {"name": (name or "").strip(), "contact": (contact or "").strip(), "text": (text or "").strip()}
    errors = {}
    if not values["name"] or len(values["name"]) > 100:
        errors["name"] = N_("Enter your name (at most 100 characters).")
    if not values["contact"] or len(values["contact"]) > 200:
        errors["contact"] = N_("Enter a telephone number or e-mail address (at most 200 characters).")
    if len(values["text"]) < 10 or len(values["text"]) > OBJECTION_TEXT_MAX:
        errors["text"] = N_("Describe the objection in 10 to 4,000 characters.")
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors)
    objection = NoticeObjection(notice_id=notice.id, item_id=item.id if item else None, status="open",
                                submitted_at=utcnow(), ip=(ip or "")[:64] or None, **values)
    db.session.add(objection)
    db.session.flush()
    public = Actor(user_id=None, role=PUBLIC_ACTOR_ROLE, organisation_id=None, label=f"public: {values['name']}")
    record_event(public, "notice_objection.filed", "notice_objection", objection.id,
                 after={"status": "open", "notice_id": notice.id, "item_id": objection.item_id,
                        "source_type": item.source_type if item else None, "source_id": item.source_id if item else None})
    notify_role("officer", N_("An objection was filed against the public notice of %(programme)s: the grant(s) "
                              "concerned are held until you decide."), f"/payments/notices/{notice.id}",
                programme=notice.title)
    return objection


def resolve_objection(actor: Actor, objection_id: int, decision: str, reason: str,
                      cancel_grant: bool = False) -> NoticeObjection:
    """An officer decides an objection: upheld (the grant is not paid) or dismissed (it may be paid).

    Rule: programme officers only; an open objection; a reason is required.  When upholding an
    objection to one grant, the officer may also cancel the grant, its reservation going back to the
    fund: a trial voucher whose trial has not started (``applications.services.cancel``), or a loan
    interest discount or robot purchase subsidy of which nothing is paid or being paid
    (``subsidies.services.cancel_grant``).  A trial that has started, and an objection to the whole
    list, cannot cancel anything here: the grant(s) stay held and unpaid.  A refused cancellation
    refuses the whole decision (the objection stays open).  Lock order: the objection row, then the
    grant's application row, then the ledger.
    """
    _ensure_officer(actor)
    objection = db.session.scalar(select(NoticeObjection).where(NoticeObjection.id == objection_id)
                                  .with_for_update().execution_options(populate_existing=True))
    if objection is None:
        raise NotFound("No such objection.")
    if decision not in ("uphold", "dismiss"):
        raise ValidationFailed("Choose to uphold or dismiss the objection.", field="decision")
    if OBJECTION_MACHINE.find(objection.status, decision) is None:
        raise TransitionNotAllowed("This objection has already been decided.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
    cancelled = None
    item = objection.item
    if cancel_grant:
        if decision != "uphold" or item is None:
            raise ValidationFailed("Only an upheld objection to one grant can cancel the grant; an objection to the "
                                   "whole list cannot.", field="cancel_grant")
        kind = grant_kind(item.source_type)
        if kind is None:
            raise ValidationFailed("This kind of grant cannot be cancelled here.", field="cancel_grant")
        # The kind's own cancellation: it releases the ledger first (lock order) and refuses a grant
        # whose trial has started, or one paid or with a payment under way.
        kind.cancel(actor, item.source_id, reason)
        cancelled = item.source_id
    objection.resolved_by = actor.user_id
    objection.resolved_at = utcnow()
    objection.resolution = reason
    OBJECTION_MACHINE.apply(objection, decision, actor, reason=reason,
                            details={"notice_id": objection.notice_id, "item_id": objection.item_id,
                                     "cancelled_application": cancelled,
                                     "cancelled_source_type": item.source_type if cancelled else None})
    return objection
