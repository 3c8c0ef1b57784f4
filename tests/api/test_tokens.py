"""API tokens: issued for e-mail and password, stored hashed, used as bearer, listed, revoked;
expired, revoked, deactivated and stale-password tokens answer 401 in the error shape; the
issuing endpoint is throttled like the login page."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.api.conftest import Api, assert_error, token_for
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.auth import services as auth_services
from voucher.auth.tokens import ApiToken, hash_secret
from voucher.db import utcnow
from voucher.extensions import db


def issue(client, user, password=None, **extra):
    return client.post("/api/v1/auth/token", json={"email": user.email, "password": password or user.plain_password,
                                                   **extra}, headers={"Accept-Language": "en"})


def test_issue_token_returns_a_secret_once_and_stores_only_its_hash(client, make_user):
    user = make_user("officer")
    response = issue(client, user, name="reporting script")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["token"].startswith("vch_") and len(body["token"]) > 40
    assert body["token_type"] == "Bearer" and body["name"] == "reporting script" and body["state"] == "active"
    row = db.session.get(ApiToken, body["id"])
    assert row.token_hash == hash_secret(body["token"]) and body["token"] not in (row.token_hash, row.hint)
    assert body["token"].startswith(row.hint)
    # Default lifetime 30 days.
    assert timedelta(days=29, hours=23) < row.expires_at - row.created_at <= timedelta(days=30)
    # Never shown again: the listing has no secret.
    listed = Api(client, body["token"]).get("/auth/tokens").get_json()
    assert listed["items"][0]["id"] == body["id"] and "token" not in listed["items"][0]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.issued",
                                                      AuditEvent.object_id == str(body["id"])))


def test_token_lifetime_is_configurable(app, client, make_user):
    user = make_user("sme")
    app.config["API_TOKEN_DAYS"] = 7
    try:
        body = issue(client, user).get_json()
    finally:
        app.config.pop("API_TOKEN_DAYS")
    row = db.session.get(ApiToken, body["id"])
    assert row.expires_at - row.created_at == timedelta(days=7)
    body = issue(client, user, expires_in_days=2).get_json()
    row = db.session.get(ApiToken, body["id"])
    assert row.expires_at - row.created_at == timedelta(days=2)
    assert_error(issue(client, user, expires_in_days=400), 422, "expires_in_days")


def test_wrong_password_is_401_in_the_error_shape(client, make_user):
    user = make_user("sme")
    error = assert_error(issue(client, user, password="not-the-password"), 401, code="unauthorized")
    assert "wrong password" in error["message"]
    assert_error(client.post("/api/v1/auth/token", json={"email": "nobody@test.example", "password": "x"}), 401)
    assert not db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))


def test_missing_fields_name_each_field(client):
    assert_error(client.post("/api/v1/auth/token", json={}, headers={"Accept-Language": "en"}), 422,
                 "email", "password", code="validation_failed")


def test_the_token_authenticates_as_its_user_with_the_users_role(client, make_user):
    user = make_user("finance")
    secret = issue(client, user).get_json()["token"]
    response = Api(client, secret).get("/auth/tokens")
    assert response.status_code == 200
    assert response.get_json()["items"][0]["user_id"] == user.id
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.last_used_at is not None


def test_no_token_or_a_bad_token_is_401_not_a_redirect(client):
    response = client.get("/api/v1/auth/tokens", headers={"Accept-Language": "en"})
    error = assert_error(response, 401, code="unauthorized")
    assert "Authorization: Bearer" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(Api(client, "vch_made-up").get("/auth/tokens"), 401)
    assert_error(client.get("/api/v1/auth/tokens", headers={"Authorization": "Basic abc"}), 401)


def test_a_browser_session_does_not_authenticate_the_api(client, make_user, login):
    """The API is exempt from CSRF, so a session cookie must not be enough."""
    user = make_user("officer")
    login(user)
    assert client.get("/api/v1/auth/tokens").status_code == 401


def test_revoked_token_is_401_at_once(client, make_user):
    user = make_user("sme")
    body = issue(client, user).get_json()
    api = Api(client, body["token"])
    revoked = api.delete(f"/auth/tokens/{body['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    assert_error(api.get("/auth/tokens"), 401)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.revoked"))


def test_expired_token_is_401(client, make_user):
    user = make_user("sme")
    secret = token_for(user)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert_error(Api(client, secret).get("/auth/tokens"), 401)


def test_deactivated_users_tokens_stop_working_at_once(client, make_user):
    user = make_user("provider")
    secret = token_for(user)
    api = Api(client, secret)
    assert api.get("/auth/tokens").status_code == 200
    admin = Actor(user_id=None, role="admin", organisation_id=None, label="test admin")
    auth_services.set_active(admin, user.id, False)
    db.session.flush()
    assert_error(api.get("/auth/tokens"), 401)
    assert_error(issue(client, user), 401)  # and no new token either


def test_a_password_change_ends_tokens_issued_before_it(client, make_user):
    user = make_user("sme")
    secret = token_for(user)
    user.password_changed_at = utcnow() + timedelta(seconds=1)
    db.session.flush()
    assert_error(Api(client, secret).get("/auth/tokens"), 401)


def test_role_changes_apply_to_existing_tokens(client, make_user, make_org):
    """The token carries the user's role through the user: a new role applies at once."""
    user = make_user("auditor")
    api = Api(client, token_for(user))
    assert api.get("/programmes").status_code == 200
    admin = Actor(user_id=None, role="admin", organisation_id=None, label="test admin")
    auth_services.update_user(admin, user.id, name=user.name, role="admin", organisation_id=user.organisation_id)
    db.session.flush()
    assert_error(api.get("/programmes"), 403, code="forbidden")


