"""The subsidy review queue reads each kind's first rows only (no sort of every application):
page after page it lists exactly the rows of one full sort, and its count (per kind, no join)
is the number of rows, for every status filter and kind."""
from __future__ import annotations

import pytest

from voucher.extensions import db


@pytest.mark.parametrize("kind", [None, "loan", "robot"])
def test_pages_of_the_queue_are_slices_of_one_full_sort(demo, kind):
    from voucher.subsidies.queries import review_count, review_page

    for status in (None, "submitted", "approved"):
        everything = review_page(kind, status, None, 1, 10_000)
        assert everything.total == len(everything.items) == review_count(kind, status)
        keys = [(r.kind, r.id) for r in everything.items]
        paged = []
        for page in range(1, len(keys) // 2 + 3):
            p = review_page(kind, status, None, page, 2)
            assert p.total == len(keys)
            paged += [(r.kind, r.id) for r in p.items]
        assert paged == keys
    assert review_count(None, None) > 0
    # A text filter: the enterprise name of the first row, page by page.
    first = review_page(kind, None, None, 1, 1).items[0]
    name = first.enterprise_name[:4]
    everything = review_page(kind, None, name, 1, 10_000)
    assert (first.kind, first.id) in [(r.kind, r.id) for r in everything.items]
    assert all(name in r.enterprise_name for r in everything.items) and everything.total == len(everything.items)
    paged = [(r.kind, r.id) for page in range(1, everything.total + 2) for r in review_page(kind, None, name, page, 1).items]
    assert paged == [(r.kind, r.id) for r in everything.items]


def test_the_keyset_queue_counts_up_to_the_cap_then_says_more_than(demo, monkeypatch):
    """Like the other long lists, the queue's first page counts at most COUNT_CAP rows (an exact count
    of every application grew with them on each view); the exports keep the exact total."""
    from voucher import pagination
    from voucher.subsidies.queries import review_count, review_page

    kind = None  # both kinds: the demo has one of each under review
    exact = review_count(kind, None)
    assert exact >= 2
    page = review_page(kind, None, None, 1, 2)
    assert (page.total, page.total_capped) == (exact, False)
    monkeypatch.setattr(pagination, "COUNT_CAP", 1)
    page = review_page(kind, None, None, 1, 1)
    assert (page.total, page.total_capped) == (1, True)
    assert len(page.items) == 1 and page.next_cursor  # the rows themselves are not capped
    name = page.items[0].enterprise_name[:4]
    filtered = review_page(kind, None, name, 1, 10_000, seek=False)
    capped = review_page(kind, None, name, 1, 1)
    assert capped.total == min(filtered.total, 1) and capped.total_capped == (filtered.total > 1)
    assert review_page(kind, None, None, 1, 10_000, seek=False).total == exact  # the export's exact total


def test_the_sme_start_page_counts_its_subsidy_applications_and_loads_its_organisation_once(as_demo):
    """The SME's subsidy card counts each kind in one statement (what its lists total, drafts too), and
    the start page selects the user's organisation once for all its cards."""
    from sqlalchemy import event, func, select

    from voucher.auth.models import User
    from voucher.subsidies.models import LoanApplication, RobotApplication
    from voucher.subsidies.queries import enterprise_counts, enterprise_loans, enterprise_robots

    sme = db.session.scalar(select(User).where(User.role == "sme", User.email.like("sme@%")))
    org_id = sme.organisation_id
    loans, robots = enterprise_counts(org_id)
    assert (loans, robots) == (enterprise_loans(org_id, 1, 1).total, enterprise_robots(org_id, 1, 1).total)
    assert loans == db.session.scalar(select(func.count()).select_from(LoanApplication)
                                      .where(LoanApplication.enterprise_id == org_id)) and loans + robots > 0
    assert robots == db.session.scalar(select(func.count()).select_from(RobotApplication)
                                       .where(RobotApplication.enterprise_id == org_id))

    client = as_demo("sme")
    statements = []
    engine = db.engine

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get("/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert "Loan discount applications" in page
    organisation_loads = [s for s in statements if s.lstrip().startswith("SELECT organisation.id")]
    assert len(organisation_loads) == 1, organisation_loads
