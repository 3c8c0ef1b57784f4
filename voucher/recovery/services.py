"""Recovery of grants (追回, issue 18 §3): an officer records a breach of a grant's obligation, which
makes a recovery order; finance records the repayments from the bank statement until it is settled.
The obligations (and who was paid) belong to the grant's kind (``voucher.grants.GrantKind.obligations``);
the amount is worked out by ``voucher.calc.recovery`` (whole or pro rata, with its steps); the money
comes back to the fund through the ledger's ``recover`` entry (``programmes.services.recover``), so
the programme's available funds rise by exactly what was repaid.

Rules:
- only a programme officer records a breach or cancels an order; only finance records a repayment;
  the debtor's own users and the bureau read an order (403 for anyone else, per order);
- a breach needs an obligation of the grant, a breach day (not in the future, not before the
  obligation started), a reason (at most 2,000 characters) and an evidence file (PDF, JPEG or PNG);
- the order's amount is at most what was paid for the grant less what other live orders already
  claim; pro rata needs the obligation's end and a breach before it;
- the deadline is ``deadline_working_days`` working days (default 15, 1 to 60) from the day recorded;
- a repayment is positive, in whole fen, at most the order's outstanding amount (the refusal names
  it), with a bank reference used once (the unique key holds it when two are recorded at once), on a
  day not in the future; the order's row is locked first, then the programme's (as the ledger does);
- open → partly_settled → settled by repayments or offsets; open → cancelled by an officer with a
  reason (an order with a repayment, or with an offset under way, is not cancelled: its money is in
  the ledger or about to be).

Offset (抵扣) against the debtor's later payments (the payments domain calls these, under its lock order:
the grant's or the disbursement's row first, then the recovery orders' rows, then the programme's):
- ``reserve_offsets`` when a disbursement to the debtor is prepared: its open and partly settled
  orders, oldest first, each locked, give what they still owe less what other pending offsets already
  hold, up to the disbursement's amount (two preparations at once queue on the orders' locks, so the
  same money is never offset twice; a repayment likewise counts pending offsets as taken);
- ``settle_offsets`` when the disbursement is paid: per order a settlement of kind ``offset`` naming
  the disbursement and a ledger ``recover`` entry (the order's programme's available funds rise by
  exactly the offset), and the order's transition (``offset_part`` / ``offset``);
- ``release_offsets`` when it is rejected or fails before being paid: nothing was recorded, the
  money is free again;
- a paid disbursement the bank returns (退汇) keeps its offsets settled (the recovered money was
  netted, not sent): the item's next disbursement carries the same offsets (``carried``, settled
  already, nothing recorded again), so it transfers the same net amount.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.calc.common import CalcInputError
from voucher.calc.recovery import METHODS, RecoveryResult, recovery_amount
from voucher.db import utcnow
from voucher.errors import N_, Conflict, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.grants import Obligation, grant_kind
from voucher.money import format_money
from voucher.notifications.services import notify_organisation, notify_role
from voucher.programmes import services as ledger
from voucher.recovery.models import ORDER_STATES, RecoveryOffset, RecoveryOrder, RecoverySettlement
from voucher.storage import save_upload
from voucher.workdays import add_working_days
from voucher.workflow import StateMachine, transition

REASON_MAX = 2000
BANK_REFERENCE_MAX = 60
DEFAULT_DEADLINE_WORKING_DAYS = 15
DEADLINE_MIN, DEADLINE_MAX = 1, 60

MACHINE = StateMachine("recovery_order", ORDER_STATES, (
    transition("settle_part", ("open", "partly_settled"), "partly_settled", "finance"),
    transition("settle", ("open", "partly_settled"), "settled", "finance"),
    transition("offset_part", ("open", "partly_settled"), "partly_settled", "finance"),
    transition("offset", ("open", "partly_settled"), "settled", "finance"),
    transition("cancel", "open", "cancelled", "officer", requires_reason=True),
))
ZERO = Decimal("0.00")

_CALC_MESSAGES = {
    "method": N_("Pro rata needs an obligation with an end date; recover the whole amount instead."),
    "breach_on": N_("The breach must fall before the obligation's end (%(limit)s)."),
    "ends_on": N_("The obligation's end is not after its start."),
    "recoverable": N_("Nothing paid for this grant is left to recover."),
}


def _kind(source_type: str):
    kind = grant_kind(source_type)
    if kind is None:
        raise NotFound("No such grant.")
    return kind


def obligations_of(source_type: str, source_id: int) -> list[Obligation]:
    """The grant's obligations (empty for a kind without any, or a grant not found)."""
    kind = grant_kind(source_type)
    return kind.obligations(source_id) if kind is not None else []


