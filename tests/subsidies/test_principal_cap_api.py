"""Through the API — domain rules §10: on any day, the principal one enterprise is discounted on, summed over its
contracts, is at most the principal cap (10,000,000); claims are served in the
order approved, and a later claim's working says what was left."""
from __future__ import annotations

from tests.api.conftest import Api, token_for
from tests.api.test_flow import attach_by_api
from tests.subsidies.test_identifier_spellings import loan_body

SHARED = ("the enterprise already receives the discount on 8000000.00 of principal on these days under earlier "
          "approved claims; of the per-enterprise cap 10000000.00 2000000.00 remains, so the eligible principal "
          "is 2000000.00")


def _lines(body):
    return [step["text"] for step in body["working"]]


def test_two_loans_over_the_same_days_share_the_cap_at_approval(client, sme, programme, make_user):
    api, officer = Api(client, token_for(sme)), Api(client, token_for(make_user("officer")))
    first = api.post("/loan-applications", loan_body(programme, "WZ-2025-0001")).get_json()
    second = api.post("/loan-applications", loan_body(programme, "WZ-2025-0002")).get_json()
    # Both computed before either was approved: 40,000.00 each on its own.
    assert first["computed_discount"] == second["computed_discount"] == "40000.00"
    for app in (first, second):
        attach_by_api(api, "loan-applications", app["id"])
        assert api.post(f"/loan-applications/{app['id']}/submit").status_code == 200
    assert officer.post(f"/loan-applications/{first['id']}/approve").get_json()["approved_amount"] == "40000.00"
    approved = officer.post(f"/loan-applications/{second['id']}/approve").get_json()
    # Served second: discounted on the 2,000,000 the first leaves of the cap over the same 90 days.
    assert approved["approved_amount"] == "10000.00"
    detail = api.get(f"/loan-applications/{second['id']}").get_json()
    assert any(SHARED in line for line in _lines(detail)), _lines(detail)


def test_a_loan_saved_after_an_approved_one_is_computed_on_what_remains(client, sme, programme, make_user):
    api, officer = Api(client, token_for(sme)), Api(client, token_for(make_user("officer")))
    first = api.post("/loan-applications", loan_body(programme, "WZ-2025-0001")).get_json()
    attach_by_api(api, "loan-applications", first["id"])
    api.post(f"/loan-applications/{first['id']}/submit")
    officer.post(f"/loan-applications/{first['id']}/approve")
    second = api.post("/loan-applications", loan_body(programme, "WZ-2025-0002")).get_json()
    assert second["computed_discount"] == "10000.00"
    assert any(SHARED in line for line in _lines(second))


def test_another_enterprise_is_not_affected(client, sme, other_sme, programme, make_user):
    officer = Api(client, token_for(make_user("officer")))
    mine, theirs = Api(client, token_for(sme)), Api(client, token_for(other_sme))
    first = mine.post("/loan-applications", loan_body(programme, "WZ-2025-0001")).get_json()
    attach_by_api(mine, "loan-applications", first["id"])
    mine.post(f"/loan-applications/{first['id']}/submit")
    officer.post(f"/loan-applications/{first['id']}/approve")
    assert theirs.post("/loan-applications", loan_body(programme, "WZ-2025-0001")).get_json()["computed_discount"] \
        == "40000.00"
