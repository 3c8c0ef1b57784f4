"""One error shape for 400/401/403/404/409/422 under /api/v1 with the web forms' business messages in
the request's language; the same pagination everywhere; the browsable docs page (vendored assets, no
inline script under the site's Content-Security-Policy)."""
from __future__ import annotations

import re
from decimal import Decimal as D

import pytest

from tests.api.conftest import Api, application_body, assert_error, build_programme, build_solution, token_for


def test_each_status_uses_the_one_shape(client, make_user, make_org):
    programme = build_programme()
    provider_org = make_org("provider")
    listed = build_solution(provider_org)
    officer = Api(client, token_for(make_user("officer")))
    sme = Api(client, token_for(make_user("sme", make_org("enterprise"))))
    provider = Api(client, token_for(make_user("provider", provider_org)))
    # 400: a body that is not JSON
    bad = client.post("/api/v1/solutions", data="{not json", content_type="application/json",
                      headers=provider.headers())
    assert_error(bad, 400, code="bad_request")
    # 401, 403
    assert_error(Api(client).get("/solutions"), 401, code="unauthorized")
    assert_error(sme.get("/solutions"), 403, code="forbidden")
    # 404: no such object, and no such endpoint
    assert_error(officer.get("/solutions/999999"), 404, code="not_found")
    assert_error(officer.get("/no-such-thing"), 404, code="not_found")
    # 409: a transition the state does not allow
    error = assert_error(officer.post(f"/solutions/{listed.id}/relist", {"reason": "x"}), 409,
                         code="transition_not_allowed")
    assert "while the item is listed" in error["message"]
    # 422: schema (types) and business rules, each naming the field
    assert_error(provider.post("/solutions", {"title": 5}), 422, "title", "category", code="validation_failed")
    app_body = application_body(programme.id, listed.id, amount="160000.00")  # over the trial price
    error = assert_error(sme.post("/trial-applications", app_body), 422, "requested_amount")
    assert "150,000.00" in error["fields"]["requested_amount"]
    # Baseline refusals are named by the API's nested path.
    body = application_body(programme.id, listed.id)
    body["baselines"] = {"defect_rate": "-1.00"}
    assert_error(sme.post("/trial-applications", body), 422, "baselines.defect_rate")



@pytest.mark.parametrize("rate", ["100.01", "150.00", "12345"])
def test_the_api_refuses_a_defect_rate_over_100_percent_as_the_form_does(client, make_user, make_org, rate):
    """A percentage baseline's limit is a rule of the service, not of the form: the API took 150% before."""
    from voucher.applications.models import TrialApplication
    from voucher.extensions import db

    programme = build_programme()
    listed = build_solution(make_org("provider"))
    sme = Api(client, token_for(make_user("sme", make_org("enterprise"))))
    body = application_body(programme.id, listed.id)
    body["baselines"] = {"defect_rate": rate}
    error = assert_error(sme.post("/trial-applications", body), 422, "baselines.defect_rate")
    assert "100" in error["fields"]["baselines.defect_rate"]
    body["baselines"] = {"defect_rate": "3.20"}
    created = sme.post("/trial-applications", body)
    assert created.status_code == 201, created.get_json()
    app_id = created.get_json()["id"]
    body = {k: v for k, v in body.items() if k not in ("programme_id", "solution_id", "idempotency_key")}
    body["baselines"] = {"defect_rate": rate}
    assert_error(sme.put(f"/trial-applications/{app_id}", body), 422, "baselines.defect_rate")
    db.session.expire_all()
    assert db.session.get(TrialApplication, app_id).baseline_defect_rate == D("3.20")  # nothing saved
    body["baselines"] = {"defect_rate": "100.00"}  # the limit itself is a percentage
    assert sme.put(f"/trial-applications/{app_id}", body).status_code == 200


