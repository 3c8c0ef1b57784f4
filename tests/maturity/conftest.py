"""Builders for the self-assessment tests: answers at chosen levels, an enterprise with its SME user,
and the trials' ``Flow`` (tests/trials/conftest.py) for the evidence data set."""
from __future__ import annotations

import pytest

from tests.factories import build_org, fresh_user
from tests.trials.conftest import Flow, programme  # noqa: F401 (the fixture Flow needs)
from voucher.maturity.questionnaire import DEFAULT_CONTENT, structure


def answers_at(levels: dict[str, int] | int, content=DEFAULT_CONTENT) -> dict[str, int]:
    """Every question answered: ``levels`` is one level for all, or dimension code → level."""
    return {q: (levels if isinstance(levels, int) else levels[d]) for d, qs in structure(content) for q in qs}


@pytest.fixture()
def enterprise_user(db_conn):
    def build(**enterprise):
        org = build_org("enterprise", **enterprise)
        return fresh_user("sme", org)

    return build


@pytest.fixture()
def flow(make_org, make_user, programme):  # noqa: F811
    return Flow(make_org, make_user, programme)
