"""The public catalogue: no login; search, filters, sorts, pagination; only listed and recommended."""
from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest

from voucher.catalogue import queries


def _titles(page: str) -> list[str]:
    return re.findall(r'<a href="/catalogue/\d+">([^<]+)</a>', page)


@pytest.fixture()
def catalogue(make_org, make_solution):
    acme = make_org("provider", name="Acme Industrial Software")
    wz = make_org("provider", name="Wenzhou Cloud Works")
    make_solution(acme, status="listed", title="Valve line MES", category="mes",
                  industries=("pumps_valves",), trial_price="80000.00", list_price="200000.00", age_minutes=30)
    make_solution(wz, status="recommended", title="Shoe factory ERP", category="erp",
                  industries=("footwear_leather", "clothing"), trial_price="30000.00", list_price="90000.00",
                  description="Orders, stock and payroll for leather workshops.", age_minutes=20)
    make_solution(wz, status="listed", title="Energy meter cloud", category="energy",
                  industries=("electrical", "pumps_valves"), trial_price="15000.00", list_price="40000.00",
                  age_minutes=10)
    for status in ("draft", "submitted", "screening", "rejected", "delisted"):
        make_solution(acme, status=status, title=f"Hidden {status} thing", category="mes",
                      industries=("pumps_valves",))


