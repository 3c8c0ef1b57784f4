"""Fixtures for the API tests: bearer tokens for users of every role, a small JSON client, and the
objects the resources act on (a programme, solutions, an SME and its applications)."""
from __future__ import annotations

import base64
import io
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest

from tests import factories
from tests.factories import add_demo_lpr, attach_required_materials, build_programme  # noqa: F401 (the tests import them from here)
from voucher.auth import tokens

EN = {"Accept-Language": "en"}


class Api:
    """A JSON client for /api/v1 acting with one bearer token (or none)."""

    def __init__(self, client, token: str | None = None, lang: str = "en"):
        self.client = client
        self.token = token
        self.lang = lang

    def headers(self, extra=None) -> dict:
        out = {"Accept-Language": self.lang}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        out.update(extra or {})
        return out

    def _url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"/api/v1{path}"

    def get(self, path, **kwargs):
        return self.client.get(self._url(path), headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.client.post(self._url(path), json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.client.put(self._url(path), json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path, **kwargs):
        return self.client.delete(self._url(path), headers=self.headers(kwargs.pop("headers", None)), **kwargs)


def token_for(user) -> str:
    """A bearer secret for ``user`` (issued by the service, as POST /auth/token does)."""
    return tokens.issue_token(user).secret


def assert_error(response, status: int, *fields: str, code: str | None = None) -> dict:
    """The one error shape, the status, and each named field present with a message."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:800])
    assert response.is_json, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    for name in fields:
        assert body["error"]["fields"].get(name), (name, body)
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture()
def api_as(client, make_user, make_org):
    """api_as(role_or_user, **org) → an :class:`Api` with a token of a new user of that role
    (an SME user gets a registered small enterprise unless ``registered=False``)."""

    def _as(who, registered: bool = True, **enterprise):
        if isinstance(who, str):
            if who == "sme":
                org = make_org("enterprise", **enterprise) if registered else None
                user = make_user("sme", org)
            else:
                user = make_user(who)
        else:
            user = who
        api = Api(client, token_for(user))
        api.user = user
        return api

    return _as


@pytest.fixture()
def anon(client):
    return Api(client)


# --- domain objects ----------------------------------------------------------------------------

# The API tests' solutions cost 150,000 on trial by default.
build_solution = partial(factories.build_solution, trial_price="150000.00")


def application_body(programme_id: int, solution_id: int, amount="100000.00", key=None) -> dict:
    from voucher.applications.services import local_today

    today = local_today()
    return {"idempotency_key": key or secrets.token_urlsafe(24), "programme_id": programme_id,
            "solution_id": solution_id, "requested_amount": amount,
            "need_statement": "Our workshop loses track of orders.",
            "contract_date": (today + timedelta(days=3)).isoformat(),
            "trial_start_date": (today + timedelta(days=10)).isoformat(),
            "baselines": {"production_efficiency": "42.50", "defect_rate": "3.20"}}


# --- a world with one object in each state, and a token per role ----------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def one_page_pdf(text: str) -> bytes:
    """A real one-page PDF: a test builder of a signed kind (the audit dossier) must give one the job
    can sign, as the real builder does."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, invariant=True)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()
ROLES = ("anon", "sme", "other_sme", "provider", "other_provider", "evaluator", "officer", "finance", "auditor",
         "admin", "park_operator", "other_park_operator")
AUTHENTICATED = ROLES[1:]
BUREAU = ("officer", "finance", "auditor")
SOLUTION_READERS = ("provider", "evaluator", *BUREAU)


def b64(name="f.pdf") -> dict:
    """A file for a JSON body (base64)."""
    return {"filename": name, "content_base64": base64.b64encode(PDF).decode()}


@dataclass
class RoleWorld:
    """What build_world made: object ids by name and a JSON client per role."""

    ids: dict = field(default_factory=dict)
    apis: dict = field(default_factory=dict)


@pytest.fixture()
def world(client, db_conn) -> RoleWorld:
    return build_world(client)


def build_world(client) -> RoleWorld:
    """A programme; two providers, two enterprises, one user of every role and a token each; the
    first provider's solutions in every state; the first enterprise's trial, loan and robot
    applications in the states the actions start from."""
    from tests.factories import build_org, fresh_user
    from voucher.applications import services as applications
    from voucher.applications.services import Content, local_today
    from voucher.subsidies import services as subsidies

    w = RoleWorld()
    add_demo_lpr()
    programme = build_programme()
    make_org, make_user = build_org, fresh_user
    prov_a, prov_b = make_org("provider"), make_org("provider")
    ent_a, ent_b = make_org("enterprise"), make_org("enterprise")
    users = {"sme": make_user("sme", ent_a), "other_sme": make_user("sme", ent_b),
             "provider": make_user("provider", prov_a), "other_provider": make_user("provider", prov_b),
             **{role: make_user(role) for role in ("evaluator", "officer", "finance", "auditor", "admin")},
             "park_operator": make_user("park_operator"), "other_park_operator": make_user("park_operator")}
    w.apis = {"anon": Api(client), **{role: Api(client, tokens.issue_token(u).secret) for role, u in users.items()}}
    parks = build_parks(users)
    sol = {status: build_solution(prov_a, status=status) for status in
           ("draft", "submitted", "screening", "listed", "rejected", "delisted")}
    sme, officer = users["sme"].actor(), users["officer"].actor()

    def trial(status):
        today = local_today()
        app, _ = applications.create_application(
            sme, token=secrets.token_urlsafe(24), programme_id=programme.id, solution_id=sol["listed"].id,
            content=Content(requested_amount=Decimal("10000.00"), need_statement="Need",
                            contract_date=today + timedelta(days=3), trial_start_date=today + timedelta(days=10),
                            baselines={"defect_rate": Decimal("3.20")}))
        attach_required_materials(app)  # drafts too: the access table submits one
        if status in ("submitted", "approved"):
            applications.submit(sme, app.id)
        if status == "approved":
            applications.approve(officer, app.id)
        return app.id

    def loan(status, contract):
        data = subsidies.LoanInput(
            programme_id=programme.id, bank_name="Bank of Wenzhou", contract_no=contract,
            contract_date=local_today() - timedelta(days=200), principal=Decimal("1000000.00"),
            loan_rate=Decimal("2.40"), term_start=local_today() - timedelta(days=190),
            term_end=local_today() + timedelta(days=500),
            periods=(subsidies.PeriodInput(local_today() - timedelta(days=180), local_today() - timedelta(days=90),
                                           Decimal("1000000.00"), Decimal("6000.00")),))
        app = subsidies.save_loan_application(
            sme, data, plan=subsidies.Upload(io.BytesIO(PDF), "plan.pdf"),
            statement=subsidies.Upload(io.BytesIO(PDF), "st.pdf"), max_bytes=10**7)
        attach_required_materials(app)
        if status == "submitted":
            subsidies.act(sme, "loan", app.id, "submit")
        return app

    def robot(status):
        line = subsidies.RobotLineInput(model="ER20", manufacturer="Estun", domestic=True, quantity=1,
                                        unit_price_excl_vat=Decimal("100000.00"),
                                        invoice_no=f"{secrets.randbelow(10**20):020d}",
                                        invoice_date=local_today() - timedelta(days=10),
                                        invoice_file=subsidies.Upload(io.BytesIO(PDF), "inv.pdf"))
        app = subsidies.save_robot_application(sme, subsidies.RobotInput(programme.id, (line,)), max_bytes=10**7)
        attach_required_materials(app)
        if status == "submitted":
            subsidies.act(sme, "robot", app.id, "submit")
        return app

    loan_draft, loan_sub = loan("draft", "L-1"), loan("submitted", "L-2")
    robot_draft, robot_sub = robot("draft"), robot("submitted")
    from voucher.programmes.rule_versions import ensure_first_version

    w.ids = {"programme": programme.id, "rule_version": ensure_first_version(programme).id,
             "ent_a": ent_a.id, "ent_b": ent_b.id, **parks,
             **{f"sol_{k}": v.id for k, v in sol.items()},
             "app_draft": trial("draft"), "app_submitted": trial("submitted"), "app_approved": trial("approved"),
             "loan_draft": loan_draft.id, "loan_submitted": loan_sub.id, "loan_file": loan_sub.plan_file_id,
             "robot_draft": robot_draft.id, "robot_submitted": robot_sub.id,
             "robot_file": robot_sub.lines[0].invoice_file_id,
             "sme_token": tokens.issue_token(users["sme"], name="target").token.id}
    w.ids.update(build_trials(client, programme, sol["listed"], users))
    w.ids.update(build_documents(w.ids, users))
    w.ids.update(build_benefits(users, ent_a))
    users["finance_b"] = make_user("finance")  # a second finance officer (no row role of its own)
    w.ids.update(build_payments(programme, users, [robot("submitted").id for _ in range(4)]))
    w.users = users
    return w


def build_parks(users) -> dict:
    """The park operator's park with the first enterprise a confirmed member (the second enterprise's
    request waiting); the other park operator's park, empty."""
    from voucher.audit.services import Actor
    from voucher.parks import services as parks

    officer = Actor(user_id=None, role="officer", organisation_id=None, label="test officer")
    park_a = parks.create_park(officer, "API测试园A", "longwan", users["park_operator"].organisation_id)
    park_b = parks.create_park(officer, "API测试园B", "ouhai", users["other_park_operator"].organisation_id)
    member = parks.name_park(users["sme"].actor(), park_a.id)
    parks.decide(users["park_operator"].actor(), member.id, True)
    parks.name_park(users["other_sme"].actor(), park_a.id)
    return {"park_a": park_a.id, "park_b": park_b.id}


BENEFIT_INVOICES = "统一社会信用代码,发票号码,机器人型号,生产厂家,国产品牌,数量,不含税金额,开票日期\n"


def build_benefits(users, enterprise) -> dict:
    """An officer's import of one robot invoice of the first enterprise (tax side) and the match: one
    open robot subsidy candidate (免申即享) of that enterprise."""
    from voucher.applications.services import local_today
    from voucher.benefits import services as benefits
    from voucher.benefits.matching import match_candidates
    from voucher.benefits.models import BenefitCandidate
    from voucher.extensions import db

    officer = users["officer"].actor()
    day = (local_today() - timedelta(days=20)).isoformat()
    text = BENEFIT_INVOICES + f"{enterprise.uscc},{secrets.randbelow(10**20):020d},ER-7,埃斯顿,是,2,240000.00,{day}\n"
    source = benefits.import_source(officer, "robot_invoice", filename="tax.csv", data=text.encode())
    match_candidates(officer, local_today())
    candidate = db.session.query(BenefitCandidate).filter_by(enterprise_id=enterprise.id, kind="robot").one()
    return {"benefit_source": source.id, "candidate": candidate.id}


def build_payments(programme, users, robot_ids) -> dict:
    """Four approved robot subsidies of the first enterprise (the payee its users read), the programme's
    public notice published 40 days ago (its period has ended), then: one item left payable, a
    disbursement prepared by the second finance officer (``finance`` approves or rejects it), one
    approved by ``finance`` (to batch), and a batch holding one more (to record the bank's result)."""
    from voucher.applications.services import local_today
    from voucher.payments import services as payments
    from voucher.subsidies import services as subsidies

    officer, finance, finance_b = users["officer"].actor(), users["finance"], users["finance_b"]
    for robot_id in robot_ids:
        subsidies.act(officer, "robot", robot_id, "approve")
    payments.publish_notice(officer, programme.id, today=local_today() - timedelta(days=40))
    payable, prepared_id, approved_id, batched_id = robot_ids
    prepared = payments.prepare(finance_b.actor(), "robot_application", prepared_id, "full")
    approved = payments.prepare(finance_b.actor(), "robot_application", approved_id, "full")
    payments.approve(finance.actor(), approved.id, finance.plain_password)
    batched = payments.prepare(finance_b.actor(), "robot_application", batched_id, "full")
    payments.approve(finance.actor(), batched.id, finance.plain_password)
    batch = payments.create_batch(finance_b.actor(), programme.id, [batched.id])
    from voucher.payments import reconciliation

    statement = reconciliation.import_statement(finance.actor(), batch.id, filename="bank.csv",
                                                data=bank_statement([("DSB-2000-999999", "1.00")]))
    return {"robot_payable": payable, "dsb_prepared": prepared.id, "dsb_approved": approved.id,
            "dsb_batched": batched.id, "batch": batch.id, "recon_row": statement.rows[0].id}


def bank_statement(rows) -> bytes:
    """A bank result file in the generic layout: rows of (用途, amount)."""
    lines = ["户名,账号,金额,用途,银行流水号"] + [f"某公司,6222000011112222,{amount},{purpose},BK{n:04d}"
                                          for n, (purpose, amount) in enumerate(rows, 1)]
    return "\r\n".join(lines).encode("utf-8")


def build_trials(client, programme, solution, users) -> dict:
    """Trials in the states the trial actions start from (each from its own approved application)."""
    from voucher.applications import services as applications
    from voucher.applications.services import Content, local_today
    from voucher.trials import services as trials
    from voucher.trials.models import CRITERIA

    sme, provider, officer = users["sme"].actor(), users["provider"].actor(), users["officer"].actor()
    evaluator = users["evaluator"].actor()

    def approved_trial():
        today = local_today()
        app, _ = applications.create_application(
            sme, token=secrets.token_urlsafe(24), programme_id=programme.id, solution_id=solution.id,
            content=Content(requested_amount=Decimal("10000.00"), need_statement="Need",
                            contract_date=today + timedelta(days=3), trial_start_date=today + timedelta(days=10),
                            baselines={"defect_rate": Decimal("3.20")}))
        attach_required_materials(app)
        applications.submit(sme, app.id)
        applications.approve(officer, app.id)
        return trials.trial_for_application(app.id).id

    def advance(trial_id, kinds, last_confirmed=True):
        for i, kind in enumerate(kinds):
            upload = trials.Upload(io.BytesIO(PDF), f"{kind}.pdf", 10**7) if kind == "kickoff" else None
            trials.report_milestone(provider, trial_id, kind, f"{kind} done", upload)
            if i < len(kinds) - 1 or last_confirmed:
                trials.confirm_milestone(sme, trial_id, kind,
                                         early_reason="Finished ahead of plan." if kind == "final_report" else None)

    ids = {"trial_open": approved_trial()}
    ids["trial_running"] = approved_trial()
    advance(ids["trial_running"], ("kickoff", "deployed"), last_confirmed=False)  # "deployed" waits for the SME
    ids["trial_milestone"] = trials.milestones(ids["trial_running"])["kickoff"].id
    all_kinds = ("kickoff", "deployed", "in_use", "final_report")
    for key in ("trial_completed", "trial_assigned", "trial_cleared", "trial_evaluated"):
        ids[key] = approved_trial()
        advance(ids[key], all_kinds)
    evaluator_id = users["evaluator"].id
    for key in ("trial_assigned", "trial_cleared", "trial_evaluated"):
        ids[f"{key}_assignment"] = trials.assign_evaluator(officer, ids[key], evaluator_id).id
    for key in ("trial_cleared", "trial_evaluated"):
        trials.declare_no_conflict(evaluator, ids[key], True)
    submitted = trials.submit_evaluation(evaluator, ids["trial_evaluated"], trials.EvaluationInput(
        afters={"defect_rate": Decimal("1.50")}, scores={c: Decimal("80") for c in CRITERIA},
        comments="Good.", recommendation="continue"))
    ids["evaluation"] = submitted.evaluation.id
    return ids


def build_documents(ids: dict, users) -> dict:
    """A stored audit dossier of the submitted application, and a failed job (to retry)."""
    from voucher.audit.services import Actor
    from voucher.db import utcnow
    from voucher.documents.jobs import new_rq_job_id, new_verification_code
    from voucher.documents.models import Document, JobRecord
    from voucher.extensions import db
    from voucher.storage import save_generated

    stored = save_generated(Actor.system("test"), PDF, "dossier.pdf", "application/pdf", owner_type="document",
                            owner_id=None, purpose="audit_dossier")
    document = Document(kind="audit_dossier", subject_type="application", subject_id=ids["app_submitted"],
                        version=1, stored_file_id=stored.id, sha256=stored.sha256,
                        verification_code=new_verification_code(), status="valid", lang="zh")
    db.session.add(document)
    job = JobRecord(kind="audit_dossier", subject_type="application", subject_id=ids["app_approved"], lang="zh",
                    requested_by=users["auditor"].id, status="failed", progress=10, attempts=1,
                    rq_job_id=new_rq_job_id(), message="Builder missing", created_at=utcnow(), updated_at=utcnow(),
                    finished_at=utcnow())
    db.session.add(job)
    db.session.flush()
    stored.owner_id = document.id
    db.session.flush()
    return {"document": document.id, "job": job.id}




@pytest.fixture()
def dossier_builder(app):
    """A test builder for audit dossiers (no domain registers one yet); restored, and the documents
    queue emptied, afterwards."""
    from voucher.documents import builders as registry

    saved = dict(registry._builders)
    registry.register_builder("audit_dossier", lambda subject_id, lang: (
        f"dossier-{subject_id}.pdf", one_page_pdf(f"application {subject_id}"), "application/pdf"))
    yield
    registry._builders.clear()
    registry._builders.update(saved)
    with app.app_context():
        from voucher.documents.jobs import DOCUMENT_QUEUE
        from voucher.tasks import queue

        queue(DOCUMENT_QUEUE).empty()
