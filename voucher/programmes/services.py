"""Programme rules and the fund ledger.

Ledger rule: every reservation, release and payment is an appended entry; balances are
read from the ledger (the latest entry's running totals, which equal a recomputation from
all entries).  The fund is never over-committed: a writer locks the programme row
(``SELECT ... FOR UPDATE`` on PostgreSQL), checks the budget and the caps against the
ledger, and appends; the ledger's unique sequence and CHECK constraints refuse whatever
slipped past the code.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select

from voucher.audit.services import Actor, record_event
from voucher.errors import BudgetExhausted, NotFound, OverCap, ValidationFailed
from voucher.extensions import db
from voucher.money import format_money
from voucher.programmes.models import FUNDING_KIND_CODES, FundLedgerEntry, Programme

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class FundBalances:
    budget: Decimal
    reserved: Decimal
    paid: Decimal

    @property
    def committed(self) -> Decimal:
        return self.reserved + self.paid

    @property
    def available(self) -> Decimal:
        return self.budget - self.reserved - self.paid


def get_programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("No such programme.")
    return programme


def lock_programme(programme_id: int) -> Programme:
    """Take the programme's row lock for the rest of the transaction (serialises ledger writers)."""
    programme = db.session.scalar(
        select(Programme).where(Programme.id == programme_id).with_for_update()
        .execution_options(populate_existing=True))
    if programme is None:
        raise NotFound("No such programme.")
    return programme


def _last(*conditions) -> FundLedgerEntry | None:
    return db.session.scalar(select(FundLedgerEntry).where(*conditions)
                             .order_by(FundLedgerEntry.programme_id, FundLedgerEntry.seq.desc()).limit(1))


def balances(programme: Programme) -> FundBalances:
    """Budget, reserved, paid (available derived) from the ledger's latest entry."""
    last = _last(FundLedgerEntry.programme_id == programme.id)
    if last is None:
        return FundBalances(programme.budget, ZERO, ZERO)
    return FundBalances(programme.budget, last.reserved_after, last.paid_after)


def recomputed_balances(programme: Programme) -> FundBalances:
    """The same figures summed from every entry: a cross-check of the running totals."""
    # Money is stored as integer fen: sum the raw column, convert once.  A reserve adds to
    # "reserved"; a release and a pay both take from it; a pay adds to "paid".
    c = FundLedgerEntry.__table__.c
    row = db.session.execute(
        select(func.coalesce(func.sum(case((c.kind == "reserve", c.amount), else_=-c.amount)), 0),
               func.coalesce(func.sum(case((c.kind == "pay", c.amount), else_=0)), 0))
        .where(c.programme_id == programme.id)).one()
    return FundBalances(programme.budget, _fen(row[0]), _fen(row[1]))


def _fen(value) -> Decimal:
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def enterprise_committed(programme_id: int, enterprise_id: int, funding_kind: str) -> Decimal:
    """Quota use: reserved + paid over the enterprise's grants of this kind in the programme."""
    last = _last(FundLedgerEntry.programme_id == programme_id, FundLedgerEntry.enterprise_id == enterprise_id,
                 FundLedgerEntry.funding_kind == funding_kind)
    return last.enterprise_committed_after if last else ZERO


def provider_committed(programme_id: int, provider_id: int) -> Decimal:
    last = _last(FundLedgerEntry.programme_id == programme_id, FundLedgerEntry.provider_id == provider_id,
                 FundLedgerEntry.funding_kind == "trial_voucher")
    return (last.provider_committed_after or ZERO) if last else ZERO


def source_outstanding(source_type: str, source_id: int) -> Decimal:
    """What is still reserved (not yet paid or released) for one grant."""
    last = db.session.scalar(select(FundLedgerEntry).where(FundLedgerEntry.source_type == source_type,
                                                           FundLedgerEntry.source_id == source_id)
                             .order_by(FundLedgerEntry.seq.desc()).limit(1))
    return last.source_outstanding_after if last else ZERO


