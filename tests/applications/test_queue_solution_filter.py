"""The review queue filters on part of a solution's name (a text field) instead of listing every
catalogue solution in a drop-down (1,351 options, 59 KB of the page at a city's scale)."""
from __future__ import annotations

from tests.dashboard.test_scale import NOW, add_waiting  # noqa: F401  (bulk applications)
from tests.factories import do_login
from voucher.extensions import db


def test_the_queue_filters_on_part_of_the_solution_name_without_listing_solutions(client, make_org, make_user):
    from voucher.catalogue.models import Solution

    add_waiting(make_org, 3)
    other = make_org("provider")
    for i in range(20):
        db.session.add(Solution(provider_id=other.id, title=f"仓储方案 {i:02d}", category="mes", target_industries=[],
                                description="x", list_price=90000, trial_price=30000, trial_period_days=90,
                                status="listed"))
    officer = make_user("officer")
    db.session.commit()
    assert do_login(client, officer).status_code == 302
    html = client.get("/applications/review").get_data(as_text=True)
    assert 'id="solution"' in html and 'id="solution_id"' not in html
    assert "仓储方案 07" not in html  # no option per catalogue solution
    assert html.count("排产优化") == 3
    assert client.get("/applications/review?solution=排产").get_data(as_text=True).count("排产优化") == 3
    assert "排产优化" not in client.get("/applications/review?solution=仓储").get_data(as_text=True)
