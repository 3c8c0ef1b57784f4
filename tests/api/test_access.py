"""Every API endpoint × every role, table-driven: the expected 200/201/403/404 (401 without a token).

Conventions the table proves:
- no token (or a bad one) → 401 in the error shape on every authenticated endpoint;
- a role the endpoint is not for → 403;
- an object of another organisation → **403** (the services' ``Forbidden``, as on the web pages),
  an id that does not exist → 404: an SME guessing another enterprise's ids learns only "forbidden";
- the allowed role gets 200/201 (or the business rule's own refusal where the object's state says
  so, e.g. 409 registering a second enterprise, 422 recommending without evaluations).

Each row runs its refused roles first and the allowed ones last, so a successful change never
spoils the others' expectation; each row gets a fresh world (the test's transaction is rolled back).
"""
from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.api.conftest import (
    AUTHENTICATED,
    BUREAU,
    ROLES,
    SOLUTION_READERS,
    RoleWorld,
    application_body,
    assert_error,
    b64,
    bank_statement,
)
from voucher import access
from voucher.applications.services import local_today
from voucher.documents.builders import KINDS

NEXT_YEAR = local_today().year + 1


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    allowed: object  # {role: expected status} (or a callable giving it); roles not named get `other`
    body: object = None  # dict, or callable(world) → dict
    other: int = 403
    public: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def both(*roles: str, status: int = 200) -> dict:
    return {r: status for r in roles}


def table(action: str, status: int = 200, own: bool = True):
    """The roles the access table (``voucher.access``) allows ``action``; with ``own`` the row's object
    belongs to the first enterprise and provider, so ``other_sme`` and ``other_provider`` are refused
    by the rule's object check.  A callable: the table is filled when the app is created."""

    def allowed() -> dict:
        roles = access.roles_for(action)
        return {r: status for r in ROLES if r != "anon" and r.removeprefix("other_") in roles
                and not (own and r.startswith("other_"))}

    return allowed


SOLUTION_BODY = {"title": "T", "category": "mes", "target_industries": ["pumps_valves"], "description": "D",
                 "list_price": "200000.00", "trial_price": "100000.00", "trial_period_days": 30}
RUBRIC = {"maturity": 80, "references_score": 80, "price_reasonableness": 80, "service_capability": 80,
          "data_security": 80, "decision": "list", "reasons": "ok"}
ENTERPRISE_BODY = {"name": "Ent", "district": "lucheng", "industry": "pumps_valves", "employees": 50,
                   "annual_revenue": "5000000.00", "contact_name": "C", "contact_phone": "0577-88000000",
                   "bank_name": "B", "bank_account": "62220000111122"}


def enterprise_body(w):
    from tests.factories import valid_uscc

    return {**ENTERPRISE_BODY, "uscc": valid_uscc(990000 + secrets.randbelow(9999))}


def loan_body(w, create=True):
    today = local_today()
    body = {"programme_id": w.ids["programme"], "bank_name": "Bank", "contract_no": f"C-{secrets.token_hex(3)}",
            "contract_date": (today - timedelta(days=200)).isoformat(), "principal": "1000000.00",
            "loan_rate": "2.40", "term_start": (today - timedelta(days=190)).isoformat(),
            "term_end": (today + timedelta(days=500)).isoformat(),
            "periods": [{"start": (today - timedelta(days=180)).isoformat(),
                         "end": (today - timedelta(days=90)).isoformat(),
                         "outstanding_principal": "1000000.00", "interest_paid": "6000.00"}]}
    if create:
        body.update(plan_file=b64("plan.pdf"), statement_file=b64("st.pdf"))
    return body


def robot_body(w):
    return {"programme_id": w.ids["programme"], "lines": [
        {"model": "M", "manufacturer": "F", "domestic": False, "quantity": 1, "unit_price_excl_vat": "50000.00",
         "invoice_no": f"{secrets.randbelow(10**20):020d}", "invoice_date": (local_today() - timedelta(days=5)).isoformat(),
         "invoice_file": b64("inv.pdf")}]}


