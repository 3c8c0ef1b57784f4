"""On PostgreSQL the keyset pages of the long lists are index seeks: EXPLAIN of each page after a
cursor names the list's index and has no Sort node (the index gives the order), so a deep page
costs what the first one does.  The planner is told to avoid sequential scans and sorts, since
with the test's few rows it would rightly prefer them; what is checked is that an index serves
the filter, the order and the cursor's row comparison together."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import ON_POSTGRES
from voucher.extensions import db

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="EXPLAIN is checked on PostgreSQL (VOUCHER_TEST_DATABASE_URL)")


def _plan(stmt) -> str:
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    db.session.execute(text("SET LOCAL enable_sort = off"))
    compiled = stmt.compile(dialect=db.session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(text(f"EXPLAIN {compiled}")).scalars().all()
    return "\n".join(rows)


def _seek(stmt, keys, values, descending=True):
    from sqlalchemy import bindparam, tuple_

    bound = tuple_(*[bindparam(None, v, type_=k.type) for k, v in zip(keys, values, strict=True)])
    row = tuple_(*keys)
    return (stmt.where(row < bound if descending else row > bound)
            .order_by(*[k.desc() if descending else k.asc() for k in keys]).limit(21))


def test_trial_queue_pages_are_index_seeks(ctx):
    from datetime import datetime, timezone
    from decimal import Decimal

    from sqlalchemy import select

    from voucher.applications.models import TrialApplication as A

    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    cases = [
        (select(A.id).where(A.status == "submitted"), (A.submitted_at, A.id), (at, 50),
         "ix_trial_application_status_submitted"),
        (select(A.id).where(A.status == "submitted"), (A.requested_amount, A.id), (Decimal("1000.00"), 50),
         "ix_trial_application_status_amount"),
        (select(A.id).where(A.solution_id == 3, A.status == "submitted"), (A.submitted_at, A.id), (at, 50),
         "ix_trial_application_solution_status_submitted"),
        (select(A.id).where(A.enterprise_id == 3), (A.created_at, A.id), (at, 50),
         "ix_trial_application_enterprise_created"),
    ]
    for stmt, keys, values, index in cases:
        plan = _plan(_seek(stmt, keys, values))
        assert index in plan and "Sort" not in plan, plan


@pytest.mark.parametrize("table", ["loan_application", "robot_application"])
def test_subsidy_queue_and_sme_list_pages_are_index_seeks(ctx, table):
    from datetime import datetime, timezone

    from sqlalchemy import select

    from voucher.subsidies.models import LoanApplication, RobotApplication

    m = LoanApplication if table == "loan_application" else RobotApplication
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    keys = (m.submitted_at, m.created_at, m.id)
    plan = _plan(_seek(select(m.id).where(m.status == "submitted"), keys, (at, at, 50)))
    assert f"ix_{table}_status_submitted" in plan and "Sort" not in plan, plan
    plan = _plan(_seek(select(m.id).where(m.status != "draft"), keys, (at, at, 50)))
    assert f"ix_{table}_submitted" in plan and "Sort" not in plan, plan
    plan = _plan(_seek(select(m.id).where(m.enterprise_id == 3), (m.id,), (50,)))
    assert f"ix_{table}_enterprise_id" in plan and "Sort" not in plan, plan


def test_catalogue_price_pages_are_index_seeks(ctx):
    from datetime import datetime, timezone
    from decimal import Decimal

    from sqlalchemy import select

    from voucher.catalogue.models import Solution as S

    plan = _plan(_seek(select(S.id).where(S.status == "listed"), (S.trial_price, S.id), (Decimal("1000.00"), 50)))
    assert "ix_solution_status_trial_price" in plan and "Sort" not in plan, plan
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    plan = _plan(_seek(select(S.id).where(S.provider_id == 3), (S.updated_at, S.id), (at, 50)))
    assert "ix_solution_provider_updated" in plan and "Sort" not in plan, plan
