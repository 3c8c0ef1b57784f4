"""Accounts, sessions and access: the foundation's acceptance points."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.factories import do_login
from voucher.audit.models import AuditEvent
from voucher.auth.models import LoginSession, User
from voucher.extensions import db


def audit_count():
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_login_with_right_password_opens_a_server_side_session(client, make_user):
    user = make_user("officer")
    response = do_login(client, user)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)) == 1


@pytest.mark.parametrize("email,password", [("nobody@test.example", "whatever-long"), (None, "wrong-password-x")])
def test_unknown_user_or_wrong_password_is_refused_with_a_message(client, make_user, email, password):
    user = make_user("officer")
    response = client.post("/login", data={"email": email or user.email, "password": password})
    assert response.status_code == 422
    assert "邮箱不存在或密码错误" in response.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302  # still anonymous


def test_deactivated_user_cannot_log_in(client, make_user, ctx):
    user = make_user("officer")
    user.active = False
    db.session.flush()
    assert do_login(client, user).status_code == 422


def test_replayed_cookie_after_logout_gets_the_login_page(app, client, make_user):
    user = make_user("officer")
    do_login(client, user)
    old_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    attacker = app.test_client()
    attacker.set_cookie(app.config["SESSION_COOKIE_NAME"], old_cookie)
    response = attacker.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    home = attacker.get("/")
    assert user.name not in home.get_data(as_text=True)


def test_logout_is_post_only(client, make_user):
    user = make_user("officer")
    do_login(client, user)
    assert client.get("/logout").status_code == 405
    assert user.name in client.get("/").get_data(as_text=True)  # still logged in


def test_missing_csrf_token_is_refused_and_changes_nothing(app, client, make_user):
    user = make_user("sme", password="a-good-long-password")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/login", data={"email": user.email, "password": "a-good-long-password"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code in (400, 422)
    assert "表单已过期" in response.get_data(as_text=True) or "表单令牌" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)) == 0


@pytest.mark.parametrize("new_password,message", [
    ("short", "密码至少需要 8 个字符"),
    ("password123", "该密码过于常见"),
    ("12345678", "该密码过于常见"),
])
def test_weak_password_on_change_is_refused_with_a_message(client, make_user, new_password, message):
    user = make_user("sme")
    do_login(client, user)
    old_hash = user.password_hash
    before = audit_count()
    response = client.post("/account/password", data={"current_password": user.plain_password,
                                                      "new_password": new_password, "confirm": new_password})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash
    assert audit_count() == before


def test_wrong_current_password_is_refused(client, make_user):
    user = make_user("sme")
    do_login(client, user)
    response = client.post("/account/password", data={"current_password": "not-it-at-all",
                                                      "new_password": "a-brand-new-secret", "confirm": "a-brand-new-secret"})
    assert response.status_code == 422
    assert "当前密码不正确" in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(app, client, make_user):
    user = make_user("sme")
    other_device = app.test_client()
    do_login(other_device, user)
    do_login(client, user)
    response = client.post("/account/password", data={"current_password": user.plain_password,
                                                      "new_password": "a-brand-new-secret", "confirm": "a-brand-new-secret"})
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # this browser got a fresh session
    assert other_device.get("/account/password").status_code == 302  # the other one is logged out
    assert do_login(app.test_client(), user.email, "a-brand-new-secret").status_code == 302


def test_idle_timeout_ends_the_session(app, client, make_user):
    user = make_user("officer")
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=False) as traveller:
        do_login(client, user)
        assert client.get("/admin/users").status_code == 403  # logged in (officer is not admin)
        traveller.shift(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
        assert client.get("/admin/users").status_code == 302


def test_absolute_timeout_ends_an_active_session(app, client, make_user):
    user = make_user("officer")
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=False) as traveller:
        do_login(client, user)
        for _ in range(app.config["SESSION_ABSOLUTE_HOURS"] * 4):
            traveller.shift(timedelta(minutes=15))
            client.get("/")
        traveller.shift(timedelta(minutes=15))
        assert client.get("/admin/users").status_code == 302


def test_login_is_throttled(app, client, make_user):
    user = make_user("officer")
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [client.post("/login", data={"email": user.email, "password": "wrong-password-x"}).status_code
                 for _ in range(4)]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    assert codes[:3] == [422, 422, 422]
    assert codes[3] == 429


def test_unknown_language_is_refused_and_changes_nothing(client):
    response = client.post("/lang", data={"lang": "xx", "next": "/login"}, follow_redirects=True)
    assert response.status_code == 200
    assert "未知的语言" in response.get_data(as_text=True)
    with client.session_transaction() as s:
        assert "lang" not in s


def test_language_switch_shows_english_and_chinese(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.post("/lang", data={"lang": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and "登录" not in page.replace("简体中文", "")


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user("officer")
    response = do_login(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_the_default_secret_key():
    from voucher import create_app

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app = create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40,
                      "AUDIT_KEYS": "k1:" + "y" * 40, "SIGNING_ALLOW_UNSIGNED": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True


NAV_BY_ROLE = {
    "sme": ("/notifications/",),
    "admin": ("/admin/users", "/audit/"),
    "auditor": ("/audit/",),
}


@pytest.mark.parametrize("role", ["sme", "provider", "evaluator", "officer", "finance", "auditor", "admin"])
def test_each_role_sees_only_its_navigation(app, client, make_user, role):
    from voucher.ui import NAV

    user = make_user(role)
    do_login(client, user)
    client.post("/lang", data={"lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    menu = page[page.index('<nav id="site-nav"'):]
    menu = menu[:menu.index("</nav>")]
    for item in NAV:
        if item.endpoint not in app.view_functions:
            continue
        with app.test_request_context():
            from flask import url_for

            href = f'href="{url_for(item.endpoint)}"'
        if role in item.roles:
            assert menu.count(href) == 1, (role, item.endpoint)  # once, whether in a section or not
        elif not any(role in other.roles and other.endpoint == item.endpoint for other in NAV):
            assert href not in menu, (role, item.endpoint)


@pytest.mark.parametrize("role", ["sme", "provider", "evaluator", "officer", "finance", "auditor", "admin"])
def test_the_menu_groups_only_long_menus_and_loses_no_link(app, client, make_user, role):
    """A role with more than GROUP_OVER links sees them in sections (drop-downs), Home and its own
    pages first; a shorter menu stays flat.  Grouping keeps every link of ``nav_items()`` once."""
    from voucher.ui import GROUP_OVER, NavItem, NavSection, nav_items, nav_menu

    user = make_user(role)
    do_login(client, user)
    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(user)
        items = nav_items()
        menu = nav_menu()
    flattened = [link for entry in menu for link in (entry.items if isinstance(entry, NavSection) else [entry])]
    assert sorted(i.endpoint for i in flattened) == sorted(i.endpoint for i in items)
    sections = [entry for entry in menu if isinstance(entry, NavSection)]
    if len(items) > GROUP_OVER:
        assert sections and isinstance(menu[0], NavItem) and menu[0].endpoint == "dashboard.home"
        assert len(menu) < len(items)
        page = client.get("/").get_data(as_text=True)
        assert page.count('class="nav-link dropdown-toggle') == len(sections)
    else:
        assert not sections and menu == items


@pytest.mark.parametrize("role", ["sme", "provider", "evaluator", "officer", "finance", "auditor"])
def test_admin_pages_are_403_for_other_roles(client, make_user, role):
    do_login(client, make_user(role))
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/new", data={}).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_creates_deactivates_and_the_users_session_ends(app, client, make_user, make_org):
    admin = make_user("admin")
    bureau = make_org("bureau")
    do_login(client, admin)
    response = client.post("/admin/users/new", data={"name": "New Officer", "email": "New.Officer@Test.Example",
                                                     "role": "officer", "organisation_id": str(bureau.id),
                                                     "password": "officer-initial-pw"})
    assert response.status_code == 302
    created = db.session.scalar(select(User).where(User.email == "new.officer@test.example"))
    assert created is not None and created.role == "officer"
    their_browser = app.test_client()
    assert do_login(their_browser, created.email, "officer-initial-pw").status_code == 302
    assert client.post(f"/admin/users/{created.id}/active", data={"active": "0"}).status_code == 302
    assert their_browser.get("/account/password").status_code == 302
    assert do_login(app.test_client(), created.email, "officer-initial-pw").status_code == 422


def test_admin_create_user_bad_input_saves_nothing(client, make_user, make_org):
    admin = make_user("admin")
    do_login(client, admin)
    before = db.session.scalar(select(func.count()).select_from(User))
    response = client.post("/admin/users/new", data={"name": "X", "email": "x@test.example", "role": "officer",
                                                     "organisation_id": "", "password": "password"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "该密码过于常见" in body
    # a role whose organisation kind does not match
    provider_org = make_org("provider")
    response = client.post("/admin/users/new", data={"name": "X", "email": "x@test.example", "role": "officer",
                                                     "organisation_id": str(provider_org.id), "password": "good-long-pass-1"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_duplicate_email_is_refused(client, make_user):
    existing = make_user("sme")
    response = client.post("/register", data={"name": "Someone", "email": existing.email.upper(),
                                              "password": "long-enough-pw", "confirm": "long-enough-pw"})
    assert response.status_code == 422
    assert "该电子邮箱已注册账号" in response.get_data(as_text=True)


def test_self_registration_creates_an_sme_account_and_logs_in(client):
    response = client.post("/register", data={"name": "陈老板", "email": "boss@factory.example",
                                              "password": "long-enough-pw", "confirm": "long-enough-pw"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "boss@factory.example"))
    assert user.role == "sme" and user.organisation_id is None
    assert "陈老板" in client.get("/").get_data(as_text=True)


def test_the_language_chosen_before_registering_stays_after(client):
    # A Chinese browser whose user chose English: opening the account must not switch back to Chinese.
    client.post("/lang", data={"lang": "en", "next": "/register"}, headers={"Accept-Language": "zh-CN"})
    response = client.post("/register", data={"name": "Ms Chen", "email": "chen@factory.example",
                                              "password": "long-enough-pw", "confirm": "long-enough-pw"},
                           headers={"Accept-Language": "zh-CN"}, follow_redirects=True)
    assert response.status_code == 200
    assert '<html lang="en">' in response.get_data(as_text=True)


@pytest.mark.parametrize("lang,expected", [("zh_Hans_CN", "请输入有效的电子邮箱地址"),
                                           ("en", "Enter a valid e-mail address")])
def test_a_wrong_email_is_refused_in_the_pages_language_only(client, lang, expected):
    client.post("/lang", data={"lang": lang, "next": "/register"})
    response = client.post("/register", data={"name": "陈老板", "email": "chen@factory", "password": "long-enough-pw",
                                              "confirm": "long-enough-pw"})
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 422) and expected in html
    assert "Email 地址" not in html and "Invalid email" not in html
    assert db.session.scalar(select(User).where(User.email == "chen@factory")) is None


def test_admin_cannot_deactivate_self(client, make_user):
    admin = make_user("admin")
    do_login(client, admin)
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, admin.id).active is True


def test_out_of_range_ids_and_nul_characters_are_refused_not_500(client, make_user):
    do_login(client, make_user("admin"))
    assert client.get("/admin/users/99999999999999999999").status_code == 404
    assert client.get("/admin/users?q=a%00b").status_code == 422


def test_deactivation_revokes_api_tokens(ctx, make_user):
    from voucher.audit.services import Actor
    from voucher.auth import services as auth_services
    from voucher.auth.tokens import issue_token, user_for_secret

    user = make_user("officer")
    issued = issue_token(user, name="script")
    assert user_for_secret(issued.secret) is not None
    admin = Actor(user_id=None, role="admin", organisation_id=None, label="admin")
    auth_services.set_active(admin, user.id, False)
    auth_services.set_active(admin, user.id, True)
    assert user_for_secret(issued.secret) is None
