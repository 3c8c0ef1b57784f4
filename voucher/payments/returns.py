"""Returned payments (退汇): a paid line the bank sends back (closed account, wrong name).

The return reopens the item: the fund ledger records a ``return`` (paid back to reserved for the
grant), the disbursement goes from ``paid`` to ``returned`` (not a live state, so the item is back
in the finance queue) and the payee is told to check their bank details.  Paying again is a **new**
disbursement, with the payee's bank details as they are then and a new maker-checker approval; the
same name, account and bank code as the returned payment are refused unless the finance officer
confirms them (``check_same_account``).

Lock order as in ``voucher.payments.services``: the disbursement row, then the ledger (the
programme row), then the state change and its audit event.  Two officers recording the same return
at once queue on the disbursement's row lock; the second sees ``returned`` and is refused.

A payment netted against recovery orders (抵扣): the return concerns the transfer only.  The ledger
returns the whole payment (the item is paid again in full), the offsets stay settled (the recovered
money was netted, never sent), and the item's next disbursement carries them (``carried``), so it
transfers the same net amount and nothing is recovered twice.
"""
from __future__ import annotations

from sqlalchemy import select

from voucher.audit.services import Actor
from voucher.db import utcnow
from voucher.errors import N_, Conflict, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.money import format_money
from voucher.notifications.services import notify_organisation
from voucher.payments.models import Disbursement
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry

RETURN_REASON_MAX = 2000
REFERENCE_MAX = 100


def record_return(actor: Actor, disbursement_id: int, reason: str | None,
                  bank_reference: str | None = None) -> Disbursement:
    """Record that the bank returned a paid line (退汇).

    Rule: finance officers only; only a ``paid`` line, once; the reason is required (at most
    2,000 characters, stored as text); the bank's reference for the return is optional (at most
    100 characters).  The ledger's ``return`` entry comes first, then the transition (with its
    audit event), then the payee's notification.
    """
    from voucher.payments import services

    services._ensure_finance(actor)
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("Enter the bank's reason for the return.", field="reason")
    if len(text) > RETURN_REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=RETURN_REASON_MAX)
    ref = (bank_reference or "").strip() or None
    if ref is not None and len(ref) > REFERENCE_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="bank_reference", max=REFERENCE_MAX)
    d = services._locked(disbursement_id)
    if d.status != "paid":
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action="mark_returned", state=d.status)
    payment = db.session.get(FundLedgerEntry, d.ledger_entry_id)
    if payment is None or payment.kind != "pay":  # the CHECK paid_has_reference makes this unreachable
        raise Conflict("%(reference)s has no payment in the fund ledger.", reference=d.reference)
    entry = ledger.return_payment(actor, payment, note=f"{d.reference} returned {ref or ''}".strip()[:500])
    d.return_reason = text
    d.return_bank_reference = ref
    d.returned_by = actor.user_id
    d.returned_at = utcnow()
    d.return_ledger_entry_id = entry.id
    services.DISBURSEMENT_MACHINE.apply(d, "mark_returned", actor, reason=text,
                                        details={"amount": d.amount, "bank_reference": d.bank_reference,
                                                 "return_bank_reference": ref, "ledger_entry_id": entry.id})
    notify_organisation(d.payee_id, N_("%(amount)s paid to your account %(account)s (%(reference)s) was returned by "
                                       "the bank: check your bank details."),
                        services.disbursement_link(d.id), amount=format_money(d.transfer_amount),
                        account=d.bank_account,
                        reference=d.reference, application_number=services._number(d))
    db.session.flush()
    return d


def _same_account(a: Disbursement, b: Disbursement) -> bool:
    def norm(value):
        return " ".join((value or "").split()).casefold()

    return (norm(a.payee_name) == norm(b.payee_name) and norm(a.bank_account).replace(" ", "")
            == norm(b.bank_account).replace(" ", "") and norm(a.bank_code) == norm(b.bank_code))


def last_returned(source_type: str, source_id: int, milestone: str) -> Disbursement | None:
    return db.session.scalar(select(Disbursement).where(
        Disbursement.source_type == source_type, Disbursement.source_id == source_id,
        Disbursement.milestone == milestone, Disbursement.status == "returned").order_by(Disbursement.id.desc()).limit(1))


def check_same_account(d: Disbursement, confirmed: bool) -> None:
    """Refuse paying again to the account the bank returned the payment from, unless confirmed."""
    returned = last_returned(d.source_type, d.source_id, d.milestone)
    if returned is not None and _same_account(d, returned) and not confirmed:
        raise Conflict("The payee's name, account and bank code are the same as those of %(reference)s, which the "
                       "bank returned. Ask the payee to correct their bank details, or confirm that this account is "
                       "to be paid again.", field="confirm_same_account", reference=returned.reference)


def successor(d: Disbursement) -> Disbursement | None:
    """The newest later disbursement of the same item (a returned or failed one is superseded by it)."""
    return db.session.scalar(select(Disbursement).where(
        Disbursement.source_type == d.source_type, Disbursement.source_id == d.source_id,
        Disbursement.milestone == d.milestone, Disbursement.id > d.id).order_by(Disbursement.id.desc()).limit(1))


def order_state(d: Disbursement) -> tuple[str, Disbursement | None]:
    """What a payment order's verification page says of its disbursement: ``paid``, ``returned``,
    ``superseded`` (a later disbursement of the same item exists: named) or its state under way."""
    newer = successor(d) if d.status in ("returned", "failed", "rejected") else None
    if newer is not None:
        return "superseded", newer
    return d.status, None
