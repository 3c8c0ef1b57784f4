"""Catalogue test builders: a solution in any state (state set directly, as test setup)."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest

from voucher.catalogue.models import Solution
from voucher.db import utcnow
from voucher.extensions import db

_n = itertools.count(1)


def build_solution(provider, *, status="draft", title=None, category="mes", industries=("pumps_valves",),
                   description=None, list_price="100000.00", trial_price="50000.00", trial_period_days=90,
                   age_minutes=0):
    n = next(_n)
    at = utcnow() - timedelta(minutes=age_minutes)
    solution = Solution(
        provider_id=provider.id, title=title or f"Solution {n}", category=category,
        target_industries=list(industries), description=description or f"Description of solution {n}.",
        list_price=Decimal(list_price), trial_price=Decimal(trial_price), trial_period_days=trial_period_days,
        status=status, created_at=at, updated_at=at,
        submitted_at=at if status != "draft" else None,
        listed_at=at if status in ("listed", "recommended", "delisted") else None)
    db.session.add(solution)
    db.session.flush()
    return solution


@pytest.fixture()
def make_solution(db_conn):
    """make_solution(provider_org, status="draft", **facts) → a flushed solution."""
    return build_solution


@pytest.fixture()
def provider_user(make_user):
    return make_user("provider")


@pytest.fixture()
def own_solution(make_solution, provider_user):
    return make_solution(provider_user.organisation)
