"""Each demo user logs in through the real browser and sees its own navigation."""
import pytest

from tests.browser.conftest import login, shot

ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_role_logs_in_and_sees_its_start_page(page, live_server, role, lang):
    login(page, live_server, role, lang)
    nav = page.locator("header").inner_text()
    assert ("退出" in nav) if lang != "en" else ("Log out" in nav)
    if role == "admin":
        assert page.locator("#site-nav a[href='/admin/users']").count() == 1
    else:
        assert page.locator("#site-nav a[href='/admin/users']").count() == 0
    shot(page, f"home-{role}-{lang}")


def test_logout_then_back_button_does_not_show_the_account(page, live_server):
    login(page, live_server, "officer")
    page.click("header form[action='/logout'] button")
    page.wait_for_url(f"{live_server}/login")
    page.goto(f"{live_server}/programmes/")
    assert "/login" in page.url


def test_keyboard_submits_the_login_form_and_inputs_have_labels(page, live_server):
    page.goto(f"{live_server}/login")
    for name in ("email", "password"):
        input_id = page.get_attribute(f"input[name={name}]", "id")
        assert page.locator(f"label[for='{input_id}']").count() == 1
    page.fill("input[name=email]", "officer@demo.test")
    page.fill("input[name=password]", "demo-officer-pass")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{live_server}/")
