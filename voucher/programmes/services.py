"""Programme rules and the fund ledger.

Ledger rule: every reservation, release and payment is an appended entry; balances are
read from the ledger (the latest entry's running totals, which equal a recomputation from
all entries).  The fund is never over-committed: a writer locks the programme row
(``SELECT ... FOR UPDATE`` on PostgreSQL), checks the budget and the caps against the
ledger, and appends; the ledger's unique sequence and CHECK constraints refuse whatever
slipped past the code.

Over 600 lines, on purpose: the ledger, the programme form's checks and the re-export of the
rule-version services (written apart in ``rule_versions.py``) are the one services module the other
domains call for a programme.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, case, func, select, type_coerce

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.errors import N_, BudgetExhausted, NotFound, OverCap, ValidationFailed
from voucher.extensions import db
from voucher.money import format_money
from voucher.programmes.models import FUNDING_KIND_CODES, FundLedgerEntry, Programme, paid_delta, reserved_delta

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
    return _balances_after(programme, _last(FundLedgerEntry.programme_id == programme.id))


def _balances_after(programme: Programme, last: FundLedgerEntry | None) -> FundBalances:
    if last is None:
        return FundBalances(programme.budget, ZERO, ZERO)
    return FundBalances(programme.budget, last.reserved_after, last.paid_after)


def recomputed_balances(programme: Programme) -> FundBalances:
    """The same figures summed from every entry: a cross-check of the running totals."""
    # Money is stored as integer fen: sum the raw column, convert once.  A reserve adds to
    # "reserved"; a release and a pay both take from it; a pay adds to "paid"; a return (退汇)
    # moves a payment back from "paid" to "reserved".
    c = FundLedgerEntry.__table__.c
    fen = type_coerce(c.amount, BigInteger)  # the raw integer: the Money type would convert to yuan first
    row = db.session.execute(
        select(func.coalesce(func.sum(reserved_delta(c.kind, fen)), 0),
               func.coalesce(func.sum(paid_delta(c.kind, fen)), 0))
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
    """What was paid for one grant, net of payments the bank returned."""
    raw = type_coerce(FundLedgerEntry.__table__.c.amount, BigInteger)  # integer fen, not Money's yuan
    fen = db.session.scalar(select(func.coalesce(func.sum(paid_delta(FundLedgerEntry.kind, raw)), 0))
                            .where(FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id,
                                   FundLedgerEntry.kind.in_(("pay", "return"))))
    return _fen(fen)


def paid_milestones(source_type: str, source_ids) -> set[tuple[int, str]]:
    """(source_id, milestone) of the grants' milestones that stand paid: more payments than returns
    (退汇) of the milestone in the ledger."""
    ids = list(source_ids)
    if not ids:
        return set()
    c = FundLedgerEntry.__table__.c
    net = func.sum(case((c.kind == "pay", 1), else_=-1))
    rows = db.session.execute(select(c.source_id, c.milestone).where(
        c.source_type == source_type, c.source_id.in_(ids), c.kind.in_(("pay", "return")))
        .group_by(c.source_id, c.milestone).having(net > 0)).tuples()
    return set(rows)


def enterprise_cap_for(parameters: dict, funding_kind: str) -> Decimal | None:
    """The enterprise cap of a funding kind in a rule version's parameters (none for loans)."""
    return {"trial_voucher": parameters["trial_cap_per_enterprise"],
            "robot_subsidy": parameters["robot_enterprise_cap"]}.get(funding_kind)


def _check_amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed("The amount must be a positive sum in yuan with at most two decimals.", field="amount")
    return amount


