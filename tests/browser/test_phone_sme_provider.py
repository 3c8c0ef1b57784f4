"""Every page an SME or a solution provider reaches, on a 390×844 phone, in Chinese and English.

The crawl starts at the start page, takes every menu entry, and from each menu page the first
detail links in its table and the pages its buttons open (the application forms), so a page added to the menu or linked from a list is checked without
being named here.  On each page: no sideways scrolling of the page itself (document width within
the viewport), and the page's main action, where it has one, inside the screen's width.  The
header folds into a menu button that opens the menu.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import assert_action_visible, assert_fits, login, overflow, shot

PHONE = {"width": 390, "height": 844}
SKIP = ("/logout", "/lang", "/export", "format=", "/download", ".pdf", ".xlsx", ".csv", "/api/")
DETAIL_LINKS_PER_LIST = 2


def _same_site_paths(page, base: str, selector: str) -> list[str]:
    hrefs = page.locator(selector).evaluate_all("els => els.map(e => e.getAttribute('href'))")
    paths = []
    for href in hrefs:
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        parts = urlsplit(href)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != base:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if any(s in path for s in SKIP):
            continue
        if path not in paths:
            paths.append(path)
    return paths


def _check_fits(page, path: str) -> None:
    if overflow(page) > 1:
        shot(page, "phone-overflow-" + (path.strip("/").split("?")[0].replace("/", "-") or "home"))
    assert_fits(page, path)
    action = page.locator("main .btn-primary:visible")
    if action.count():
        assert_action_visible(page, action, path)


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("role", ["sme", "provider"])
def test_every_sme_and_provider_page_fits_a_phone(open_page, live_server, role, lang):
    page = open_page(lang, PHONE["width"], PHONE["height"], phone=True)
    login(page, live_server, role, lang)
    # The menu is folded: the button opens it.
    nav = page.locator("#site-nav")
    assert not nav.is_visible()
    page.click(".site-menu-toggle")
    nav.wait_for(state="visible")
    page.wait_for_selector("#site-nav.collapse.show")  # the opening animation has ended
    assert page.locator("#site-nav a[href]").first.is_visible()
    shot(page, f"phone-{role}-menu-{lang}")

    menu = _same_site_paths(page, live_server, "#site-nav a[href]")
    # Every menu link shows in the unfolded menu, those of a section (a drop-down on a desktop) too.
    hidden = page.locator("#site-nav a[href]").evaluate_all("els => els.filter(e => !e.offsetParent).map(e => e.href)")
    assert not hidden, hidden
    assert len(menu) >= 3, menu
    to_visit = ["/"] + menu
    seen: list[str] = []
    for path in to_visit:
        if path in seen:
            continue
        seen.append(path)
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        _check_fits(page, path)
        shot(page, f"phone-{role}-{(path.strip('/').split('?')[0].replace('/', '-') or 'home')}-{lang}")
        if path in menu:
            # the first detail pages of its list, and the forms its buttons open (apply, new, edit)
            for detail in (_same_site_paths(page, live_server, "main table a[href]")[:DETAIL_LINKS_PER_LIST]
                           + _same_site_paths(page, live_server, "main a.btn[href]")):
                if detail not in seen and detail not in to_visit:
                    to_visit.append(detail)
    assert len(seen) > len(menu), "no detail page was reached from the lists"


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_a_list_table_becomes_labelled_cards_on_a_phone(open_page, live_server, lang):
    page = open_page(lang, PHONE["width"], PHONE["height"])
    login(page, live_server, "sme", lang)
    page.goto(f"{live_server}/applications/mine")
    cell = page.locator("main table.table tbody tr td").first
    label = cell.get_attribute("data-label")
    heading = page.locator("main table.table thead th").first.text_content().strip()
    assert label == heading and label
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    # On a desktop the same table is a table.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert cell.evaluate("td => getComputedStyle(td).display") == "table-cell"
