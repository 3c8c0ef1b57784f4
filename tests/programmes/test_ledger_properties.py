"""Property-based test of the fund ledger (hypothesis).

For any sequence of reserve / release / pay operations on several grants of several
enterprises and providers, the ledger's derived balances equal a plain Python recomputation
and ``recomputed_balances()``; the fund is never over-committed; no enterprise exceeds its cap,
no provider its cap; no grant's outstanding reservation goes negative; and every operation the
rules refuse raises the right domain exception and writes nothing.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import build_org
from voucher.audit.services import Actor
from voucher.errors import BudgetExhausted, OverCap, ValidationFailed
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry, Programme

ZERO = Decimal("0.00")
BUDGET = Decimal("350000.00")
TRIAL_CAP = Decimal("200000.00")
PROVIDER_CAP = Decimal("300000.00")
ROBOT_CAP = Decimal("250000.00")
ACTOR = Actor(user_id=None, role="officer", organisation_id=None, label="property test")

# Grants: (funding kind, enterprise index, provider index or None).  Trial vouchers of three
# enterprises through two providers, and robot subsidies (no provider, their own cap).
SOURCES = (("trial_voucher", 0, 0), ("trial_voucher", 0, 1), ("trial_voucher", 1, 0), ("trial_voucher", 2, 1),
           ("trial_voucher", 1, 1), ("robot_subsidy", 0, None), ("robot_subsidy", 2, None))


@dataclass
class Model:
    """The rules of the ledger in plain Python."""

    reserved: Decimal = ZERO
    paid: Decimal = ZERO
    enterprise: dict = field(default_factory=dict)   # (enterprise, kind) -> committed
    provider: dict = field(default_factory=dict)     # provider -> committed trial amounts
    outstanding: dict = field(default_factory=dict)  # source -> still reserved
    source_paid: dict = field(default_factory=dict)  # source -> paid
    opened: set = field(default_factory=set)         # sources with a reservation entry

    @property
    def available(self) -> Decimal:
        return BUDGET - self.reserved - self.paid

    def cap(self, kind):
        return TRIAL_CAP if kind == "trial_voucher" else ROBOT_CAP

    def reserve_limit(self, i) -> Decimal:
        kind, ent, prov = SOURCES[i]
        room = [self.available, self.cap(kind) - self.enterprise.get((ent, kind), ZERO)]
        if prov is not None:
            room.append(PROVIDER_CAP - self.provider.get(prov, ZERO))
        return min(room)

    def expect_reserve(self, i, amount):
        kind, ent, prov = SOURCES[i]
        if not _valid(amount):
            return ValidationFailed
        if amount > self.available:
            return BudgetExhausted
        if self.enterprise.get((ent, kind), ZERO) + amount > self.cap(kind):
            return OverCap
        if prov is not None and self.provider.get(prov, ZERO) + amount > PROVIDER_CAP:
            return OverCap
        self.reserved += amount
        self.enterprise[(ent, kind)] = self.enterprise.get((ent, kind), ZERO) + amount
        if prov is not None:
            self.provider[prov] = self.provider.get(prov, ZERO) + amount
        self.outstanding[i] = self.outstanding.get(i, ZERO) + amount
        self.opened.add(i)
        return None

    def expect_release(self, i, amount):
        kind, ent, prov = SOURCES[i]
        if i not in self.opened:
            return ValidationFailed
        out = self.outstanding.get(i, ZERO)
        if amount is None:
            amount = out
            if amount == 0:
                return "nothing"
        elif not _valid(amount) or amount > out:
            return ValidationFailed
        self.reserved -= amount
        self.enterprise[(ent, kind)] -= amount
        if prov is not None:
            self.provider[prov] -= amount
        self.outstanding[i] = out - amount
        return None

    def expect_pay(self, i, amount):
        if not _valid(amount) or i not in self.opened or amount > self.outstanding.get(i, ZERO):
            return ValidationFailed
        self.reserved -= amount
        self.paid += amount
        self.outstanding[i] -= amount
        self.source_paid[i] = self.source_paid.get(i, ZERO) + amount
        return None


def _valid(amount) -> bool:
    return isinstance(amount, Decimal) and amount > 0 and amount == amount.quantize(Decimal("0.01"))


fen_amounts = st.integers(min_value=1, max_value=25_000_000).map(lambda fen: Decimal(fen) / 100)
small_amounts = st.integers(min_value=1, max_value=3_000_000).map(lambda fen: Decimal(fen) / 100)
bad_amounts = st.sampled_from([Decimal("0"), Decimal("-10.00"), Decimal("0.001"), Decimal("12.345")])
# "rest": exactly what the rules still allow (the boundary) for a reservation, or the whole
# outstanding amount for a release or payment; "rest+1": one fen beyond; "half": about half of it.
relative = st.sampled_from(["rest", "rest+1", "half", "half"])
amounts = st.one_of(fen_amounts, small_amounts, bad_amounts, relative)
payouts = st.one_of(relative, relative, small_amounts, bad_amounts)
source_ids = st.integers(min_value=0, max_value=len(SOURCES) - 1)
# Releases and payments mostly aim at a grant that has a reservation (("opened", k): the k-th
# of them, cyclically), sometimes at any grant (refused when it has none).
targets = st.one_of(source_ids, st.integers(min_value=0, max_value=20).map(lambda k: ("opened", k)))
operations = st.lists(st.one_of(
    st.tuples(st.just("reserve"), source_ids, amounts),
    st.tuples(st.just("reserve"), source_ids, amounts),
    st.tuples(st.just("release"), targets, st.one_of(st.none(), payouts)),
    st.tuples(st.just("pay"), targets, payouts),
), min_size=3, max_size=30)


@pytest.fixture()
def parties(ctx):
    return ([build_org("enterprise") for _ in range(3)], [build_org("provider") for _ in range(2)])


def _entries(programme) -> int:
    return db.session.scalar(select(func.count()).select_from(FundLedgerEntry)
                             .where(FundLedgerEntry.programme_id == programme.id))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
def test_ledger_balances_and_caps_hold_for_any_sequence_of_operations(parties, ops):
    enterprises, providers = parties
    # A fresh programme per example: the ledger's figures are per programme.
    programme = Programme(name=f"P {secrets.token_hex(4)}", year=2026, budget=BUDGET, opens_on=date(2026, 1, 1),
                          closes_on=date(2026, 12, 31), trial_cap_per_enterprise=TRIAL_CAP, provider_cap=PROVIDER_CAP,
                          robot_enterprise_cap=ROBOT_CAP)
    db.session.add(programme)
    db.session.flush()
    from voucher.programmes.rule_versions import ensure_first_version
    ensure_first_version(programme)  # version 1, as create_programme makes it
    db.session.flush()
    source_type = f"prop-{programme.id}"
    model = Model()

    for op, i, amount in ops:
        if isinstance(i, tuple):
            opened = sorted(model.opened)
            i = opened[i[1] % len(opened)] if opened else 0
        kind, ent, prov = SOURCES[i]
        if isinstance(amount, str):
            limit = model.reserve_limit(i) if op == "reserve" else model.outstanding.get(i, ZERO)
            amount = {"rest": limit, "rest+1": limit + Decimal("0.01"),
                      "half": (limit / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)}[amount]
            if amount <= 0:
                continue
        before = _entries(programme)
        expected = getattr(model, f"expect_{op}")(i, amount)
        event(f"{op}: {getattr(expected, '__name__', expected) or 'accepted'}")
        try:
            if op == "reserve":
                ledger.reserve(ACTOR, programme.id, funding_kind=kind, amount=amount,
                               enterprise_id=enterprises[ent].id, source_type=source_type, source_id=i,
                               provider_id=providers[prov].id if prov is not None else None)
            elif op == "release":
                result = ledger.release(ACTOR, source_type, i, amount)
                if expected == "nothing":
                    assert result is None
            else:
                ledger.pay(ACTOR, source_type, i, amount, milestone="advance")
        except (ValidationFailed, BudgetExhausted, OverCap) as err:
            assert expected is not None and expected != "nothing", f"{op} {i} {amount}: refused {err!r}"
            assert type(err) is expected, f"{op} {i} {amount}: {type(err).__name__}, expected {expected.__name__}"
            assert err.render()  # a message for the user
            assert _entries(programme) == before, "a refused operation wrote to the ledger"
        else:
            assert expected in (None, "nothing"), f"{op} {i} {amount}: accepted, expected {expected.__name__}"
            assert _entries(programme) == before + (0 if expected == "nothing" else 1)

        bal = ledger.balances(programme)
        assert (bal.budget, bal.reserved, bal.paid) == (BUDGET, model.reserved, model.paid)
        assert ledger.recomputed_balances(programme) == bal
        assert bal.available == model.available >= 0
    for (e, kind), committed in model.enterprise.items():
        assert ledger.enterprise_committed(programme.id, enterprises[e].id, kind) == committed <= model.cap(kind)
    for p, committed in model.provider.items():
        assert ledger.provider_committed(programme.id, providers[p].id) == committed <= PROVIDER_CAP
    for i in model.opened:
        assert ledger.source_outstanding(source_type, i) == model.outstanding[i] >= 0
        assert ledger.source_paid(source_type, i) == model.source_paid.get(i, ZERO)


def test_recomputed_balances_and_source_paid_sum_exact_fen(parties):
    """Regression: the sums once went through the Money type (fen → yuan) and were then divided
    by 100 again, so 150,000.00 reserved recomputed as 1,500.00."""
    enterprises, providers = parties
    programme = Programme(name="Regression", year=2026, budget=BUDGET, opens_on=date(2026, 1, 1),
                          closes_on=date(2026, 12, 31))
    db.session.add(programme)
    db.session.flush()
    from voucher.programmes.rule_versions import ensure_first_version
    ensure_first_version(programme)  # version 1, as create_programme makes it
    db.session.flush()
    ledger.reserve(ACTOR, programme.id, funding_kind="trial_voucher", amount=Decimal("150000.00"),
                   enterprise_id=enterprises[0].id, source_type="regression", source_id=1,
                   provider_id=providers[0].id)
    ledger.pay(ACTOR, "regression", 1, Decimal("45000.01"), milestone="advance")
    expected = (BUDGET, Decimal("104999.99"), Decimal("45000.01"))
    bal = ledger.recomputed_balances(programme)
    assert (bal.budget, bal.reserved, bal.paid) == expected
    assert ledger.balances(programme) == bal
    assert ledger.source_paid("regression", 1) == Decimal("45000.01")
