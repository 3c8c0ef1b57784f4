"""A JSON body nested ever deeper gets a 400 naming the limit, never a 500 (the decoder's RecursionError
escaped ``get_json(silent=True)``, for anyone, signed in or not), on every API route."""
from __future__ import annotations

import pytest

from voucher.api import MAX_JSON_DEPTH, json_depth_exceeds


def nested(depth: int, kind: str = "object") -> str:
    return ('{"a":' * depth + "1" + "}" * depth) if kind == "object" else ("[" * depth + "1" + "]" * depth)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 990, 5000, 100_000])
@pytest.mark.parametrize("kind", ["object", "array"])
@pytest.mark.parametrize("method, path", [("POST", "/api/v1/auth/token"), ("GET", "/api/v1/catalogue/solutions"),
                                          ("PUT", "/api/v1/calendar/2026"), ("DELETE", "/api/v1/auth/tokens/1")])
def test_a_body_nested_too_deep_is_a_400_naming_the_limit(client, method, path, depth, kind):
    response = client.open(path, method=method, data=nested(depth, kind), content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"]["code"] == "bad_request"
    assert str(MAX_JSON_DEPTH) in body["error"]["fields"]["body"]


def test_a_body_within_the_limit_reaches_the_endpoint(client):
    """Nested up to the limit it is parsed as usual: here the token endpoint refuses the fields, not the shape."""
    body = '{"email": "x@example.test", "password": "wrong password", "extra": ' + nested(MAX_JSON_DEPTH - 1) + "}"
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code in (401, 422), response.get_data(as_text=True)[:300]


def test_depth_is_measured_without_recursion():
    assert not json_depth_exceeds({"a": [1, {"b": 2}]}, limit=3)
    assert json_depth_exceeds({"a": [1, {"b": [3]}]}, limit=3)
    deep: list = []
    for _ in range(200_000):  # far past Python's recursion limit
        deep = [deep]
    assert json_depth_exceeds(deep)


@pytest.mark.parametrize("content_type, data", [("text/plain", '{"a":1}'), ("application/x-www-form-urlencoded", "a=1")])
def test_a_body_that_is_not_json_is_refused_before_the_action_runs(client, make_user, make_org, content_type, data):
    """An action given a body it would not read answered 200 and acted; now 400, and nothing happens."""
    from tests.api.conftest import Api, application_body, build_programme, build_solution, token_for
    from voucher.applications.models import TrialApplication
    from voucher.extensions import db

    programme = build_programme()
    listed = build_solution(make_org("provider"))
    sme = Api(client, token_for(make_user("sme", make_org("enterprise"))))
    created = sme.post("/trial-applications", application_body(programme.id, listed.id))
    assert created.status_code == 201, created.get_json()
    app_id = created.get_json()["id"]
    response = client.post(f"/api/v1/trial-applications/{app_id}/submit", data=data, content_type=content_type,
                           headers=sme.headers())
    assert response.status_code == 400
    assert "JSON" in response.get_json()["error"]["fields"]["body"]
    db.session.expire_all()
    assert db.session.get(TrialApplication, app_id).status == "draft"
    # Without a body the action needs no content type: it runs (here its rules ask for the materials).
    response = client.post(f"/api/v1/trial-applications/{app_id}/submit", headers=sme.headers())
    assert response.status_code == 422 and "materials" in response.get_json()["error"]["fields"]
