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
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


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


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, base: str, role: str, lang: str = "zh_Hans_CN") -> None:
    page.goto(f"{base}/login")
    if lang == "en":
        toggle = page.locator(".site-menu-toggle")
        if toggle.is_visible():  # on a phone the language switch is behind the menu button
            toggle.click()
            page.locator("#lang-select").wait_for(state="visible")
        page.select_option("#lang-select", "en")
        page.click("form[action='/lang'] button[type=submit]")
    page.fill("input[name=email]", f"{role}@demo.test")
    page.fill("input[name=password]", f"demo-{role}-pass")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