def source_paid(source_type: str, source_id: int) -> Decimal:
    fen = db.session.scalar(select(func.coalesce(func.sum(FundLedgerEntry.__table__.c.amount), 0))
                            .where(FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id,
                                   FundLedgerEntry.kind == "pay"))
    return _fen(fen)


def enterprise_cap_for(programme: Programme, funding_kind: str) -> Decimal | None:
    return {"trial_voucher": programme.trial_cap_per_enterprise,
            "robot_subsidy": programme.robot_enterprise_cap}.get(funding_kind)


def _check_amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed("The amount must be a positive sum in yuan with at most two decimals.", field="amount")
    return amount


def _append(actor: Actor, programme: Programme, kind: str, *, funding_kind: str, amount: Decimal,
            enterprise_id: int, provider_id: int | None, source_type: str, source_id: int,
            milestone: str | None, note: str | None, enterprise_cap: Decimal | None,
            provider_cap: Decimal | None) -> FundLedgerEntry:
    last = _last(FundLedgerEntry.programme_id == programme.id)
    reserved = last.reserved_after if last else ZERO
    paid = last.paid_after if last else ZERO
    ent = enterprise_committed(programme.id, enterprise_id, funding_kind)
    prov = provider_committed(programme.id, provider_id) if provider_id and funding_kind == "trial_voucher" else None
    outstanding = source_outstanding(source_type, source_id)
    if kind == "reserve":
        reserved, ent, outstanding = reserved + amount, ent + amount, outstanding + amount
        prov = prov + amount if prov is not None else None
    elif kind == "release":
        reserved, ent, outstanding = reserved - amount, ent - amount, outstanding - amount
        prov = prov - amount if prov is not None else None
    else:  # pay: from reserved to paid; commitments unchanged
        reserved, paid, outstanding = reserved - amount, paid + amount, outstanding - amount
    entry = FundLedgerEntry(
        programme_id=programme.id, seq=(last.seq + 1) if last else 1, kind=kind, funding_kind=funding_kind,
        amount=amount, enterprise_id=enterprise_id, provider_id=provider_id, source_type=source_type,
        source_id=source_id, milestone=milestone, note=note, actor_id=actor.user_id,
        budget_at_entry=programme.budget, reserved_after=reserved, paid_after=paid,
        enterprise_committed_after=ent, enterprise_cap=enterprise_cap, provider_committed_after=prov,
        provider_cap=provider_cap, source_outstanding_after=outstanding)
    db.session.add(entry)
    db.session.flush()
    record_event(actor, f"ledger.{kind}", "fund_ledger_entry", entry.id,
                 after={"programme_id": programme.id, "funding_kind": funding_kind, "amount": amount,
                        "source": f"{source_type}:{source_id}", "milestone": milestone,
                        "reserved_after": reserved, "paid_after": paid})
    return entry