def trial_content(w):
    body = application_body(w.ids["programme"], w.ids["sol_listed"], amount="20000.00")
    return {k: body[k] for k in ("requested_amount", "need_statement", "contract_date", "trial_start_date",
                                 "baselines")}


LOAN_CALC = {"benchmark_rate": "3.00", "loan_rate": "2.40", "periods": [
    {"start": "2026-01-01", "end": "2026-04-01", "outstanding_principal": "8000000.00", "interest_paid": "48000.00"}]}
ROBOT_CALC = {"lines": [{"model": "M", "domestic": True, "quantity": 1, "unit_price_excl_vat": "1000.00",
                         "invoice_no": "A", "invoice_date": "2026-01-01"}]}
REASON = {"reason": "Because."}

TABLE = [
    # tokens (issuing needs no token: e-mail and password)
    Row("POST", "/auth/token", both(*ROLES, status=201),
        lambda w: {"email": w.users["sme"].email, "password": w.users["sme"].plain_password}, public=True),
    Row("GET", "/auth/tokens", both(*AUTHENTICATED)),
    Row("GET", "/auth/tokens/{sme_token}", both("sme", "admin")),
    Row("DELETE", "/auth/tokens/{sme_token}", both("sme", "admin")),
    # public catalogue
    Row("GET", "/catalogue/solutions", both(*ROLES), public=True),
    Row("GET", "/catalogue/solutions/{sol_listed}", both(*ROLES), public=True),
    Row("GET", "/catalogue/solutions/{sol_draft}", {}, other=404, public=True),
    # solutions
    Row("GET", "/solutions", both("other_provider", *SOLUTION_READERS)),
    Row("POST", "/solutions", both("provider", "other_provider", status=201), SOLUTION_BODY),
    Row("GET", "/solutions/{sol_draft}", table("catalogue.record")),
    Row("PUT", "/solutions/{sol_draft}", both("provider"), SOLUTION_BODY),
    Row("POST", "/solutions/{sol_draft}/submit", both("provider")),
    Row("POST", "/solutions/{sol_rejected}/revise", both("provider")),
    Row("POST", "/solutions/{sol_submitted}/start-screening", table("catalogue.screen")),
    Row("POST", "/solutions/{sol_screening}/screening", table("catalogue.screen"), RUBRIC),
    Row("POST", "/solutions/{sol_listed}/recommend", {"officer": 422}),  # allowed, but no passed evaluations
    Row("POST", "/solutions/{sol_listed}/delist", table("catalogue.curate"), REASON),
    Row("POST", "/solutions/{sol_delisted}/relist", table("catalogue.curate"), REASON),
    # enterprises
    Row("GET", "/enterprise", both("sme", "other_sme")),
    Row("POST", "/enterprise", {"sme": 409, "other_sme": 409}, enterprise_body),  # already registered
    Row("PUT", "/enterprise", both("sme", "other_sme"), enterprise_body),
    Row("GET", "/enterprises", table("enterprises.index")),
    Row("GET", "/enterprises/{ent_a}", table("enterprises.read")),
    # trial applications
    Row("GET", "/trial-applications", table("applications.read", own=False)),
    Row("POST", "/trial-applications", both("other_sme", "sme", status=201),
        lambda w: application_body(w.ids["programme"], w.ids["sol_listed"], amount="20000.00")),
    Row("GET", "/trial-applications/{app_submitted}", table("applications.read")),
    Row("PUT", "/trial-applications/{app_draft}", table("applications.file"), trial_content),
    Row("POST", "/trial-applications/{app_draft}/submit", table("applications.file")),
    Row("POST", "/trial-applications/{app_draft}/materials", both("sme", status=201),
        {"material": "other", "files": [{"filename": "a.pdf",
                                         "content_base64": "JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKJSVFT0YK"}]}),
    Row("POST", "/trial-applications/{app_submitted}/withdraw", table("applications.file")),
    Row("POST", "/trial-applications/{app_submitted}/approve", table("applications.decide")),
    Row("POST", "/trial-applications/{app_submitted}/reject", both("officer"), REASON),
    Row("POST", "/trial-applications/{app_submitted}/return", both("officer"), REASON),
    Row("POST", "/trial-applications/{app_approved}/cancel", both("officer"), REASON),
    # loan discount
    Row("GET", "/loan-applications", both("sme", "other_sme", *BUREAU)),
    Row("POST", "/loan-applications", both("other_sme", "sme", status=201), loan_body),
    Row("GET", "/loan-applications/{loan_submitted}", both("sme", *BUREAU)),
    Row("PUT", "/loan-applications/{loan_draft}", both("sme"), lambda w: loan_body(w, create=False)),
    Row("POST", "/loan-applications/{loan_draft}/submit", both("sme")),
    Row("POST", "/loan-applications/{loan_draft}/materials", both("sme", status=201),
        {"material": "other", "files": [{"filename": "a.pdf",
                                         "content_base64": "JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKJSVFT0YK"}]}),
    Row("POST", "/loan-applications/{loan_submitted}/withdraw", both("sme")),
    Row("POST", "/loan-applications/{loan_submitted}/approve", both("officer")),
    Row("POST", "/loan-applications/{loan_submitted}/reject", both("officer"), REASON),
    Row("POST", "/loan-applications/{loan_submitted}/return", both("officer"), REASON),
    Row("GET", "/loan-applications/{loan_submitted}/files/{loan_file}", both("sme", *BUREAU)),
    # robot subsidy
    Row("GET", "/robot-applications", both("sme", "other_sme", *BUREAU)),
    Row("POST", "/robot-applications", both("other_sme", "sme", status=201), robot_body),
    Row("GET", "/robot-applications/{robot_submitted}", both("sme", *BUREAU)),
    Row("PUT", "/robot-applications/{robot_draft}", both("sme"), robot_body),
    Row("POST", "/robot-applications/{robot_draft}/submit", both("sme")),
    Row("POST", "/robot-applications/{robot_draft}/materials", both("sme", status=201),
        {"material": "other", "files": [{"filename": "a.pdf",
                                         "content_base64": "JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKJSVFT0YK"}]}),
    Row("POST", "/robot-applications/{robot_submitted}/withdraw", both("sme")),
    Row("POST", "/robot-applications/{robot_submitted}/approve", both("officer")),
    Row("POST", "/robot-applications/{robot_submitted}/reject", both("officer"), REASON),
    Row("POST", "/robot-applications/{robot_submitted}/return", both("officer"), REASON),
    Row("GET", "/robot-applications/{robot_submitted}/files/{robot_file}", both("sme", *BUREAU)),
    # programmes
    Row("GET", "/programmes", table("programmes.read")),
    Row("GET", "/programmes/open", both(*AUTHENTICATED)),
    Row("GET", "/programmes/{programme}", table("programmes.read")),
    Row("GET", "/programmes/{programme}/ledger", both(*BUREAU)),
    Row("GET", "/programmes/{programme}/rule-versions", table("programmes.rule_versions")),
    Row("GET", "/programmes/{programme}/rule-versions/{rule_version}", table("programmes.rule_versions")),
    Row("GET", "/programmes/{programme}/export", both(*BUREAU)),
    Row("GET", "/programmes/{programme}/export?format=csv", both(*BUREAU)),
    # statistics (the roles of the web page /statistics)
    Row("GET", "/statistics", table("statistics.read")),
    Row("GET", "/statistics?programme_id={programme}", both(*BUREAU)),
    # trials
    Row("GET", "/trials", table("trials.view", own=False)),
    Row("GET", "/trials/{trial_open}", both("sme", "provider", *BUREAU)),
    Row("GET", "/trials/{trial_evaluated}", both("sme", "provider", "evaluator", *BUREAU)),
    Row("POST", "/trials/{trial_open}/milestones", table("trials.report_milestone"), {"kind": "kickoff", "note": "Started."}),
    Row("POST", "/trials/{trial_running}/milestones/deployed/confirm", table("trials.confirm_milestone")),
    Row("POST", "/trials/{trial_running}/milestones/deployed/dispute", both("sme"), REASON),
    Row("GET", "/trials/{trial_running}/milestones/{trial_milestone}/file", both("sme", "provider", *BUREAU)),
    Row("GET", "/evaluators", both("officer")),
    Row("POST", "/trials/{trial_completed}/assignments", table("trials.manage"),
        lambda w: {"evaluator_id": w.users["evaluator"].id}),
    Row("POST", "/trials/{trial_assigned}/assignments/{trial_assigned_assignment}/remove", both("officer"), REASON),
    Row("POST", "/trials/{trial_assigned}/declare-no-conflict", both("evaluator"), {"confirm": True}),
    Row("POST", "/trials/{trial_assigned}/declare-conflict", both("evaluator"), REASON),
    Row("POST", "/trials/{trial_cleared}/evaluation", table("trials.evaluate"), {
        "afters": {"defect_rate": "1.50"}, "scores": {c: "75" for c in
                                                     ("effect", "quality", "service", "cost_effectiveness",
                                                      "replicability")},
        "comments": "Fine.", "recommendation": "improve"}),
    Row("POST", "/trials/{trial_evaluated}/result", {"officer": 409}),  # allowed; the result is already recorded
    Row("POST", "/trials/{trial_evaluated}/adoption", both("sme"), {"adopted": False, "reason": "Too costly."}),
    Row("GET", "/trials/{trial_evaluated}/evaluations/{evaluation}", both("sme", "provider", "evaluator", *BUREAU)),
    # documents and jobs (documents about an application: the default rule, bureau roles)
    Row("GET", "/documents?subject_type=application&subject_id={app_submitted}", both(*BUREAU)),
    Row("POST", "/documents", lambda: both(*sorted(KINDS["audit_dossier"].roles & set(BUREAU)), status=202),
        lambda w: {"kind": "audit_dossier", "subject_type": "application", "subject_id": w.ids["app_submitted"]}),
    Row("GET", "/documents/{document}", both(*BUREAU)),
    Row("GET", "/documents/{document}/file", both(*BUREAU)),
    # the working-day calendar (next year: always one an officer may enter)
    Row("GET", "/calendar/2026", table("workcalendar.read")),
    Row("PUT", f"/calendar/{NEXT_YEAR}", table("workcalendar.enter"),
        {"reference": "国办发明电", "days_off": [{"date": f"{NEXT_YEAR}-01-01", "name": "元旦"}]}),
    Row("GET", "/jobs", both(*AUTHENTICATED)),
    Row("GET", "/jobs/{job}", both(*BUREAU, "admin")),
    Row("POST", "/jobs/{job}/retry", {"finance": 200, "admin": 409}),  # the second finds it queued again
    # payments (the disbursements are the first enterprise's robot subsidies; prepared by a second finance
    # officer, so ``finance`` is the checker who approves or rejects, with its own password)
    Row("GET", "/payables", table("payments.read")),
    Row("GET", "/disbursements", table("payments.see_disbursement", own=False)),
    Row("POST", "/disbursements", table("payments.handle", status=201),
        lambda w: {"source_type": "robot_application", "source_id": w.ids["robot_payable"], "milestone": "full"}),
    Row("GET", "/disbursements/{dsb_prepared}", both("sme", *BUREAU)),  # the payee's own users and the bureau
    Row("POST", "/disbursements/{dsb_prepared}/approve", both("finance"),
        lambda w: {"password": w.users["finance"].plain_password}),
    Row("POST", "/disbursements/{dsb_prepared}/reject", both("finance"),
        lambda w: {"password": w.users["finance"].plain_password, "reason": "Wrong amount."}),
    Row("PUT", "/disbursements/{dsb_prepared}/bank-details", both("finance"),
        {"payee_name": "Payee Ltd", "bank_name": "Bank of Ningbo", "bank_account": "6222000099998888"}),
    Row("POST", "/disbursements/{dsb_batched}/return", {"finance": 409},  # a line not (yet) paid: refused
        {"reason": "Account closed."}),
    Row("GET", "/payment-batches", table("payments.read")),
    Row("POST", "/payment-batches", table("payments.handle", status=201),
        lambda w: {"programme_id": w.ids["programme"], "disbursement_ids": [w.ids["dsb_approved"]]}),
    Row("GET", "/payment-batches/{batch}", both(*BUREAU)),
    Row("POST", "/payment-batches/{batch}/results", both("finance"),
        lambda w: {"disbursement_id": w.ids["dsb_batched"], "outcome": "paid", "bank_reference": "BANK-1"}),
    # bank reconciliation (对账)
    Row("GET", "/payment-batches/{batch}/reconciliation", table("payments.reconcile")),
    Row("POST", "/payment-batches/{batch}/reconciliation", table("payments.reconcile", status=201),
        lambda w: {"file": {"filename": "bank.csv", "content_base64": base64.b64encode(
            bank_statement([(f"DSB-2000-{secrets.randbelow(10**6):06d}", "2.00")])).decode()}}),
    Row("POST", "/reconciliation-rows/{recon_row}/decision", table("payments.reconcile"),
        {"decision": "ignore", "reason": "Not a payment of this programme."}),
    # parks (小微企业园): the operator reads its own park, the bureau every park; read only
    Row("GET", "/parks", table("parks.read", own=False)),
    Row("GET", "/parks/{park_a}/summary", table("parks.read")),
    Row("GET", "/parks/{park_a}/enterprises", table("parks.read")),
    Row("GET", "/parks/{park_a}/enterprises?q=API&page=1&per_page=5", table("parks.read")),
    # benefits without applying (免申即享): the enterprise's own candidates, answered by its users; the bureau
    # reads every candidate, the imports and the figures
    Row("GET", "/benefit-candidates", both("sme", "other_sme", "officer", "auditor")),
    Row("GET", "/benefit-candidates?status=open&kind=robot&district=lucheng&industry=pumps_valves",
        both("sme", "other_sme", "officer", "auditor")),
    Row("GET", "/benefit-candidates/{candidate}", table("benefits.read")),
    Row("POST", "/benefit-candidates/{candidate}/decline", table("benefits.decide"), REASON),
    Row("POST", "/benefit-candidates/{candidate}/confirm", table("benefits.decide"),
        {"declaration": True, "account_confirmed": True, "invoice_files": [b64("invoice.pdf")]}),
    Row("GET", "/benefit-sources", table("benefits.sources", own=False)),
    Row("GET", "/benefit-sources/{benefit_source}", table("benefits.sources", own=False)),
    Row("GET", "/benefit-figures", table("benefits.overview", own=False)),
    # public calculators
    Row("POST", "/calculations/sme-class", both(*ROLES), {"employees": 10, "annual_revenue": "100.00"}, public=True),
    Row("POST", "/calculations/loan-discount", both(*ROLES), LOAN_CALC, public=True),
    Row("POST", "/calculations/robot-subsidy", both(*ROLES), ROBOT_CALC, public=True),
]