def claimed(source_type: str, source_id: int, *, excluding: int | None = None) -> Decimal:
    """What the grant's live (not cancelled) orders claim: their amounts."""
    orders = db.session.scalars(select(RecoveryOrder).where(
        RecoveryOrder.source_type == source_type, RecoveryOrder.source_id == source_id,
        RecoveryOrder.status != "cancelled"))
    return sum((o.amount for o in orders if o.id != excluding), Decimal("0.00"))


def recoverable(source_type: str, source_id: int) -> Decimal:
    """Paid for the grant (net of returns 退汇) less what live recovery orders already claim."""
    return ledger.source_paid(source_type, source_id) - claimed(source_type, source_id)


def _text(value: str | None, field: str, missing: str, limit: int = REASON_MAX) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(missing, field=field)
    if len(text) > limit:
        raise ValidationFailed("At most %(max)s characters.", field=field, max=limit)
    return text


def work_out(source_type: str, source_id: int, obligation: Obligation, method: str,
             breach_on: date) -> RecoveryResult:
    """The order's amount and working (no writes): raises ValidationFailed naming the field."""
    if method not in METHODS:
        raise ValidationFailed("Choose whole or pro rata.", field="method")
    base = recoverable(source_type, source_id)
    if base <= 0:
        raise ValidationFailed(_CALC_MESSAGES["recoverable"], field="method")
    try:
        return recovery_amount(base, method, starts_on=obligation.starts_on, ends_on=obligation.ends_on,
                               breach_on=breach_on)
    except CalcInputError as err:
        limit = err.limit.isoformat() if isinstance(err.limit, date) else err.limit
        raise ValidationFailed(_CALC_MESSAGES.get(err.field, err.message),
                               field="breach_on" if err.field == "breach_on" else "method", limit=limit) from None


def record_breach(actor: Actor, source_type: str, source_id: int, *, obligation_code: str, breach_on: date | None,
                  reason: str | None, evidence, method: str, today: date,
                  deadline_working_days: int | None = None) -> RecoveryOrder:
    """An officer records a breach of the grant's obligation: the recovery order is made (amount and
    working, deadline), the evidence stored, the debtor and finance told, the notice PDF queued."""
    require(actor, "recovery.record", message="Only a programme officer may record a breach.")
    kind = _kind(source_type)
    kind.lock(source_id)  # one order at a time per grant: the next one sees this one's claim
    obligation = next((o for o in kind.obligations(source_id) if o.code == obligation_code), None)
    errors: dict = {}
    if obligation is None:
        errors["obligation"] = N_("Choose one of the grant's obligations.")
    if breach_on is None:
        errors["breach_on"] = N_("Give the day of the breach.")
    elif breach_on > today:
        errors["breach_on"] = N_("The breach cannot be in the future.")
    elif obligation is not None and obligation.starts_on and breach_on < obligation.starts_on:
        errors["breach_on"] = N_("The breach cannot be before the obligation started.")
    days = DEFAULT_DEADLINE_WORKING_DAYS if deadline_working_days is None else deadline_working_days
    if not DEADLINE_MIN <= days <= DEADLINE_MAX:
        errors["deadline_working_days"] = N_("Between 1 and 60 working days.")
    text = (reason or "").strip()
    if not text:
        errors["reason"] = N_("Say what the breach is.")
    elif len(text) > REASON_MAX:
        errors["reason"] = N_("At most 2000 characters.")
    if evidence is None or not getattr(evidence, "filename", None):
        errors["evidence"] = N_("Attach the evidence of the breach (PDF, JPEG or PNG).")
    if errors:
        first = next(iter(errors))
        err = ValidationFailed(errors[first], field=first)
        err.fields.update({k: v for k, v in errors.items()})
        raise err
    result = work_out(source_type, source_id, obligation, method, breach_on)
    if result.amount <= 0:
        raise ValidationFailed("Nothing is left to recover for this breach.", field="breach_on")
    from flask import current_app

    order = RecoveryOrder(
        source_type=source_type, source_id=source_id, programme_id=_programme_of(source_type, source_id),
        enterprise_id=_enterprise_of(source_type, source_id), debtor_id=obligation.debtor_id,
        application_number=_number(source_type, source_id), obligation=obligation.code,
        obligation_starts_on=obligation.starts_on, obligation_ends_on=obligation.ends_on, breach_on=breach_on,
        reason=text, evidence_file_id=0, method=method, recoverable=result.recoverable, amount=result.amount,
        settled_amount=Decimal("0.00"), working=[_step_dict(s) for s in result.steps],
        deadline_working_days=days, due_on=add_working_days(today, days), status="open",
        created_by=actor.user_id, created_at=utcnow())
    stored = save_upload(actor, evidence.stream, evidence.filename, max_bytes=current_app.config["UPLOAD_MAX_BYTES"],
                         owner_type="recovery_order", owner_id=None, purpose="breach_evidence", field="evidence")
    order.evidence_file_id = stored.id
    db.session.add(order)
    db.session.flush()
    stored.owner_id = order.id
    record_event(actor, "recovery_order.created", "recovery_order", order.id,
                 after={"status": "open", "source": f"{source_type}:{source_id}", "obligation": obligation.code,
                        "breach_on": breach_on.isoformat(), "method": method, "amount": order.amount,
                        "due_on": order.due_on.isoformat(), "evidence_file_id": stored.id}, reason=text)
    notify_organisation(order.debtor_id, N_("A recovery order %(reference)s of %(amount)s was issued for grant "
                                            "%(number)s; pay it back by %(due)s."),
                        f"/recovery/{order.id}", reference=order.reference, amount=format_money(order.amount),
                        number=order.application_number or "", due=order.due_on.isoformat())
    notify_role("finance", N_("A recovery order %(reference)s of %(amount)s awaits repayment."),
                f"/recovery/{order.id}", reference=order.reference, amount=format_money(order.amount))
    _queue_notice(actor, order)
    return order