def test_users_list_only_their_own_tokens_admins_list_anyones(client, make_user):
    alice, bob, admin = make_user("sme"), make_user("provider"), make_user("admin")
    token_for(alice), token_for(alice), token_for(bob)
    as_alice, as_admin = Api(client, token_for(alice)), Api(client, token_for(admin))
    mine = as_alice.get("/auth/tokens").get_json()
    assert {t["user_id"] for t in mine["items"]} == {alice.id} and mine["pagination"]["total"] == 3
    assert_error(as_alice.get(f"/auth/tokens?user_id={bob.id}"), 403)
    everyone = as_admin.get("/auth/tokens?per_page=100").get_json()
    assert {alice.id, bob.id, admin.id} <= {t["user_id"] for t in everyone["items"]}
    only_bob = as_admin.get(f"/auth/tokens?user_id={bob.id}").get_json()
    assert {t["user_id"] for t in only_bob["items"]} == {bob.id} and only_bob["pagination"]["total"] == 1


def test_only_the_owner_or_an_admin_revokes(client, make_user):
    alice, bob, admin = make_user("sme"), make_user("sme"), make_user("admin")
    secret = token_for(alice)
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_secret(secret)))
    assert_error(Api(client, token_for(bob)).delete(f"/auth/tokens/{token_id}"), 403)
    assert_error(Api(client, token_for(bob)).get(f"/auth/tokens/{token_id}"), 403)
    assert Api(client, secret).get("/auth/tokens").status_code == 200
    assert Api(client, token_for(admin)).delete(f"/auth/tokens/{token_id}").status_code == 200
    assert_error(Api(client, secret).get("/auth/tokens"), 401)
    assert_error(Api(client, token_for(admin)).delete("/auth/tokens/999999"), 404)


def test_state_filter(client, make_user):
    user = make_user("sme")
    api = Api(client, token_for(user))
    old = tokens_of(user)[0]
    api.delete(f"/auth/tokens/{old}")
    fresh = Api(client, token_for(user))
    assert [t["state"] for t in fresh.get("/auth/tokens?state=revoked").get_json()["items"]] == ["revoked"]
    assert {t["state"] for t in fresh.get("/auth/tokens?state=active").get_json()["items"]} == {"active"}
    assert_error(fresh.get("/auth/tokens?state=bogus"), 422, "state")


def tokens_of(user):
    return list(db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def test_issuing_is_throttled_like_the_login(app, client, make_user):
    user = make_user("sme")
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [issue(client, user, password="wrong-password").status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        error = assert_error(issue(client, user), 429)  # even the right password now waits
        assert error["code"] == "too_many_requests"
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
