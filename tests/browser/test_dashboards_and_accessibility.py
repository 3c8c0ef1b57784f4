"""Each role's dashboard with real charts from the demo data (screenshots), the programme
statistics, and an accessibility smoke check of every page in each role's menu: every input has
a label, headings start at h1 and never skip a level, and the main forms submit with Enter."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, shot

ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")
CHART_ROLES = {"officer": 4, "finance": 2, "provider": 3, "auditor": 2}


def wait_for_charts(page, expected: int) -> None:
    """Every chart on the page is drawn (an SVG with shapes inside each ``data-chart``)."""
    page.wait_for_function(
        "n => document.querySelectorAll('[data-chart][data-rendered] svg path').length > 0 && "
        "document.querySelectorAll('[data-chart][data-rendered]').length >= n", arg=expected)
    assert page.locator("[data-chart-error]").count() == 0
    assert page.locator("[data-chart]").count() == page.locator("[data-chart][data-rendered]").count()


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_each_dashboard_shows_its_figures_and_real_charts(page, live_server, role, lang):
    login(page, live_server, role, lang)
    if role in CHART_ROLES:
        wait_for_charts(page, CHART_ROLES[role])
    text = page.locator("main").inner_text()
    if role == "officer":
        assert page.locator("#waiting-table tbody tr").count() >= 1  # demo: applications waiting for review
        assert page.locator("#overdue-list li").count() >= 1  # demo: a trial past its end date
    if role == "auditor":
        assert page.locator("#chain-status .text-success").count() == 1
        assert page.locator("#sensitive-table tbody tr").count() >= 3  # parameter change, rejection, deactivation
    if role == "sme":
        assert page.locator("#next-step").count() == 1 and page.locator("#quota-remaining").count() == 1
    if role == "provider":
        assert page.locator("#provider-payments tbody tr").count() >= 1
    if role == "finance":
        assert "¥" in page.locator("#kpi-paid-year").inner_text()
    assert "Traceback" not in text
    shot(page, f"dashboard-{role}-{lang}")


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_programme_statistics_draw_every_chart_from_the_ledger(page, live_server, lang):
    login(page, live_server, "officer", lang)
    page.goto(f"{live_server}/statistics")
    wait_for_charts(page, 7)
    # The fund-by-month chart's axis shows the demo ledger's months; the district chart its districts.
    month_axis = page.locator("#chart-fund-month svg text").all_text_contents()
    # (the demo is dated from the day it is loaded: months as YYYY-MM, whatever the year)
    assert sum(1 for t in month_axis if re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", t)) >= 3, month_axis
    districts = page.locator("#chart-fund-district svg text").all_text_contents()
    assert ("瑞安市" if lang != "en" else "Rui'an") in districts, districts
    shot(page, f"statistics-officer-{lang}")


# --- accessibility smoke check ------------------------------------------------------------------

UNLABELLED = """() => [...document.querySelectorAll('main input, main select, main textarea, header input, header select')]
  .filter(e => !['hidden', 'submit', 'button', 'reset'].includes(e.type))
  .filter(e => !(e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')
                 || (e.id && document.querySelector('label[for="' + CSS.escape(e.id) + '"]')) || e.closest('label')))
  .map(e => e.outerHTML.slice(0, 160))"""
HEADINGS = "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => Number(h.tagName[1]))"

EXTRA_PAGES = {
    "provider": ["/catalogue/mine/new", "/provider/profile"],
    "sme": ["/enterprise/edit", "/applications/new", "/subsidies/loans/new", "/subsidies/robots/new"],
    "officer": ["/programmes/new", "/subsidies/lpr", "/calendar/2027"],
    "admin": ["/admin/users/new"],
    "evaluator": [],
    "finance": [],
    "auditor": ["/audit/verify"],
}


def heading_problems(levels: list[int]) -> list[str]:
    problems = []
    if not levels or levels[0] != 1:
        problems.append(f"the first heading is h{levels[0] if levels else '-'}, not h1")
    for before, after in zip(levels, levels[1:]):
        if after > before + 1:
            problems.append(f"h{before} is followed by h{after}")
    return problems


def test_heading_rule_itself():
    assert heading_problems([1, 2, 3, 2, 2, 3]) == []
    assert heading_problems([1, 3]) == ["h1 is followed by h3"]
    assert heading_problems([2, 3]) == ["the first heading is h2, not h1"]


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_labels_its_inputs_and_orders_its_headings(page, live_server, role):
    login(page, live_server, role)
    links = page.locator("#site-nav a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    pages = ["/"] + links + EXTRA_PAGES[role] + ["/notifications/"]
    problems = []
    for path in dict.fromkeys(pages):
        response = page.goto(f"{live_server}{path}")
        assert response.status < 500, path
        if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        problems += [f"{path}: input without a label: {html}" for html in page.evaluate(UNLABELLED)]
        problems += [f"{path}: {p}" for p in heading_problems(page.evaluate(HEADINGS))]
    assert not problems, "\n".join(problems)


def test_main_forms_submit_with_the_keyboard(dialog_page, live_server):
    page = dialog_page
    # The officer's review-queue filter: Enter in the search field applies it.
    login(page, live_server, "officer")
    page.goto(f"{live_server}/applications/review")
    page.fill("#q", "苍南")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert "q=" in page.url and "苍南" in page.locator("main table").inner_text()
    # The programme form: Enter in the name field sends the form (refused: the other fields are empty).
    page.goto(f"{live_server}/programmes/new")
    page.fill("#name", "键盘提交测试项目")
    with page.expect_navigation():
        page.press("#name", "Enter")
    assert page.locator(".invalid-feedback").count() >= 1  # the server answered with the form's messages
    # The enterprise's own profile form, by the keyboard only: Tab to the save button, then Enter.
    page.context.clear_cookies()
    login(page, live_server, "sme")
    page.goto(f"{live_server}/enterprise/edit")
    page.focus("#contact_name")
    with page.expect_navigation():
        page.press("#contact_name", "Enter")
    assert page.url.endswith("/enterprise")  # saved (nothing changed) and back on the enterprise page
    from voucher.i18n import merged_catalog

    flashes = [merged_catalog().get(m).string for m in ("Nothing was changed.", "Your changes are saved.")]
    text = page.locator("main").inner_text()
    assert any(f in text for f in flashes)  # the save's message, in the user's language
