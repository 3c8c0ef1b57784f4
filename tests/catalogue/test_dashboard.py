"""The catalogue's cards on the start page."""
from __future__ import annotations


def test_provider_panel_counts_its_solutions_by_status_with_the_next_step(client, login, provider_user, make_solution,
                                                                         make_org):
    for status in ("draft", "draft", "listed", "rejected"):
        make_solution(provider_user.organisation, status=status)
    for _ in range(5):
        make_solution(make_org("provider"), status="draft")  # another provider's: not counted
    login(provider_user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/").get_data(as_text=True)
    assert "My solutions" in page
    assert "1 solution(s) not listed: read the screening reasons" in page
    draft_row = page.split(">Draft</dt>")[1].split("</dd>")[0]
    assert draft_row.strip().endswith("2")
    assert 'href="/catalogue/mine"' in page


def test_evaluator_panel_shows_solutions_waiting_for_screening(client, login, make_user, make_org, make_solution):
    provider = make_org("provider")
    for status in ("submitted", "submitted", "submitted", "screening", "listed"):
        make_solution(provider, status=status)
    login(make_user("evaluator"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/").get_data(as_text=True)
    assert "Solutions waiting for screening" in page
    assert page.split("Submitted, not yet started</dt>")[1].split("</dd>")[0].strip().endswith("3")
    assert page.split("In screening</dt>")[1].split("</dd>")[0].strip().endswith("1")
    assert 'href="/catalogue/screening"' in page


def test_sme_has_no_catalogue_panel(client, login, make_user):
    login(make_user("sme"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/").get_data(as_text=True)
    assert "Solutions waiting for screening" not in page and "Manage my solutions" not in page