def _queue_notice(actor: Actor, order: RecoveryOrder) -> None:
    """Queue the signed notice PDF (追回通知书) for the debtor; a queue that cannot take it now leaves the
    order standing (the officer may request the notice again from its page)."""
    from voucher.documents.services import request_document

    request_document(actor, "recovery_notice", "recovery_order", order.id, lang="zh")


def _step_dict(s) -> dict:
    d = asdict(s)
    d["values"] = dict(s.values)
    return d


def _ledger_origin(source_type: str, source_id: int):
    from voucher.programmes.models import FundLedgerEntry

    origin = db.session.scalar(select(FundLedgerEntry).where(
        FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id,
        FundLedgerEntry.kind == "reserve").order_by(FundLedgerEntry.seq).limit(1))
    if origin is None:
        raise ValidationFailed("Nothing was reserved or paid for this grant.", field="method")
    return origin


def _programme_of(source_type: str, source_id: int) -> int:
    return _ledger_origin(source_type, source_id).programme_id


def _enterprise_of(source_type: str, source_id: int) -> int:
    return _ledger_origin(source_type, source_id).enterprise_id


def _number(source_type: str, source_id: int) -> str | None:
    from voucher.appnumbers import number_of

    return number_of(source_type, source_id)


def get_order(actor: Actor, order_id: int) -> RecoveryOrder:
    order = db.session.get(RecoveryOrder, order_id)
    if order is None:
        raise NotFound("No such recovery order.")
    require(actor, "recovery.read", order, message="You may not see this recovery order.")
    return order


def _locked(order_id: int) -> RecoveryOrder:
    order = db.session.scalar(select(RecoveryOrder).where(RecoveryOrder.id == order_id).with_for_update()
                              .execution_options(populate_existing=True))
    if order is None:
        raise NotFound("No such recovery order.")
    return order


def parse_amount(raw: str | None, field: str = "amount") -> Decimal:
    text = (raw or "").strip().replace(",", "")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Enter an amount in yuan, e.g. 1234.56.", field=field) from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed("The amount must be a positive sum in yuan with at most two decimals.", field=field)
    return value


