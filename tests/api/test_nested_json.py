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
