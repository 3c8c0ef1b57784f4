"""The park API: the same figures and members as the pages, no bank field in any answer, another
park 403, an unknown park 404."""
from __future__ import annotations

from tests.api.conftest import Api, token_for
from voucher.parks import queries

BANK = ("bank_name", "bank_account", "bank_code")


def keys(value) -> set:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def test_the_operator_reads_its_park_through_the_api(client, parks):
    api = Api(client, token_for(parks.op_a))
    listed = api.get("/parks").get_json()
    assert [p["id"] for p in listed] == [parks.park_a.id]
    summary = api.get(f"/parks/{parks.park_a.id}/summary")
    assert summary.status_code == 200
    body = summary.get_json()
    f = queries.figures(parks.park_a.id)
    assert (body["members"], body["pending"], body["trials"]) == (f.members, f.pending, f.trials) == (2, 1, 0)
    assert body["granted"] == "0.00" and body["adoption_rate"] is None
    members = api.get(f"/parks/{parks.park_a.id}/enterprises?per_page=1")
    assert members.status_code == 200
    page = members.get_json()
    assert page["pagination"]["total"] == 2 and len(page["items"]) == 1
    everything = api.get(f"/parks/{parks.park_a.id}/enterprises").get_json()
    assert {m["id"] for m in everything["items"]} == {parks.a1.org.id, parks.a2.org.id}
    assert everything["items"][0]["maturity_level"] is None
    found = api.get(f"/parks/{parks.park_a.id}/enterprises", query_string={"q": "甲二"}).get_json()
    assert [m["id"] for m in found["items"]] == [parks.a2.org.id]
    for answer in (listed, body, everything):
        assert not keys(answer) & set(BANK)
    text = api.get(f"/parks/{parks.park_a.id}/enterprises").get_data(as_text=True)
    assert parks.a1.org.bank_account not in text


def test_another_park_is_forbidden_and_an_unknown_one_not_found(client, parks):
    api = Api(client, token_for(parks.op_a))
    for path in (f"/parks/{parks.park_b.id}/summary", f"/parks/{parks.park_b.id}/enterprises"):
        response = api.get(path)
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert api.get("/parks/999999/summary").status_code == 404
    sme = Api(client, token_for(parks.a1.user))
    assert sme.get(f"/parks/{parks.park_a.id}/summary").status_code == 403
    for method in ("put", "post"):
        assert getattr(api, method)("/enterprise", json={}).status_code == 403
