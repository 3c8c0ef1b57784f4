"""Everything that checks a password is throttled per account and per address, in storage every
process shares (the app's Redis unless RATELIMIT_STORAGE_URI says otherwise)."""
from __future__ import annotations

import pytest

from tests.factories import do_login
from voucher.auth.throttle import storage_uri


@pytest.fixture()
def limits(app):
    """Set limit settings for one test, restored after."""
    saved = {}

    def _set(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config[key])
            app.config[key] = value

    yield _set
    app.config.update(saved)


def _bad_login(client, email, address):
    return client.post("/login", data={"email": email, "password": "wrong-password-x"},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_login_is_limited_per_account_whatever_the_address(client, make_user, limits):
    limits(LOGIN_RATE_LIMIT="3 per minute", LOGIN_ADDRESS_RATE_LIMIT="100 per minute")
    user = make_user("sme")
    codes = [_bad_login(client, user.email, f"10.0.0.{i}") for i in range(4)]
    assert codes == [422, 422, 422, 429]
    # The same account spelt in capitals is the same account.
    assert _bad_login(client, user.email.upper(), "10.0.0.9") == 429
    # Another account from one of those addresses is not locked out.
    assert _bad_login(client, make_user("sme").email, "10.0.0.1") == 422


def test_login_is_limited_per_address_with_room_for_a_shared_network(client, make_user, limits):
    limits(LOGIN_RATE_LIMIT="2 per minute", LOGIN_ADDRESS_RATE_LIMIT="5 per minute")
    users = [make_user("sme") for _ in range(6)]
    # Five enterprises behind one park address log in (one attempt each): all answered...
    assert [_bad_login(client, u.email, "192.0.2.7") for u in users[:5]] == [422] * 5
    # ...the sixth attempt from that address is refused, another address is not.
    assert _bad_login(client, users[5].email, "192.0.2.7") == 429
    assert _bad_login(client, users[5].email, "192.0.2.8") == 422


def test_the_defaults_give_a_shared_address_ten_times_one_accounts_allowance(app):
    from voucher.config import DefaultConfig

    assert DefaultConfig.LOGIN_RATE_LIMIT.startswith("10 per minute")
    assert DefaultConfig.LOGIN_ADDRESS_RATE_LIMIT.startswith("100 per minute")
    assert DefaultConfig.REAUTH_RATE_LIMIT.startswith("10 per minute")


def test_password_change_is_throttled_per_account(client, make_user, limits):
    limits(REAUTH_RATE_LIMIT="3 per minute")
    user = make_user("officer")
    do_login(client, user)
    codes = [client.post("/account/password", data={"current_password": "not-my-password",
                                                     "new_password": "a-brand-new-pass-123",
                                                     "confirm": "a-brand-new-pass-123"},
                         environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code for i in range(4)]
    assert codes == [422, 422, 422, 429]


def test_the_api_token_is_throttled_per_account(client, make_user, limits):
    limits(LOGIN_RATE_LIMIT="2 per minute")
    user = make_user("officer")
    codes = [client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-password-x"},
                         environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}).status_code for i in range(3)]
    assert codes == [401, 401, 429]


def test_storage_is_the_apps_redis_unless_configured():
    assert storage_uri({"RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": "redis://r:6379/0"}) == "memory://"
    assert storage_uri({"RATELIMIT_STORAGE_URI": None, "REDIS_URL": "redis://r:6379/0"}) == "redis://r:6379/0"
    assert storage_uri({"REDIS_URL": "unix:///tmp/x/redis.socket"}) == "redis+unix:///tmp/x/redis.socket"
    assert storage_uri({"REDIS_URL": None}) == "memory://"


def test_two_processes_share_the_login_counters_in_redis(redis_url, tmp_path):
    """Two apps (as two gunicorn workers) on one Redis: the account's limit counts across both."""
    from voucher import create_app
    from voucher.config import TestConfig
    from voucher.extensions import limiter

    config = {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
              "RATELIMIT_STORAGE_URI": None, "REDIS_URL": redis_url, "LOGIN_RATE_LIMIT": "3 per minute",
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.db'}", "STORAGE_DIR": str(tmp_path)}
    saved = dict(limiter.__dict__)  # the one Limiter object is re-bound by each create_app: put it back after
    first, second = create_app(config), create_app(config)
    assert first.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "redis+unix://"))
    from flask_migrate import upgrade

    with first.app_context():
        upgrade()
    email = f"shared-{tmp_path.name}@example.test"
    try:
        codes = []
        for app in (first, second, first, second):
            with app.test_client() as c:
                codes.append(c.post("/login", data={"email": email, "password": "wrong-password-x"}).status_code)
        assert codes == [422, 422, 422, 429]
        import redis

        assert redis.Redis.from_url(redis_url).keys("*LIMITER*")  # the counters are in Redis, not in a process
    finally:
        with first.app_context():
            limiter.reset()
            from voucher.extensions import db

            db.session.remove()
            db.engine.dispose()
        limiter.__dict__.clear()
        limiter.__dict__.update(saved)