def test_public_list_needs_no_login_and_shows_only_listed_and_recommended(client, catalogue):
    response = client.get("/catalogue/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert sorted(_titles(page)) == ["Energy meter cloud", "Shoe factory ERP", "Valve line MES"]
    assert "Hidden" not in page


def test_welcome_page_links_the_public_catalogue(client):
    assert 'href="/catalogue/"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("status", ["draft", "submitted", "screening", "rejected", "delisted"])
def test_non_public_solutions_have_no_public_page(client, make_org, make_solution, status):
    solution = make_solution(make_org("provider"), status=status)
    assert client.get(f"/catalogue/{solution.id}").status_code == 404


def test_recommended_solutions_are_badged_and_first_by_default(client, catalogue):
    page = client.get("/catalogue/").get_data(as_text=True)
    assert _titles(page)[0] == "Shoe factory ERP"
    row = page.split("Shoe factory ERP")[1].split("</h2>")[0]
    assert "Recommended" in row or "推荐" in row
    other = page.split("Valve line MES")[1].split("</h2>")[0]
    assert "badge" not in other


@pytest.mark.parametrize("q,expected", [
    ("valve", ["Valve line MES"]),            # title, case-insensitive
    ("payroll", ["Shoe factory ERP"]),        # description
    ("Wenzhou Cloud", ["Energy meter cloud", "Shoe factory ERP"]),  # provider name
    ("100%", []),                             # LIKE wildcards are literal
    ("Hidden", []),                           # never a non-public one
])
def test_search_by_title_description_and_provider(client, catalogue, q, expected):
    page = client.get("/catalogue/", query_string={"q": q}).get_data(as_text=True)
    assert sorted(_titles(page)) == expected


def test_category_filter(client, catalogue):
    page = client.get("/catalogue/?category=erp").get_data(as_text=True)
    assert _titles(page) == ["Shoe factory ERP"]


@pytest.mark.parametrize("industry,expected", [
    ("pumps_valves", ["Energy meter cloud", "Valve line MES"]),
    ("clothing", ["Shoe factory ERP"]),
    ("eyewear", []),
])
def test_industry_filter(client, catalogue, industry, expected):
    page = client.get("/catalogue/", query_string={"industry": industry}).get_data(as_text=True)
    assert sorted(_titles(page)) == expected


def test_filters_combine(client, catalogue):
    page = client.get("/catalogue/?industry=pumps_valves&category=energy&q=meter").get_data(as_text=True)
    assert _titles(page) == ["Energy meter cloud"]


def test_sort_by_trial_price_both_ways_and_newest(client, catalogue):
    asc = _titles(client.get("/catalogue/?sort=price_asc").get_data(as_text=True))
    desc = _titles(client.get("/catalogue/?sort=price_desc").get_data(as_text=True))
    newest = _titles(client.get("/catalogue/?sort=newest").get_data(as_text=True))
    assert asc == ["Energy meter cloud", "Shoe factory ERP", "Valve line MES"]
    assert desc == list(reversed(asc))
    assert newest == ["Energy meter cloud", "Shoe factory ERP", "Valve line MES"]


def test_unknown_filter_values_are_ignored(client, catalogue):
    page = client.get("/catalogue/?category=nope&industry=nope&sort=nope&page=-3").get_data(as_text=True)
    assert len(_titles(page)) == 3


def test_pagination_page_two_has_the_next_items(client, make_org, make_solution):
    provider = make_org("provider")
    for i in range(45):
        make_solution(provider, status="listed", title=f"Item {i:02d}", trial_price=f"{1000 + i}.00")
    def following(page_html):  # keyset pages: the Next link carries the last row's cursor
        return html.unescape(re.search(r'rel="next" href="([^"]+)"', page_html).group(1))

    first = client.get("/catalogue/?sort=price_asc").get_data(as_text=True)
    second = client.get(following(first)).get_data(as_text=True)
    third = client.get(following(second)).get_data(as_text=True)
    page1, page2, page3 = _titles(first), _titles(second), _titles(third)
    assert 'rel="next"' not in third
    assert page1 == [f"Item {i:02d}" for i in range(0, 20)]
    assert page2 == [f"Item {i:02d}" for i in range(20, 40)]
    assert page3 == [f"Item {i:02d}" for i in range(40, 45)]


def test_pagination_keeps_the_filters_in_its_links(client, make_org, make_solution):
    provider = make_org("provider")
    for i in range(25):
        make_solution(provider, status="listed", title=f"Item {i:02d}", industries=("eyewear",))
    page = client.get("/catalogue/?industry=eyewear&sort=price_desc").get_data(as_text=True)
    link = html.unescape(re.search(r'rel="next" href="(/catalogue/\?[^"]*cursor=[^"]*)"', page).group(1))
    assert "industry=eyewear" in link and "sort=price_desc" in link
    assert len(_titles(client.get(link).get_data(as_text=True))) == 5


def test_public_detail_shows_facts_and_no_trials_yet(client, catalogue, make_org, make_solution):
    solution = make_solution(make_org("provider", name="Lucheng Robotics"), status="listed", title="Grinding robot",
                             category="robot_inspection", trial_price="60000.00", list_price="150000.00",
                             trial_period_days=45)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/catalogue/{solution.id}").get_data(as_text=True)
    for text in ("Grinding robot", "Lucheng Robotics", "¥60,000.00", "¥150,000.00", "45 days", "No trials yet"):
        assert text in page


def test_public_detail_shows_trial_figures_from_solution_stats(client, make_org, make_solution, monkeypatch):
    from decimal import Decimal

    solution = make_solution(make_org("provider"), status="listed")
    monkeypatch.setattr(queries, "solution_stats", lambda ids: {i: queries.Stats(4, Decimal("87.5"), Decimal("75.0"))
                                                                for i in ids})
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/catalogue/{solution.id}").get_data(as_text=True)
    assert "No trials yet" not in page
    assert "87.5" in page and "75.0%" in page


def test_solution_stats_returns_an_entry_for_every_id(ctx, ):
    stats = queries.solution_stats([3, 5])
    assert stats == {3: queries.Stats(0, None, None), 5: queries.Stats(0, None, None)}
    assert queries.passed_evaluation_scores(3) == []


def test_public_list_in_chinese_by_default(client, catalogue):
    page = client.get("/catalogue/").get_data(as_text=True)
    assert "解决方案目录" in page


def test_industry_rows_follow_target_industries_whoever_writes_them(ctx, make_org):
    """Other modules (the demo seed, tests) build solutions directly: the filter still finds them."""
    from sqlalchemy import select

    from voucher.catalogue.models import Solution, SolutionIndustry
    from voucher.extensions import db

    solution = Solution(provider_id=make_org("provider").id, title="Direct", category="mes", description="x",
                        target_industries=["eyewear", "clothing"], list_price=Decimal("10.00"),
                        trial_price=Decimal("5.00"), trial_period_days=10, status="listed")
    db.session.add(solution)
    db.session.flush()

    def rows():
        return sorted(db.session.scalars(select(SolutionIndustry.industry)
                                         .where(SolutionIndustry.solution_id == solution.id)))

    assert rows() == ["clothing", "eyewear"]
    assert [s.title for s in queries.public_page(industry="eyewear").items] == ["Direct"]
    db.session.expire_all()
    reloaded = db.session.get(Solution, solution.id)
    reloaded.target_industries = ["clothing", "machinery"]
    db.session.flush()
    assert rows() == ["clothing", "machinery"]
    assert queries.public_page(industry="eyewear").items == []