def record_repayment(actor: Actor, order_id: int, *, amount: Decimal, paid_on: date | None, bank_reference: str | None,
                     today: date) -> RecoverySettlement:
    """Finance records a repayment from the bank statement: the ledger's ``recover`` entry brings the
    money back to the fund; the order becomes partly settled or settled."""
    require(actor, "recovery.settle", message="Only finance may record a repayment.")
    order = _locked(order_id)  # lock order: the recovery order, then the programme (inside the ledger)
    if order.status not in ("open", "partly_settled"):
        raise Conflict("This recovery order is %(state)s: nothing more can be repaid.", state=order.status)
    errors: dict = {}
    if paid_on is None:
        errors["paid_on"] = N_("Give the day of the credit on the bank statement.")
    elif paid_on > today:
        errors["paid_on"] = N_("The day of the credit cannot be in the future.")
    reference = (bank_reference or "").strip()
    if not reference:
        errors["bank_reference"] = N_("Give the bank's reference of the credit.")
    elif len(reference) > BANK_REFERENCE_MAX:
        errors["bank_reference"] = N_("At most 60 characters.")
    if errors:
        first = next(iter(errors))
        err = ValidationFailed(errors[first], field=first)
        err.fields.update(errors)
        raise err
    owed = open_to_offset(order)  # an offset under way holds its part of the outstanding amount
    if amount > owed:
        raise ValidationFailed("At most the outstanding %(outstanding)s of this order can be repaid; %(amount)s was "
                               "entered.", field="amount", outstanding=format_money(owed),
                               amount=format_money(amount))
    if db.session.scalar(select(RecoverySettlement.id).where(RecoverySettlement.bank_reference == reference)):
        raise Conflict("The bank reference %(reference)s is already recorded.", reference=reference)
    entry = ledger.recover(actor, order.source_type, order.source_id, amount,
                           note=f"{order.reference} {reference}")
    settlement = RecoverySettlement(order_id=order.id, kind="repayment", amount=amount, paid_on=paid_on,
                                    bank_reference=reference, ledger_entry_id=entry.id, recorded_by=actor.user_id,
                                    recorded_at=utcnow())
    db.session.add(settlement)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("The bank reference %(reference)s is already recorded.", reference=reference) from None
    order.settled_amount = order.settled_amount + amount
    action = "settle" if order.settled_amount == order.amount else "settle_part"
    MACHINE.apply(order, action, actor, details={"repaid": amount, "settled_amount": order.settled_amount,
                                                 "bank_reference": reference, "paid_on": paid_on.isoformat(),
                                                 "ledger_entry_id": entry.id})
    if order.status == "settled":
        notify_organisation(order.debtor_id, N_("The recovery order %(reference)s is settled."),
                            f"/recovery/{order.id}", reference=order.reference)
    return settlement


def cancel(actor: Actor, order_id: int, reason: str | None) -> RecoveryOrder:
    """An officer cancels an open order (recorded in error, a breach disproved), with a reason."""
    require(actor, "recovery.record", message="Only a programme officer may cancel a recovery order.")
    order = _locked(order_id)
    text = _text(reason, "reason", "Say why the order is cancelled.")
    if pending_offset(order.id) > 0:
        raise Conflict("A payment to the debtor under way offsets part of this order; it cannot be cancelled "
                       "until that payment is paid, rejected or failed.")
    MACHINE.apply(order, "cancel", actor, reason=text)
    order.cancelled_by = actor.user_id
    order.cancelled_at = utcnow()
    order.cancel_reason = text
    db.session.flush()
    notify_organisation(order.debtor_id, N_("The recovery order %(reference)s was cancelled. Reason: %(reason)s"),
                        f"/recovery/{order.id}", reference=order.reference, reason=text)
    return order


# --- offset (抵扣) against the debtor's later payments ------------------------------------------

def pending_offset(order_id: int) -> Decimal:
    """What disbursements under way hold of an order (their pending offsets)."""
    rows = db.session.scalars(select(RecoveryOffset.amount).where(RecoveryOffset.order_id == order_id,
                                                                  RecoveryOffset.status == "pending"))
    return sum(rows, ZERO)


def open_to_offset(order: RecoveryOrder) -> Decimal:
    """What an order still owes that no pending offset holds (repaid or offset next)."""
    return max(order.outstanding - pending_offset(order.id), ZERO)


def offsets_of(disbursement_id: int) -> list[RecoveryOffset]:
    return list(db.session.scalars(select(RecoveryOffset).where(RecoveryOffset.disbursement_id == disbursement_id)
                                   .order_by(RecoveryOffset.order_id)))


def offsets_of_order(order_id: int) -> list[RecoveryOffset]:
    return list(db.session.scalars(select(RecoveryOffset).where(RecoveryOffset.order_id == order_id)
                                   .order_by(RecoveryOffset.id)))


def live_offsets_of(disbursement_id: int) -> list[RecoveryOffset]:
    """The offsets a disbursement's payment order shows (not the released ones)."""
    return [o for o in offsets_of(disbursement_id) if o.status != "released"]


def _lock_orders(ids) -> dict[int, RecoveryOrder]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = db.session.scalars(select(RecoveryOrder).where(RecoveryOrder.id.in_(ids)).order_by(RecoveryOrder.id)
                              .with_for_update().execution_options(populate_existing=True))
    return {o.id: o for o in rows}