def _path(row: Row, w: RoleWorld) -> str:
    path = row.path
    for key, value in w.ids.items():
        path = path.replace("{" + key + "}", str(value))
    return path.replace("{sme_token}", str(w.ids["sme_token"]))


def _allowed(row: Row) -> dict:
    """The row's allowed roles (a callable when another module's registration decides them)."""
    return row.allowed() if callable(row.allowed) else row.allowed


def _expected(row: Row, role: str) -> int:
    allowed = _allowed(row)
    if role in allowed:
        return allowed[role]
    if role == "anon" and not row.public:
        return 401
    return row.other


def _order(row: Row) -> list[str]:
    """Refused roles first, then the allowed ones (in the order the row names them)."""
    allowed = _allowed(row)
    return [r for r in ROLES if r not in allowed] + [r for r in allowed]


@pytest.mark.parametrize("row", TABLE, ids=[r.id for r in TABLE])
def test_access_table(world, dossier_builder, row):
    path = _path(row, world)
    seen = {}
    for role in _order(row):
        body = row.body(world) if callable(row.body) else row.body
        api = world.apis[role]
        call = getattr(api, row.method.lower())
        response = call(path, json=body) if row.method in ("POST", "PUT") else call(path)
        seen[role] = response.status_code
        expected = _expected(row, role)
        if expected >= 400:
            error = assert_error(response, expected)
            if expected == 401:
                assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
            assert error["code"]
    wanted = {role: _expected(row, role) for role in ROLES}
    assert seen == wanted, f"{row.id}: got {seen}"


