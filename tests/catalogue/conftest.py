"""Catalogue test builders: a solution in any state (state set directly, as test setup)."""
from __future__ import annotations

from functools import partial

import pytest

from tests import factories

# The catalogue's tests start from a provider's draft.
build_solution = partial(factories.build_solution, status="draft", trial_price="50000.00", list_price="100000.00")


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