def reserve(actor: Actor, programme_id: int, *, funding_kind: str, amount: Decimal, enterprise_id: int,
            source_type: str, source_id: int, provider_id: int | None = None,
            note: str | None = None) -> FundLedgerEntry:
    """Reserve ``amount`` for one grant.

    Rule: refused (with the figures) when the programme's available budget is short, when the
    enterprise's committed amount of this kind plus the request exceeds its cap (trial
    vouchers 200,000 and robot subsidies 2,000,000 by default), or when a provider's committed
    trial amounts would exceed the provider cap (5,000,000 by default).  Check and append
    happen under the programme's row lock.
    """
    if funding_kind not in FUNDING_KIND_CODES:
        raise ValidationFailed("Unknown funding kind.", field="funding_kind")
    amount = _check_amount(amount)
    programme = lock_programme(programme_id)
    bal = balances(programme)
    if amount > bal.available:
        raise BudgetExhausted(
            "The programme's available budget is %(available)s, less than the %(requested)s requested "
            "(budget %(budget)s, reserved %(reserved)s, paid %(paid)s).", field="amount",
            available=format_money(bal.available), requested=format_money(amount), budget=format_money(bal.budget),
            reserved=format_money(bal.reserved), paid=format_money(bal.paid))
    cap = enterprise_cap_for(programme, funding_kind)
    if cap is not None:
        used = enterprise_committed(programme.id, enterprise_id, funding_kind)
        if used + amount > cap:
            raise OverCap(
                "Over the enterprise's limit of %(cap)s in this programme: %(used)s is already used, "
                "%(remaining)s remains, %(requested)s was requested.", field="amount",
                cap=format_money(cap), used=format_money(used), remaining=format_money(max(cap - used, ZERO)),
                requested=format_money(amount))
    provider_cap = None
    if funding_kind == "trial_voucher" and provider_id is not None:
        provider_cap = programme.provider_cap
        used = provider_committed(programme.id, provider_id)
        if used + amount > provider_cap:
            raise OverCap(
                "Over the provider's limit of %(cap)s in this programme: %(used)s is already committed, "
                "%(remaining)s remains, %(requested)s was requested.", field="amount",
                cap=format_money(provider_cap), used=format_money(used),
                remaining=format_money(max(provider_cap - used, ZERO)), requested=format_money(amount))
    return _append(actor, programme, "reserve", funding_kind=funding_kind, amount=amount, enterprise_id=enterprise_id,
                   provider_id=provider_id, source_type=source_type, source_id=source_id, milestone=None, note=note,
                   enterprise_cap=cap, provider_cap=provider_cap)


def _source_entry(source_type: str, source_id: int) -> FundLedgerEntry:
    first = db.session.scalar(select(FundLedgerEntry).where(FundLedgerEntry.source_type == source_type,
                                                            FundLedgerEntry.source_id == source_id,
                                                            FundLedgerEntry.kind == "reserve")
                              .order_by(FundLedgerEntry.seq).limit(1))
    if first is None:
        raise ValidationFailed("Nothing is reserved for this grant.")
    return first


def release(actor: Actor, source_type: str, source_id: int, amount: Decimal | None = None,
            note: str | None = None) -> FundLedgerEntry | None:
    """Give back to the fund what is still reserved for a grant (all of it by default).

    Rule: never more than the grant's outstanding reservation; nothing outstanding → no entry.
    """
    origin = _source_entry(source_type, source_id)
    programme = lock_programme(origin.programme_id)
    outstanding = source_outstanding(source_type, source_id)
    amount = outstanding if amount is None else _check_amount(amount)
    if amount == 0:
        return None
    if amount > outstanding:
        raise ValidationFailed("Only %(outstanding)s is still reserved for this grant.", field="amount",
                               outstanding=format_money(outstanding))
    return _append(actor, programme, "release", funding_kind=origin.funding_kind, amount=amount,
                   enterprise_id=origin.enterprise_id, provider_id=origin.provider_id, source_type=source_type,
                   source_id=source_id, milestone=None, note=note, enterprise_cap=None, provider_cap=None)


def pay(actor: Actor, source_type: str, source_id: int, amount: Decimal, milestone: str,
        note: str | None = None) -> FundLedgerEntry:
    """Move ``amount`` of a grant from reserved to paid.

    Rule: a payment never exceeds what is still reserved for the grant.
    """
    amount = _check_amount(amount)
    origin = _source_entry(source_type, source_id)
    programme = lock_programme(origin.programme_id)
    outstanding = source_outstanding(source_type, source_id)
    if amount > outstanding:
        raise ValidationFailed("Only %(outstanding)s is still reserved for this grant.", field="amount",
                               outstanding=format_money(outstanding))
    return _append(actor, programme, "pay", funding_kind=origin.funding_kind, amount=amount,
                   enterprise_id=origin.enterprise_id, provider_id=origin.provider_id, source_type=source_type,
                   source_id=source_id, milestone=milestone, note=note, enterprise_cap=None, provider_cap=None)
