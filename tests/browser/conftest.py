"""Browser tests: Playwright driving Debian's Chromium against a live server.

The live server is its own app on a file SQLite database built by the migrations and loaded
with the demo data; screenshots go to ``test-artifacts/screenshots/``.  Skipped with the
reason shown when /usr/bin/chromium is absent (``.ci/run`` installs it).
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("VOUCHER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


LIVE: dict = {}  # the live server's app (``live_app``), for the set-up steps a test does through services


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, redis_url):
    from voucher import create_app
    from voucher.config import TestConfig
    from voucher.extensions import db

    tmp = tmp_path_factory.mktemp("live")
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "TESTING": False, "WTF_CSRF_ENABLED": True,
                      "SQLALCHEMY_DATABASE_URI": os.environ.get("VOUCHER_TEST_DATABASE_URL_LIVE")
                      or f"sqlite:///{tmp / 'live.db'}",
                      "STORAGE_DIR": str(tmp / "storage"), "REDIS_URL": redis_url})
    with app.app_context():
        from flask_migrate import upgrade

        from voucher.demo import seed

        if os.environ.get("VOUCHER_TEST_CREATE_ALL"):
            db.create_all()  # only while a model's migration is not yet generated (as tests/conftest.py)
        else:
            upgrade()
        seed()
        db.session.commit()
        db.session.remove()
    LIVE["app"] = app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def live_app(live_server):
    """The live server's app: a test that must do a set-up step through the services (one the browser
    cannot reach in reasonable time) opens an app context on it; the server sees the committed rows."""
    return LIVE["app"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                     "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    p = context.new_page()
    p.set_default_timeout(10_000)
    yield p
    context.close()


def shot(page, name: str, folder: str = "screenshots") -> Path:
    """A full-page screenshot in ``test-artifacts/<folder>/<name>.png`` (gitignored); returns its path."""
    directory = ARTIFACTS.parent / folder
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def locale_of(lang: str) -> str:
    """The browser's own locale for a UI language (what a user of that language would have)."""
    return "en-US" if lang == "en" else "zh-CN"


@pytest.fixture()
def dialog_page(page):
    """The ``page`` with confirmation dialogs (``data-confirm``) accepted, as a user would."""
    page.on("dialog", lambda dialog: dialog.accept())
    return page


@pytest.fixture()
def open_page(browser):
    """``open_page(lang, width, height, phone=False, locale=None)``: a fresh browser context (own
    cookies) at that viewport, in the browser locale of ``lang`` (or ``locale``), confirmation dialogs
    accepted as a user would; all closed after the test."""
    contexts = []

    def open_(lang: str = "zh_Hans_CN", width: int = 1280, height: int = 900, phone: bool = False,
              locale: str | None = None):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale or locale_of(lang),
                                      is_mobile=phone, has_touch=phone)
        contexts.append(context)
        p = context.new_page()
        p.set_default_timeout(15_000)
        p.on("dialog", lambda dialog: dialog.accept())
        return p

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture()
def people(open_page, live_server):
    """``people(role, lang="zh_Hans_CN")``: that demo user's own browser (desktop, Chinese browser
    locale, dialogs accepted), logged in on first use and the same page after."""
    pages = {}

    def as_(role: str, lang: str = "zh_Hans_CN"):
        if (role, lang) not in pages:
            page = open_page(lang, locale="zh-CN")
            login(page, live_server, role, lang)
            pages[(role, lang)] = page
        return pages[(role, lang)]

    return as_


def switch_language(page, lang: str) -> None:
    """Choose ``lang`` with the header's language switch of the page open now (on a phone it is
    behind the menu button); Chinese is the default, so nothing is done for it."""
    if lang != "en":
        return
    toggle = page.locator(".site-menu-toggle")
    if toggle.is_visible():
        toggle.click()
        page.locator("#lang-select").wait_for(state="visible")
    page.select_option("#lang-select", "en")
    with page.expect_navigation():
        page.click("form[action='/lang'] button[type=submit]")


def open_menu(page) -> None:
    """On a phone, unfold the header's menu (a no-op where the menu shows already)."""
    toggle = page.locator(".site-menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
        page.wait_for_selector("#site-nav.collapse.show")  # the opening animation has ended


def menu_link(page, href: str):
    """The header menu's link to ``href``, made visible: the phone's menu unfolded, and on a desktop
    the section (drop-down) holding it opened."""
    open_menu(page)
    link = page.locator(f"#site-nav a[href='{href}']").first
    if not link.is_visible():
        page.locator("#site-nav .site-section").filter(has=page.locator(f"a[href='{href}']")) \
            .locator(".dropdown-toggle").click()
        link.wait_for(state="visible")
    return link


def overflow(page) -> int:
    """How far the page scrolls sideways (0 when the document is no wider than the viewport)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def assert_fits(page, where: str) -> None:
    """The document is no wider than the viewport; otherwise name the widest element."""
    extra = overflow(page)
    if extra > 1:
        culprit = page.evaluate("""() => {
            const w = document.documentElement.clientWidth; let worst = null;
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > w + 1 && (!worst || r.right > worst.right))
                    worst = {right: r.right, tag: el.tagName, cls: el.className, text: (el.innerText || '').slice(0, 40)};
            }
            return worst; }""")
        width = page.viewport_size["width"]
        raise AssertionError(f"{where} scrolls sideways by {extra}px at {width}px; widest: {culprit}")


def assert_action_visible(page, locator, where: str) -> None:
    """The page's main action is shown and lies within the screen's width (reachable without zooming)."""
    assert locator.count() >= 1, f"{where}: the main action is missing"
    action = locator.first
    action.scroll_into_view_if_needed()
    assert action.is_visible(), f"{where}: the main action is hidden"
    box = action.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (
        f"{where}: the main action {action.inner_text()!r} lies outside the {width}px screen: {box}")


def login(page, base: str, role: str, lang: str = "zh_Hans_CN") -> None:
    page.goto(f"{base}/login")
    switch_language(page, lang)
    page.fill("input[name=email]", f"{role}@demo.test")
    page.fill("input[name=password]", f"demo-{role}-pass")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
