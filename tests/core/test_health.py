"""``/healthz`` (the process answers) and ``/readyz`` (database, Redis and storage answer; 503 naming
the one that failed), answered in front of the application: no login, no session cookie, no rate
limit, no database for ``/healthz``."""
from __future__ import annotations

import pytest
from flask import request_started

from tests.factories import do_login


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Content-Type"] == "application/json" and response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_checks_database_redis_and_storage(client, app):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ready", "checks": {"database": "ok", "redis": "ok", "storage": "ok"}}
    assert "Set-Cookie" not in response.headers


def test_head_is_answered_and_other_methods_are_not(client):
    head = client.head("/healthz")
    assert head.status_code == 200 and head.data == b""
    refused = client.post("/readyz")
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"


def test_probes_never_enter_the_application_so_no_session_login_or_limit(client, app, make_user):
    """Signed in or not, a probe does not reach Flask's request handling: no session (so no cookie
    refreshed), no user loaded, no rate limit counted, no CSRF; a hundred probes all answer."""
    entered = []

    def note(sender, **extra):
        from flask import request

        entered.append(request.path)

    user = make_user("officer")
    request_started.connect(note, app)
    try:
        assert do_login(client, user).status_code == 302
        for _ in range(50):
            for path in ("/healthz", "/readyz"):
                response = client.get(path)
                assert response.status_code == 200 and "Set-Cookie" not in response.headers
                assert not any(h.startswith("X-RateLimit") for h in response.headers.keys())
        assert client.get("/").status_code == 200  # still signed in
    finally:
        request_started.disconnect(note, app)
    assert entered == ["/login", "/"]


def _app_with(tmp_path, **config):
    from voucher import create_app

    # The limiter is one object for every app: keep the suite's memory storage.
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ok.db'}",
                       "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": None,
                       "RATELIMIT_STORAGE_URI": "memory://", **config})


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("broken, expected", [
    ("database", ["database"]),
    ("redis", ["redis"]),
    ("storage", ["storage"]),
    ("all", ["database", "redis", "storage"]),
])
def test_readyz_names_the_dependency_that_does_not_answer(tmp_path, redis_url, broken, expected):
    (tmp_path / "a-file").write_text("in the way")
    config = {"REDIS_URL": redis_url}
    if broken in ("database", "all"):  # a database file that cannot be opened
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'a-file' / 'x.db'}"
    if broken in ("redis", "all"):  # nothing listens there
        config["REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"
    if broken in ("storage", "all"):  # a directory that cannot be made
        config["STORAGE_DIR"] = str(tmp_path / "a-file" / "storage")
    app = _app_with(tmp_path, **config)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable" and response.json["failed"] == expected
    for name in ("database", "redis", "storage"):
        assert (response.json["checks"][name].startswith("error: ")) == (name in expected)
    assert "a-file" not in response.get_data(as_text=True)  # the detail is logged, not shown
    assert client.get("/healthz").status_code == 200  # alive all the same: nothing of that is touched


def test_readyz_without_redis_configured_is_ready_and_says_so(tmp_path):
    response = _app_with(tmp_path).test_client().get("/readyz")
    assert response.status_code == 200 and response.json["checks"]["redis"] == "not configured"


def test_readyz_fails_when_the_bucket_is_gone(s3_storage, client):
    assert client.get("/readyz").json["checks"]["storage"] == "ok"
    s3_storage.server.client().delete_bucket(Bucket=s3_storage.bucket)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["storage"]