def test_the_table_covers_every_operation_of_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(method.upper(), path.removeprefix("/api/v1")) for path, ops in spec["paths"].items()
                  for method in ops if method != "parameters"}
    covered = set()
    for row in TABLE:
        template = row.path.split("?")[0]
        for path, ops in spec["paths"].items():
            pattern = path.removeprefix("/api/v1")
            regex = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", pattern) + "$"
            if re.match(regex, template.replace("{", "").replace("}", "")) and row.method.lower() in ops:
                covered.add((row.method, pattern))
    missing = documented - covered
    assert not missing, sorted(missing)


def test_every_authenticated_operation_declares_its_roles_and_bearer_security(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    public = {("GET", "/api/v1/catalogue/solutions"), ("GET", "/api/v1/catalogue/solutions/{solution_id}"),
              ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/calculations/sme-class"),
              ("POST", "/api/v1/calculations/loan-discount"), ("POST", "/api/v1/calculations/robot-subsidy")}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            if (method.upper(), path) in public:
                assert "security" not in op, path
                continue
            assert op.get("security") == [{"bearerAuth": []}], (method, path)
            assert op.get("x-roles"), (method, path)
            assert {"401", "403"} <= set(op["responses"]), (method, path)


@pytest.mark.parametrize("kind,key", [("trial-applications", "app_submitted"), ("loan-applications", "loan_submitted"),
                                      ("robot-applications", "robot_submitted"), ("enterprises", "ent_a")])
def test_an_sme_token_cannot_read_another_enterprises_objects_by_guessing_ids(world, kind, key):
    """Another enterprise's objects answer 403 (never their content); ids that do not exist 404."""
    other = world.apis["other_sme"]
    target = world.ids[key]
    for object_id in range(max(1, target - 3), target + 4):
        response = other.get(f"/{kind}/{object_id}")
        if response.status_code == 200:
            body = response.get_json()
            own = body.get("enterprise", {}).get("id", body.get("id"))
            assert own == world.ids["ent_b"], (kind, object_id, body)
        else:
            assert response.status_code in (403, 404), (kind, object_id, response.status_code)
            assert_error(response, response.status_code)
    error = assert_error(other.get(f"/{kind}/{target}"), 403, code="forbidden")
    assert "Wenzhou" not in error["message"]
    assert_error(other.get(f"/{kind}/99999999"), 404, code="not_found")
    # Its lists never contain the other enterprise's rows either.
    if kind != "enterprises":
        listed = other.get(f"/{kind}?per_page=100").get_json()["items"]
        assert all(item["enterprise"]["id"] == world.ids["ent_b"] for item in listed)