def _append(actor: Actor, programme: Programme, kind: str, *, funding_kind: str, amount: Decimal,
            enterprise_id: int, provider_id: int | None, source_type: str, source_id: int,
            milestone: str | None, note: str | None, enterprise_cap: Decimal | None,
            provider_cap: Decimal | None, known: dict | None = None) -> FundLedgerEntry:
    # ``known``: running totals the caller already read under the programme's lock in this
    # transaction (``reserve``'s checks): not read twice while every other writer waits for the lock.
    known = known or {}
    last = known["last"] if "last" in known else _last(FundLedgerEntry.programme_id == programme.id)
    reserved = last.reserved_after if last else ZERO
    paid = last.paid_after if last else ZERO
    ent = known["ent"] if "ent" in known else enterprise_committed(programme.id, enterprise_id, funding_kind)
    if provider_id and funding_kind == "trial_voucher":
        prov = known["prov"] if "prov" in known else provider_committed(programme.id, provider_id)
    else:
        prov = None
    outstanding = source_outstanding(source_type, source_id)
    if kind == "reserve":
        reserved, ent, outstanding = reserved + amount, ent + amount, outstanding + amount
        prov = prov + amount if prov is not None else None
    elif kind == "release":
        reserved, ent, outstanding = reserved - amount, ent - amount, outstanding - amount
        prov = prov - amount if prov is not None else None
    elif kind == "return":  # 退汇: from paid back to reserved; commitments unchanged
        reserved, paid, outstanding = reserved + amount, paid - amount, outstanding + amount
    elif kind == "recover":  # 追回: paid back to the fund (available again); reserved and commitments unchanged
        paid = paid - amount
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
            note: str | None = None, rule_version=None) -> FundLedgerEntry:
    """Reserve ``amount`` for one grant.

    The caps are those of ``rule_version`` (the decision's version), else of the version in force today.

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
    last = _last(FundLedgerEntry.programme_id == programme.id)
    known: dict = {"last": last}
    bal = _balances_after(programme, last)
    if amount > bal.available:
        raise BudgetExhausted(
            "The programme's available budget is %(available)s, less than the %(requested)s requested "
            "(budget %(budget)s, reserved %(reserved)s, paid %(paid)s).", field="amount",
            available=format_money(bal.available), requested=format_money(amount), budget=format_money(bal.budget),
            reserved=format_money(bal.reserved), paid=format_money(bal.paid))
    if rule_version is None:
        from voucher.programmes.queries import local_today

        rule_version = version_in_force(programme.id, local_today())
    parameters = parse_parameters(rule_version.parameters)
    cap = enterprise_cap_for(parameters, funding_kind)
    if cap is not None:
        used = known["ent"] = enterprise_committed(programme.id, enterprise_id, funding_kind)
        if used + amount > cap:
            raise OverCap(
                "Over the enterprise's cap of %(cap)s in this programme: %(used)s is already used, "
                "%(remaining)s remains, %(requested)s was requested.", field="amount",
                cap=format_money(cap), used=format_money(used), remaining=format_money(max(cap - used, ZERO)),
                requested=format_money(amount))
    provider_cap = None
    if funding_kind == "trial_voucher" and provider_id is not None:
        provider_cap = parameters["provider_cap"]
        used = known["prov"] = provider_committed(programme.id, provider_id)
        if used + amount > provider_cap:
            raise OverCap(
                "Over the provider's limit of %(cap)s in this programme: %(used)s is already committed, "
                "%(remaining)s remains, %(requested)s was requested.", field="amount",
                cap=format_money(provider_cap), used=format_money(used),
                remaining=format_money(max(provider_cap - used, ZERO)), requested=format_money(amount))
    return _append(actor, programme, "reserve", funding_kind=funding_kind, amount=amount, enterprise_id=enterprise_id,
                   provider_id=provider_id, source_type=source_type, source_id=source_id, milestone=None, note=note,
                   enterprise_cap=cap, provider_cap=provider_cap, known=known)


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


def return_payment(actor: Actor, payment: FundLedgerEntry, note: str | None = None) -> FundLedgerEntry:
    """Record that the bank returned a payment (退汇): its amount goes from paid back to reserved
    for the grant, so the item can be paid again.

    Rule: only a ``pay`` entry; never more than the grant has paid (net of earlier returns), under
    the programme's lock like :func:`pay`.  The caller makes sure one payment is returned once.
    """
    if payment.kind != "pay":
        raise ValidationFailed("Only a payment can be returned.")
    programme = lock_programme(payment.programme_id)
    if payment.amount > source_paid(payment.source_type, payment.source_id):
        raise ValidationFailed("This payment is already returned.")
    return _append(actor, programme, "return", funding_kind=payment.funding_kind, amount=payment.amount,
                   enterprise_id=payment.enterprise_id, provider_id=payment.provider_id,
                   source_type=payment.source_type, source_id=payment.source_id, milestone=payment.milestone,
                   note=note, enterprise_cap=None, provider_cap=None)


def source_recovered(source_type: str, source_id: int) -> Decimal:
    """What recovery orders brought back to the fund for one grant (``recover`` entries)."""
    raw = type_coerce(FundLedgerEntry.__table__.c.amount, BigInteger)
    fen = db.session.scalar(select(func.coalesce(func.sum(raw), 0)).where(
        FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id,
        FundLedgerEntry.kind == "recover"))
    return _fen(fen)


def recover(actor: Actor, source_type: str, source_id: int, amount: Decimal,
            note: str | None = None) -> FundLedgerEntry:
    """Money a recovery order (追回) brought back for a grant: it leaves "paid", so the programme's
    available funds rise by exactly ``amount``.

    Rule: never more than the grant has paid (net of returns) less what was already recovered, under
    the programme's lock like :func:`pay`.  Reserved, the commitments (caps) and the grant's paid
    milestones are unchanged: a recovered item is not payable again, and the enterprise's quota is
    not given back.
    """
    amount = _check_amount(amount)
    origin = _source_entry(source_type, source_id)
    programme = lock_programme(origin.programme_id)
    left = source_paid(source_type, source_id) - source_recovered(source_type, source_id)
    if amount > left:
        raise ValidationFailed("Only %(left)s paid for this grant is not yet recovered.", field="amount",
                               left=format_money(left))
    return _append(actor, programme, "recover", funding_kind=origin.funding_kind, amount=amount,
                   enterprise_id=origin.enterprise_id, provider_id=origin.provider_id, source_type=source_type,
                   source_id=source_id, milestone=None, note=note, enterprise_cap=None, provider_cap=None)


# --- programmes: creating and changing them ---------------------------------------------------
# (Below the ledger functions, which the code above owns; these only read the ledger.)
from dataclasses import field  # noqa: E402
from datetime import date  # noqa: E402

from voucher.programmes.models import PARAMETER_DEFAULTS  # noqa: E402


@dataclass(frozen=True)
class ParameterSpec:
    """How a programme parameter is entered and checked: ``kind`` is money (yuan), percent
    (0–100, two decimals), score (0–100, two decimals) or int; ``low``/``high`` bound it."""

    kind: str
    low: Decimal | int = 0
    high: Decimal | int | None = None


MONEY_MAX = Decimal("9999999999.99")

# Every key of PARAMETER_DEFAULTS, in the order the form shows them.
PARAMETER_SPECS: dict[str, ParameterSpec] = {
    "trial_cap_per_enterprise": ParameterSpec("money", Decimal("0"), MONEY_MAX),
    "provider_cap": ParameterSpec("money", Decimal("0"), MONEY_MAX),
    "advance_pct": ParameterSpec("percent", Decimal("0"), Decimal("100")),
    "pass_score": ParameterSpec("score", Decimal("0"), Decimal("100")),
    "remarkable_score": ParameterSpec("score", Decimal("0"), Decimal("100")),
    "recommend_min_evaluations": ParameterSpec("int", 1, 100),
    "weight_effect": ParameterSpec("int", 0, 100),
    "weight_quality": ParameterSpec("int", 0, 100),
    "weight_service": ParameterSpec("int", 0, 100),
    "weight_cost_effectiveness": ParameterSpec("int", 0, 100),
    "weight_replicability": ParameterSpec("int", 0, 100),
    "loan_rate_margin_pct": ParameterSpec("percent", Decimal("0"), Decimal("100")),
    "loan_subsidy_points": ParameterSpec("percent", Decimal("0"), Decimal("100")),
    "loan_principal_cap": ParameterSpec("money", Decimal("0"), MONEY_MAX),
    "loan_day_basis": ParameterSpec("int", 360, 365),
    "robot_base_rate": ParameterSpec("percent", Decimal("0"), Decimal("100")),
    "robot_domestic_rate": ParameterSpec("percent", Decimal("0"), Decimal("100")),
    "robot_pilot_domestic_rate": ParameterSpec("percent", Decimal("0"), Decimal("100")),
    "robot_enterprise_cap": ParameterSpec("money", Decimal("0"), MONEY_MAX),
    "publicity_working_days": ParameterSpec("int", 0, 60),
}
WEIGHT_FIELDS = ("weight_effect", "weight_quality", "weight_service", "weight_cost_effectiveness",
                 "weight_replicability")
DEFAULT_BUDGET = Decimal("50000000.00")
PROGRAMME_FIELDS = ("name", "year", "budget", "opens_on", "closes_on", "funds_trial_voucher",
                    "funds_loan_discount", "funds_robot_subsidy", "pilot_industries")

# One sentence per kind of problem (no figures), so a single refusal can mark several fields.
_PARAM_MESSAGES = {
    "missing": N_("Enter a value."),
    "money": N_("Enter an amount in yuan, not negative, with at most two decimals (at most 9,999,999,999.99)."),
    "percent": N_("Enter a percentage between 0 and 100 (at most two decimals)."),
    "score": N_("Enter a score between 0 and 100 (at most two decimals)."),
    "int": N_("Enter a whole number."),
}


@dataclass(frozen=True)
class ProgrammeInput:
    name: str
    year: int
    budget: Decimal
    opens_on: date | None
    closes_on: date | None
    funds_trial_voucher: bool = True
    funds_loan_discount: bool = True
    funds_robot_subsidy: bool = True
    pilot_industries: tuple[str, ...] = ()
    # Keys of PARAMETER_DEFAULTS; a key left out keeps its default (new) or current value (edit).
    parameters: dict = field(default_factory=dict)


def _check_parameter(name: str, value, errors: dict, params: dict):
    spec = PARAMETER_SPECS[name]
    if value is None or value == "":
        errors[name] = _PARAM_MESSAGES["missing"]
        return None
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = _PARAM_MESSAGES["int"]
            return None
        if name == "loan_day_basis":
            if value not in (360, 365):
                errors[name] = N_("The day basis is 360 or 365.")
                return None
        elif not spec.low <= value <= spec.high:
            errors[name] = {
                (1, 100): N_("Enter a whole number from 1 to 100."),
                (0, 100): N_("Enter a whole number from 0 to 100."),
                (0, 60): N_("Enter a whole number of working days from 0 to 60."),
            }[(spec.low, spec.high)]
            return None
        return value
    if not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(Decimal("0.01")) \
            or not spec.low <= value <= spec.high:
        errors[name] = _PARAM_MESSAGES[spec.kind]
        return None
    return value.quantize(Decimal("0.01")) if spec.kind == "money" else value


def _clean_programme(data: ProgrammeInput, current: dict) -> dict:
    """Normalised values, or ValidationFailed naming every bad field (the rules of the form)."""
    from voucher.reference import INDUSTRIES

    errors: dict[str, str] = {}
    params: dict = {}
    values: dict = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = N_("Enter the programme's name.")
    elif len(name) > 200:
        errors["name"] = N_("At most 200 characters.")
    values["name"] = name
    if isinstance(data.year, bool) or not isinstance(data.year, int) or not 2000 <= data.year <= 2100:
        errors["year"] = N_("Enter the year, such as 2026.")
    values["year"] = data.year
    budget = data.budget
    if not isinstance(budget, Decimal) or not budget.is_finite() or budget != budget.quantize(Decimal("0.01")):
        errors["budget"] = N_("Enter the budget in yuan, such as 50000000 (at most two decimals).")
    elif budget < 0:
        errors["budget"] = N_("The budget cannot be negative.")
    elif budget > MONEY_MAX:
        errors["budget"] = N_("The budget can be at most 9,999,999,999.99 yuan.")
    else:
        budget = budget.quantize(Decimal("0.01"))
    values["budget"] = budget
    if data.opens_on is None:
        errors["opens_on"] = N_("Enter the date the application window opens.")
    if data.closes_on is None:
        errors["closes_on"] = N_("Enter the date the application window closes.")
    elif data.opens_on is not None and data.closes_on < data.opens_on:
        errors["closes_on"] = N_("The window cannot close (%(closes_on)s) before it opens (%(opens_on)s).")
        params.update(closes_on=data.closes_on.isoformat(), opens_on=data.opens_on.isoformat())
    if "year" not in errors:  # a window far from the programme's year is a typo (0001-01-01, 9999-12-31)
        earliest, latest = date(data.year - 1, 1, 1), date(data.year + 1, 12, 31)
        for name in ("opens_on", "closes_on"):
            value = getattr(data, name)
            if name not in errors and value is not None and not earliest <= value <= latest:
                errors[name] = N_("The window lies within a year of the programme's year %(year)s: between "
                                  "%(earliest)s and %(latest)s.")
                params.update(year=data.year, earliest=earliest.isoformat(), latest=latest.isoformat())
    values["opens_on"], values["closes_on"] = data.opens_on, data.closes_on
    for kind in FUNDING_KIND_CODES:
        values[f"funds_{kind}"] = bool(getattr(data, f"funds_{kind}"))
    if not any(values[f"funds_{kind}"] for kind in FUNDING_KIND_CODES):
        errors["funds_trial_voucher"] = N_("Choose at least one kind of support the programme funds.")
    industries = list(dict.fromkeys(data.pilot_industries or ()))
    unknown = [code for code in industries if code not in INDUSTRIES]
    if unknown:
        errors["pilot_industries"] = N_("Choose pilot industries from the list.")
    values["pilot_industries"] = [code for code in INDUSTRIES if code in industries]

    values.update(_checked_parameters(dict(data.parameters or {}), current, errors, params))
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors, **params)
    return values


def _checked_parameters(given: dict, current: dict, errors: dict, params: dict) -> dict:
    """Every rule parameter, from ``given`` or else ``current``, checked; problems go to ``errors``."""
    values = {}
    for key in PARAMETER_SPECS:
        value = given[key] if key in given else current[key]
        values[key] = _check_parameter(key, value, errors, params)
    if not any(f in errors for f in WEIGHT_FIELDS):
        total = sum(values[f] for f in WEIGHT_FIELDS)
        if total != 100:
            errors["weight_effect"] = N_("The five weights add up to %(weights_total)s; they must add up to 100.")
            params["weights_total"] = total
    if "pass_score" not in errors and "remarkable_score" not in errors \
            and values["remarkable_score"] < values["pass_score"]:
        errors["remarkable_score"] = N_("The excellent score cannot be below the pass score.")
    return values


def clean_parameters(given: dict, current: dict) -> dict:
    """The rule parameters of ``given`` over ``current``, checked as the programme form checks them
    (ranges, two decimals, weights adding up to 100, excellent not below pass), or ValidationFailed
    naming every bad field. Keys outside PARAMETER_DEFAULTS are refused."""
    unknown = sorted(set(given) - set(PARAMETER_SPECS))
    if unknown:
        raise ValidationFailed("Unknown rule parameter: %(names)s.", field=unknown[0], names=", ".join(unknown))
    errors: dict = {}
    params: dict = {}
    values = _checked_parameters(given, current, errors, params)
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors, **params)
    return values


def _programme_values(programme: Programme | None) -> dict:
    if programme is None:
        return dict(PARAMETER_DEFAULTS)
    out = {f: getattr(programme, f) for f in PROGRAMME_FIELDS}
    out["pilot_industries"] = list(programme.pilot_industries or [])
    out.update({k: getattr(programme, k) for k in PARAMETER_SPECS})
    return out


def _ensure_name_free(name: str, year: int, programme_id: int | None = None) -> None:
    stmt = select(func.count()).select_from(Programme).where(func.lower(Programme.name) == name.lower(),
                                                            Programme.year == year)
    if programme_id is not None:
        stmt = stmt.where(Programme.id != programme_id)
    if db.session.scalar(stmt):
        raise ValidationFailed("A programme with this name already exists for %(year)s.", field="name", year=year)


def create_programme(actor: Actor, data: ProgrammeInput) -> Programme:
    """Set up a programme (fund) with its window, kinds, pilot industries and every parameter.

    Rule: only a programme officer; budget a non-negative yuan amount; the window closes on or
    after it opens; percentages and scores within 0–100; the five evaluation weights add up to
    100; parameters left out take the domain defaults. Writes ``programme.created``.
    """
    ensure_programme_officer(actor)
    values = _clean_programme(data, _programme_values(None))
    _ensure_name_free(values["name"], values["year"])
    programme = Programme(**values)
    db.session.add(programme)
    db.session.flush()
    record_event(actor, "programme.created", "programme", programme.id, after=values)
    record_first_version(actor, programme)
    return programme


def update_programme(actor: Actor, programme_id: int, data: ProgrammeInput) -> tuple[Programme, dict]:
    """Change a programme's settings and parameters.

    Rule: only a programme officer; the same checks as creation, and the budget cannot go below
    what the ledger already commits (reserved + paid), checked under the programme's row lock.
    One ``programme.parameters_changed`` event per save holds before/after of exactly the
    changed fields; nothing changed → no event. Returns the programme and the changed values.
    """
    ensure_programme_officer(actor)
    programme = lock_programme(programme_id)
    current = _programme_values(programme)
    # The form's parameters are those of the rule version in force today (what decisions read).
    from voucher.programmes.queries import local_today

    current.update(parameters_on(programme.id, local_today())[1])
    values = _clean_programme(data, current)
    bal = balances(programme)
    if values["budget"] < bal.committed:
        raise ValidationFailed(
            "The budget cannot be less than what the fund already commits: %(committed)s "
            "(reserved %(reserved)s, paid %(paid)s).", field="budget",
            committed=format_money(bal.committed), reserved=format_money(bal.reserved), paid=format_money(bal.paid))
    if values["name"].lower() != current["name"].lower() or values["year"] != current["year"]:
        _ensure_name_free(values["name"], values["year"], programme.id)
    changed = {k: v for k, v in values.items() if current[k] != v}
    if not changed:
        return programme, {}
    # Rule parameters live in the version in force today: changed here only while no decision names
    # it (else refused, pointing to drafting a rule change), together with the programme's columns.
    sync_open_version(actor, programme, changed, local_today())
    for key, value in changed.items():
        setattr(programme, key, value)
    db.session.flush()
    record_event(actor, "programme.parameters_changed", "programme", programme.id,
                 before={k: current[k] for k in changed}, after=changed)
    return programme, changed


def ensure_programme_officer(actor: Actor) -> None:
    require(actor, "programmes.edit", message="Only a programme officer may set up or change programmes.")


# A programme's rule versions (issue 19 §3) are part of its services; defined apart for size.
from voucher.programmes.rule_versions import (  # noqa: E402, F401
    changed_parameters,
    decisions_using,
    discard_draft,
    draft_rule_change,
    draft_rules_path,
    ensure_first_version,
    get_version,
    parameters_on,
    publish_rule_version,
    record_first_version,
    sync_open_version,
    update_draft,
    version_in_force,
    version_ref,
    version_ref_of,
    versions,
    versions_with_changes,
)
from voucher.programmes.rule_versions import parse as parse_parameters  # noqa: E402