def test_business_messages_follow_the_request_language(client, make_user, make_org):
    programme = build_programme()
    listed = build_solution(make_org("provider"))
    token = token_for(make_user("sme", make_org("enterprise")))
    body = application_body(programme.id, listed.id, amount="160000.00")
    english = Api(client, token, lang="en").post("/trial-applications", body).get_json()["error"]
    chinese = Api(client, token, lang="zh-CN").post("/trial-applications", body).get_json()["error"]
    assert english["fields"]["requested_amount"] != chinese["fields"]["requested_amount"]
    assert re.search(r"[\u4e00-\u9fff]", chinese["fields"]["requested_amount"])
    assert "150,000.00" in chinese["fields"]["requested_amount"]
    # The default (no Accept-Language) is Chinese, as for the pages; a 401 is translated too.
    response = client.get("/api/v1/solutions")
    assert re.search(r"[\u4e00-\u9fff]", response.get_json()["error"]["message"])


def test_the_users_web_language_does_not_override_the_requests(client, make_user):
    user = make_user("officer")
    user.locale = "zh_Hans_CN"
    english = Api(client, token_for(user), lang="en").get("/solutions/999999").get_json()["error"]["message"]
    assert english == "No such solution."


@pytest.mark.parametrize("path", ["/catalogue/solutions?q=%00", "/solutions?q=a%00b"])
def test_nul_characters_are_refused_not_a_server_error(client, make_user, path):
    api = Api(client, token_for(make_user("officer")))
    assert_error(api.get(path), 422, "q")


def test_nul_in_a_body_is_refused_naming_the_field(client, make_user):
    api = Api(client, token_for(make_user("provider")))
    assert_error(api.post("/solutions", {"title": "a\x00b", "category": "mes"}), 422, "title")


def test_ids_beyond_the_database_range_are_simply_not_found(client, make_user):
    api = Api(client, token_for(make_user("officer")))
    for path in ("/solutions/9223372036854775808", "/solutions/0", "/programmes/2147483648"):
        assert_error(api.get(path), 404)
    error = assert_error(api.post("/calculations/loan-discount", {
        "benchmark_rate": "3.00", "loan_rate": "2.40", "programme_id": 2**63,
        "periods": [{"start": "2026-01-01", "end": "2026-02-01", "outstanding_principal": "1.00",
                     "interest_paid": "1.00"}]}), 422, "programme_id")
    assert error["code"] == "validation_failed"


def test_pagination_is_the_same_everywhere(client, make_user, make_org):
    provider_org = make_org("provider")
    for i in range(5):
        build_solution(provider_org, title=f"Sol {i}")
    anon = Api(client)
    body = anon.get("/catalogue/solutions?per_page=2&page=2&sort=newest").get_json()
    assert len(body["items"]) == 2
    pagination = body["pagination"]
    assert {k: pagination[k] for k in ("page", "per_page", "total", "pages")} == {
        "page": 2, "per_page": 2, "total": 5, "pages": 3}
    # a keyset list: ?page= answers the cursors too, and `next` reads on from this page's last row
    assert pagination["next_cursor"] and "cursor=" in pagination["next"] and "&page=" not in pagination["next"]
    following = client.get(pagination["next"]).get_json()
    assert len(following["items"]) == 1 and following["pagination"]["next"] is None
    past_the_end = anon.get("/catalogue/solutions?per_page=2&page=9").get_json()
    assert past_the_end["items"] == [] and past_the_end["pagination"]["total"] == 5
    assert_error(anon.get("/catalogue/solutions?per_page=101"), 422, "per_page")
    assert_error(anon.get("/catalogue/solutions?page=0"), 422, "page")
    assert_error(anon.get("/catalogue/solutions?sort=cheapest"), 422, "sort")
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, ops in spec["paths"].items():
        get = ops.get("get")
        if not get:
            continue
        schema = get["responses"]["200"]["content"].get("application/json", {}).get("schema", {})
        ref = schema.get("$ref", "")
        if ref.endswith("Page"):
            names = {p["name"] for p in get["parameters"]}
            assert {"page", "per_page"} <= names, path
            component = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
            assert set(component["required"]) == {"items", "pagination"}, path


def test_the_docs_page_is_served_with_vendored_assets_and_no_inline_script(client):
    page = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "cdn" not in html.lower() and "https://" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in ("vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css",
                  "vendor/swagger-ui/LICENSE", "js/api-docs.js"):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200, asset
        response.close()
    # The docs page is not itself an API operation.
    assert "/api/v1/docs" not in client.get("/api/v1/openapi.json").get_json()["paths"]