def reserve_offsets(actor: Actor, disbursement_id: int, debtor_id: int, amount: Decimal, *,
                    carried_from: int | None = None) -> Decimal:
    """Net a disbursement of ``amount`` to ``debtor_id`` against the debtor's open recovery orders
    (see the module's rules); returns the total offset (0 when nothing is owed).

    ``carried_from``: a returned (退汇) disbursement of the same item, whose offsets are repeated first
    as ``carried`` (settled already).  The orders' rows are locked in id order, then the rest of the
    amount is taken from the oldest order first."""
    taken = ZERO
    if carried_from is not None:
        for old in offsets_of(carried_from):
            if old.status in ("settled", "carried") and taken + old.amount <= amount:
                db.session.add(RecoveryOffset(order_id=old.order_id, disbursement_id=disbursement_id,
                                              amount=old.amount, status="carried", created_at=utcnow()))
                taken += old.amount
    candidates = db.session.scalars(select(RecoveryOrder.id).where(
        RecoveryOrder.debtor_id == debtor_id, RecoveryOrder.status.in_(("open", "partly_settled")))
        .order_by(RecoveryOrder.id)).all()
    orders = _lock_orders(candidates)
    reserved = []
    for order_id in sorted(orders):
        order = orders[order_id]
        left = amount - taken
        if left <= 0:
            break
        if order.status not in ("open", "partly_settled"):
            continue  # settled or cancelled while we waited for its lock
        part = min(open_to_offset(order), left)
        if part <= 0:
            continue
        db.session.add(RecoveryOffset(order_id=order.id, disbursement_id=disbursement_id, amount=part,
                                      status="pending", created_at=utcnow()))
        taken += part
        reserved.append((order, part))
    db.session.flush()
    for order, part in reserved:
        record_event(actor, "recovery_order.offset_reserved", "recovery_order", order.id,
                     after={"disbursement_id": disbursement_id, "offset": part, "outstanding": order.outstanding})
    return taken


def lock_offsets(disbursement_id: int) -> list[RecoveryOffset]:
    """Lock the recovery orders a disbursement's pending offsets settle (the payments domain calls
    this right after locking the disbursement's row, before the ledger)."""
    links = [o for o in offsets_of(disbursement_id) if o.status == "pending"]
    _lock_orders(o.order_id for o in links)
    return links


def settle_offsets(actor: Actor, disbursement_id: int, disbursement_reference: str, paid_on: date) -> Decimal:
    """The disbursement is paid: each pending offset becomes a settlement of kind ``offset`` with
    its ledger ``recover`` entry, and the order moves to partly settled or settled (audited)."""
    total = ZERO
    for link in lock_offsets(disbursement_id):
        order = _locked(link.order_id)
        if link.amount > order.outstanding:  # the locks and the repayment's limit make this unreachable
            raise Conflict("The recovery order %(reference)s owes less than the offset; the payment cannot be "
                           "recorded.", reference=order.reference)
        entry = ledger.recover(actor, order.source_type, order.source_id, link.amount,
                               note=f"{order.reference} offset {disbursement_reference}")
        settlement = RecoverySettlement(order_id=order.id, kind="offset", amount=link.amount, paid_on=paid_on,
                                        bank_reference=None, disbursement_id=disbursement_id,
                                        disbursement_reference=disbursement_reference, ledger_entry_id=entry.id,
                                        recorded_by=actor.user_id, recorded_at=utcnow())
        db.session.add(settlement)
        db.session.flush()
        link.status = "settled"
        link.settlement_id = settlement.id
        order.settled_amount = order.settled_amount + link.amount
        action = "offset" if order.settled_amount == order.amount else "offset_part"
        MACHINE.apply(order, action, actor, details={"offset": link.amount, "settled_amount": order.settled_amount,
                                                     "disbursement_id": disbursement_id,
                                                     "disbursement": disbursement_reference,
                                                     "paid_on": paid_on.isoformat(), "ledger_entry_id": entry.id})
        if order.status == "settled":
            notify_organisation(order.debtor_id, N_("The recovery order %(reference)s is settled."),
                                f"/recovery/{order.id}", reference=order.reference)
        total += link.amount
    return total


def release_offsets(actor: Actor, disbursement_id: int, reason: str) -> Decimal:
    """The disbursement was rejected or failed before being paid: its pending offsets are released
    (nothing was recorded against the orders); audited on each order."""
    total = ZERO
    for link in lock_offsets(disbursement_id):
        link.status = "released"
        total += link.amount
        record_event(actor, "recovery_order.offset_released", "recovery_order", link.order_id,
                     after={"disbursement_id": disbursement_id, "offset": link.amount}, reason=reason)
    db.session.flush()
    return total
