"""The whole flow, through the API alone (only the accounts, the programme and the LPR table are
set up directly: the API has no user or programme administration): a provider creates and submits
a solution, an evaluator screens and lists it, an SME registers its enterprise and applies, an
officer approves; the ledger summary and the export match.  Then the loan and robot claims."""
from __future__ import annotations

import base64
import csv
import io
import secrets
from decimal import Decimal

from tests.api.conftest import (
    Api,
    add_demo_lpr,
    application_body,
    assert_error,
    build_programme,
    one_page_pdf,
    token_for,
)
from tests.factories import valid_uscc


def attach_by_api(api, resource: str, app_id: int) -> None:
    """One PDF for each required material with no file yet, through the materials endpoint."""
    for item in api.get(f"/{resource}/{app_id}").get_json()["materials"]:
        if item["required"] and not item["files"]:
            added = api.post(f"/{resource}/{app_id}/materials",
                             {"material": item["code"], "files": [b64file(f"{item['code']}.pdf")]})
            assert added.status_code == 201, added.get_data(as_text=True)
            assert added.get_json()[0]["material"] == item["code"]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def b64file(name="evidence.pdf", data=PDF) -> dict:
    return {"filename": name, "content_base64": base64.b64encode(data).decode()}


def issue(client, user) -> Api:
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": user.plain_password})
    assert response.status_code == 201, response.get_data(as_text=True)
    api = Api(client, response.get_json()["token"])
    api.user = user
    return api


SOLUTION = {"title": "Digital workshop MES", "category": "mes", "target_industries": ["pumps_valves", "auto_parts"],
            "description": "Shop-floor data collection and scheduling.", "list_price": "300000.00",
            "trial_price": "150000.00", "trial_period_days": 90}
ENTERPRISE = {"name": "Wenzhou Valve Works", "district": "longwan", "industry": "pumps_valves", "employees": 120,
              "annual_revenue": "15000000.00", "industrial_park": None, "contact_name": "Chen Li",
              "contact_phone": "0577-88112233", "bank_name": "Bank of Wenzhou", "bank_account": "6222000011112222"}


def test_the_whole_trial_voucher_flow_through_the_api(client, make_user, make_org):
    programme = build_programme(budget="1000000.00")
    provider = issue(client, make_user("provider"))
    evaluator = issue(client, make_user("evaluator"))
    officer = issue(client, make_user("officer"))
    sme = issue(client, make_user("sme"))  # a fresh account: no enterprise yet

    # Provider: a draft, a correction, then submission.
    created = provider.post("/solutions", SOLUTION)
    assert created.status_code == 201, created.get_data(as_text=True)
    solution = created.get_json()
    assert solution["status"] == "draft" and solution["allowed_actions"] == ["submit"]
    sid = solution["id"]
    bad = provider.put(f"/solutions/{sid}", {**SOLUTION, "trial_price": "400000.00"})
    assert "must not exceed the list price" in assert_error(bad, 422, "trial_price")["fields"]["trial_price"]
    assert provider.put(f"/solutions/{sid}", {**SOLUTION, "title": "Digital workshop MES v2"}).status_code == 200
    assert provider.post(f"/solutions/{sid}/submit").get_json()["status"] == "submitted"
    # Not yet public.
    assert Api(client).get(f"/catalogue/solutions/{sid}").status_code == 404

    # Evaluator: the queue shows it; screening lists it.
    queue = evaluator.get("/solutions").get_json()
    assert sid in [s["id"] for s in queue["items"]]
    assert evaluator.post(f"/solutions/{sid}/start-screening").get_json()["status"] == "screening"
    rubric = {"maturity": 85, "references_score": 80, "price_reasonableness": 90, "service_capability": 88,
              "data_security": 92, "decision": "list", "reasons": "Mature product with references."}
    screened = evaluator.post(f"/solutions/{sid}/screening", rubric)
    assert screened.status_code == 200, screened.get_data(as_text=True)
    record = screened.get_json()
    assert record["status"] == "listed" and record["screenings"][0]["mean_score"] == "87.0"
    public = Api(client).get("/catalogue/solutions?q=workshop").get_json()
    assert [s["id"] for s in public["items"]] == [sid]
    assert public["items"][0]["title"] == "Digital workshop MES v2"

    # SME: registers its enterprise through the API, finds the programme and applies.
    assert_error(sme.get("/enterprise"), 404)
    registered = sme.post("/enterprise", {**ENTERPRISE, "uscc": valid_uscc(880001)})
    assert registered.status_code == 201, registered.get_data(as_text=True)
    assert registered.get_json()["size_class"] == "small" and registered.get_json()["is_sme"] is True
    assert sme.get("/enterprise").get_json()["name"] == "Wenzhou Valve Works"
    open_ids = [p["id"] for p in sme.get("/programmes/open?kind=trial_voucher").get_json()]
    assert programme.id in open_ids
    body = application_body(programme.id, sid, amount="120000.00")
    draft = sme.post("/trial-applications", body)
    assert draft.status_code == 201, draft.get_data(as_text=True)
    app_id = draft.get_json()["id"]
    assert sme.post("/trial-applications", body).status_code == 200  # the same key: the same application
    assert sme.get("/trial-applications").get_json()["pagination"]["total"] == 1
    refused = sme.post(f"/trial-applications/{app_id}/submit")
    assert refused.status_code == 422 and "Business licence" in refused.get_data(as_text=True)
    detail = sme.get(f"/trial-applications/{app_id}").get_json()
    for item in detail["materials"]:
        if item["required"]:
            added = sme.post(f"/trial-applications/{app_id}/materials",
                             {"material": item["code"], "files": [b64file(f"{item['code']}.pdf"), b64file("more.pdf")]})
            assert added.status_code == 201, added.get_data(as_text=True)
            assert [f["material"] for f in added.get_json()] == [item["code"]] * 2
    submitted = sme.post(f"/trial-applications/{app_id}/submit")
    assert submitted.get_json()["status"] == "submitted"
    assert submitted.get_json()["next_step"] == "Waiting for the bureau's review. Nothing to do for now."

    # Officer: the queue, approval; the ledger reserves the amount.
    queue = officer.get("/trial-applications?status=submitted").get_json()
    assert app_id in [a["id"] for a in queue["items"]]
    approved = officer.post(f"/trial-applications/{app_id}/approve", {"reason": "Complete file."})
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["status"] == "approved" and approved.get_json()["reserved"] == "120000.00"
    summary = officer.get(f"/programmes/{programme.id}").get_json()["ledger"]
    assert summary == {"budget": "1000000.00", "reserved": "120000.00", "paid": "0.00", "available": "880000.00"}
    listed = officer.get("/programmes").get_json()["items"]
    assert next(p for p in listed if p["id"] == programme.id)["ledger"] == summary
    ledger = officer.get(f"/programmes/{programme.id}/ledger").get_json()
    assert [(e["kind"], e["amount"], e["source_id"]) for e in ledger["items"]] == [("reserve", "120000.00", app_id)]
    # The SME sees its quota used.
    mine = sme.get(f"/trial-applications/{app_id}").get_json()
    assert mine["quota"] == {"cap": "200000.00", "used": "120000.00", "remaining": "80000.00"}

    # The export for upstream reporting: one row, matching the ledger.
    export = officer.get(f"/programmes/{programme.id}/export").get_json()
    assert export["ledger"] == summary and export["columns"][0] == "programme_id"
    [row] = export["rows"]
    assert row == {"programme_id": programme.id, "kind": "trial_voucher", "application_type": "trial_application",
                   "application_id": app_id, "enterprise_id": registered.get_json()["id"],
                   "enterprise_name": "Wenzhou Valve Works", "uscc": valid_uscc(880001), "district": "longwan",
                   "industry": "pumps_valves", "amount_approved": "120000.00", "reserved": "120000.00",
                   "paid": "0.00", "released": "0.00", "status": "approved"}
    as_csv = officer.get(f"/programmes/{programme.id}/export?format=csv")
    assert as_csv.mimetype == "text/csv" and "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data().decode("utf-8-sig"))))
    assert rows == [{k: str(v) for k, v in row.items()}]

    # A second application over the quota is refused with the cap's figures, in the error shape.
    over = sme.post("/trial-applications", application_body(programme.id, sid, amount="90000.00"))
    error = assert_error(over, 422, "requested_amount", code="over_cap")
    assert "80,000.00 remains" in error["fields"]["requested_amount"] or "80,000.00" in error["message"]

    # Officer cancels: the reservation goes back to the fund.
    assert_error(officer.post(f"/trial-applications/{app_id}/cancel"), 422, "reason")
    cancelled = officer.post(f"/trial-applications/{app_id}/cancel", {"reason": "The enterprise gave up."})
    assert cancelled.get_json()["status"] == "cancelled" and cancelled.get_json()["reserved"] == "0.00"
    assert officer.get(f"/programmes/{programme.id}").get_json()["ledger"]["available"] == "1000000.00"
    [row] = officer.get(f"/programmes/{programme.id}/export").get_json()["rows"]
    assert (row["reserved"], row["released"], row["status"]) == ("0.00", "120000.00", "cancelled")


def test_loan_and_robot_claims_through_the_api(client, make_user, make_org):
    add_demo_lpr()
    programme = build_programme(budget="1000000.00")
    sme = Api(client, token_for(make_user("sme", make_org("enterprise", industry="pumps_valves"))))
    officer = Api(client, token_for(make_user("officer")))

    loan = {"idempotency_key": secrets.token_urlsafe(16), "programme_id": programme.id,
            "bank_name": "Bank of Wenzhou", "contract_no": "WZ-2025-0001", "contract_date": "2025-12-15",
            "principal": "8000000.00", "loan_rate": "2.40", "term_start": "2025-12-20", "term_end": "2027-12-19",
            "periods": [{"start": "2026-01-01", "end": "2026-04-01", "outstanding_principal": "8000000.00",
                         "interest_paid": "48000.00"}],
            "plan_file": b64file("plan.pdf"), "statement_file": b64file("statement.pdf")}
    refused = sme.post("/loan-applications", {**loan, "loan_rate": "2.50"})
    assert "2.40" in assert_error(refused, 422, "loan_rate")["fields"]["loan_rate"]
    missing = sme.post("/loan-applications", {**loan, "plan_file": None})
    assert_error(missing, 422, "plan_file")
    not_b64 = sme.post("/loan-applications", {**loan, "plan_file": {"filename": "x.pdf", "content_base64": "%%%"}})
    assert_error(not_b64, 422, "plan_file.content_base64")
    created = sme.post("/loan-applications", loan)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["computed_discount"] == "40000.00" and body["benchmark_rate"] == "3.00"
    assert body["working"][-1]["code"] == "loan.total" and len(body["files"]) == 2
    loan_id = body["id"]
    # The file can be downloaded by its enterprise.
    downloaded = sme.get(f"/loan-applications/{loan_id}/files/{body['files'][0]['id']}")
    assert downloaded.status_code == 200 and downloaded.data == PDF
    # The guide's other required materials are missing: refused with all of them named, until attached.
    refused = sme.post(f"/loan-applications/{loan_id}/submit")
    assert refused.status_code == 422 and "Loan contract" in refused.get_data(as_text=True)
    attach_by_api(sme, "loan-applications", loan_id)
    assert sme.post(f"/loan-applications/{loan_id}/submit").get_json()["status"] == "submitted"
    approved = officer.post(f"/loan-applications/{loan_id}/approve")
    assert approved.get_json()["approved_amount"] == "40000.00"

    robot = {"programme_id": programme.id, "lines": [
        {"model": "ER20-1100", "manufacturer": "Estun", "domestic": True, "quantity": 2,
         "unit_price_excl_vat": "150000.00", "invoice_no": "3300261109-00000001", "invoice_date": "2026-03-01",
         "invoice_file": b64file("a.pdf")},
        {"model": "KR10", "manufacturer": "KUKA", "domestic": False, "quantity": 1, "unit_price_excl_vat": "400000.00",
         "invoice_no": "3300261109-00000002", "invoice_date": "2026-03-02", "invoice_file": b64file("b.pdf")}]}
    created = sme.post("/robot-applications", robot)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["computed_subsidy"] == "100000.00"
    robot_id = created.get_json()["id"]
    again = sme.post("/robot-applications", robot)  # the same invoices: refused, naming the lines
    assert_error(again, 422, "lines.0.invoice_no", "lines.1.invoice_no")
    attach_by_api(sme, "robot-applications", robot_id)
    assert sme.post(f"/robot-applications/{robot_id}/submit").get_json()["status"] == "submitted"
    assert_error(officer.post(f"/robot-applications/{robot_id}/return"), 422, "reason")
    assert officer.post(f"/robot-applications/{robot_id}/approve").get_json()["approved_amount"] == "100000.00"

    summary = officer.get(f"/programmes/{programme.id}").get_json()["ledger"]
    assert summary == {"budget": "1000000.00", "reserved": "140000.00", "paid": "0.00", "available": "860000.00"}
    rows = officer.get(f"/programmes/{programme.id}/export").get_json()["rows"]
    assert [(r["kind"], r["application_id"], r["amount_approved"]) for r in rows] == [
        ("loan_discount", loan_id, "40000.00"), ("robot_subsidy", robot_id, "100000.00")]
    assert sum(Decimal(r["reserved"]) for r in rows) == Decimal(summary["reserved"])
    bureau_list = officer.get("/robot-applications?status=approved").get_json()
    assert [a["id"] for a in bureau_list["items"]] == [robot_id]
    assert sme.get("/loan-applications").get_json()["items"][0]["amount"] == "40000.00"


def test_the_trial_evaluation_and_documents_flow_through_the_api(client, make_user, make_org):
    """Approval opens the trial; the provider reports the four milestones and the enterprise confirms them;
    an officer assigns an evaluator who declares no conflict and scores the trial; the enterprise records
    its adoption; an audit dossier is produced by its job and downloaded; the ledger still matches."""
    import hashlib

    from voucher.documents import builders as registry
    from voucher.documents.jobs import DOCUMENT_QUEUE, run_document_job
    from voucher.tasks import queue

    programme = build_programme(budget="1000000.00")
    provider_org = make_org("provider")
    provider = issue(client, make_user("provider", provider_org))
    sme = issue(client, make_user("sme", make_org("enterprise")))
    officer = issue(client, make_user("officer"))
    evaluator_user = make_user("evaluator")
    evaluator = issue(client, evaluator_user)
    auditor = issue(client, make_user("auditor"))
    from tests.api.conftest import build_solution

    solution = build_solution(provider_org, trial_price="150000.00")
    app_id = sme.post("/trial-applications", application_body(programme.id, solution.id, amount="100000.00")
                      ).get_json()["id"]
    attach_by_api(sme, "trial-applications", app_id)
    sme.post(f"/trial-applications/{app_id}/submit")
    assert officer.post(f"/trial-applications/{app_id}/approve").status_code == 200

    # The trial was opened by the approval; the provider sees it and what to do next.
    trials = provider.get("/trials").get_json()["items"]
    [trial] = [t for t in trials if t["application_id"] == app_id]
    tid = trial["id"]
    detail = provider.get(f"/trials/{tid}").get_json()
    assert detail["status"] == "open" and detail["next_milestone"] == "kickoff"
    # Out of order is refused; each milestone waits for the enterprise.
    assert_error(provider.post(f"/trials/{tid}/milestones", {"kind": "deployed", "note": "x"}), 409)
    for kind in ("kickoff", "deployed", "in_use", "final_report"):
        reported = provider.post(f"/trials/{tid}/milestones", {"kind": kind, "note": f"{kind} done",
                                                               "file": b64file(f"{kind}.pdf")})
        assert reported.status_code == 200, reported.get_data(as_text=True)
        if kind == "deployed":  # one dispute on the way: reported again, then confirmed
            assert_error(sme.post(f"/trials/{tid}/milestones/{kind}/dispute", {"reason": ""}), 422, "reason")
            assert sme.post(f"/trials/{tid}/milestones/{kind}/dispute", {"reason": "Not deployed yet."}
                            ).get_json()["milestones"][1]["status"] == "disputed"
            provider.post(f"/trials/{tid}/milestones", {"kind": kind, "note": "Deployed now."})
        if kind == "final_report":  # confirmed the same day as the kick-off: far ahead of plan, so a reason
            assert_error(sme.post(f"/trials/{tid}/milestones/{kind}/confirm"), 422, "early_reason")
        confirmed = sme.post(f"/trials/{tid}/milestones/{kind}/confirm",
                             {"early_reason": "Delivered ahead of plan."} if kind == "final_report" else None)
        assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    detail = sme.get(f"/trials/{tid}").get_json()
    assert detail["status"] == "completed" and detail["advance_amount"] == "30000.00"
    assert detail["advance_pct"] == "30.00"  # the percentage the kick-off used, stored on the trial
    milestone = detail["milestones"][0]
    evidence = sme.get(f"/trials/{tid}/milestones/{milestone['id']}/file")
    assert evidence.status_code == 200 and evidence.data == PDF

    # Officer assigns the evaluator; the evaluator declares and scores.
    assert evaluator_user.id in [e["id"] for e in officer.get("/evaluators").get_json()]
    assert_error(evaluator.get(f"/trials/{tid}"), 403)  # not assigned yet
    assigned = officer.post(f"/trials/{tid}/assignments", {"evaluator_id": evaluator_user.id})
    assert assigned.status_code == 200 and assigned.get_json()["assignments"][0]["status"] == "assigned"
    form = {"afters": {"production_efficiency": "55.00", "defect_rate": "1.60"},
            "scores": {"effect": "90", "quality": "88", "service": "92", "cost_effectiveness": "85",
                       "replicability": "80"}, "comments": "Clear gains.", "recommendation": "continue"}
    assert_error(evaluator.post(f"/trials/{tid}/evaluation", form), 409)  # declaration first
    evaluator.post(f"/trials/{tid}/declare-no-conflict", {"confirm": True})
    bad = evaluator.post(f"/trials/{tid}/evaluation", {**form, "scores": {**form["scores"], "effect": "101"}})
    assert_error(bad, 422, "scores.effect")
    scored = evaluator.post(f"/trials/{tid}/evaluation", form)
    assert scored.status_code == 200, scored.get_data(as_text=True)
    result = scored.get_json()
    # 90 × 40% + 88 × 20% + 92 × 15% + 85 × 15% + 80 × 10% = 88.15 → 88.2 (rounded to 0.1)
    assert result["status"] == "evaluated" and result["outcome"] == "passed" and result["score"] == "88.20"
    assert result["evaluations"][0]["overall"] == "88.20"
    # The enterprise sees the forms once the result is final; then records its adoption.
    assert sme.get(f"/trials/{tid}/evaluations/{result['evaluations'][0]['id']}").status_code == 200
    closed = sme.post(f"/trials/{tid}/adoption", {"adopted": True, "reason": "Orders are on time now."})
    assert closed.get_json()["status"] == "closed" and closed.get_json()["adopted"] is True
    assert sme.get(f"/trial-applications/{app_id}").get_json()["status"] == "closed"

    # The ledger: the approval's reservation is still there (payments come with disbursements).
    summary = officer.get(f"/programmes/{programme.id}").get_json()["ledger"]
    assert summary == {"budget": "1000000.00", "reserved": "100000.00", "paid": "0.00", "available": "900000.00"}
    [row] = officer.get(f"/programmes/{programme.id}/export").get_json()["rows"]
    assert (row["application_id"], row["reserved"], row["status"]) == (app_id, "100000.00", "closed")

    # An audit dossier: requested through the API, produced by its job, downloaded by an auditor.
    saved = dict(registry._builders)
    registry.register_builder("audit_dossier", lambda subject_id, lang: (
        f"dossier-{subject_id}.pdf", one_page_pdf(f"application {subject_id}"), "application/pdf"))
    try:
        assert_error(sme.post("/documents", {"kind": "audit_dossier", "subject_type": "application",
                                             "subject_id": app_id}), 403)
        job = auditor.post("/documents", {"kind": "audit_dossier", "subject_type": "application",
                                          "subject_id": app_id, "lang": "en"})
        assert job.status_code == 202, job.get_data(as_text=True)
        job_id = job.get_json()["id"]
        assert auditor.get(f"/jobs/{job_id}").get_json()["status"] == "queued"
        with client.application.app_context():  # the worker's side, in-process
            run_document_job(job_id)
        done = auditor.get(f"/jobs/{job_id}").get_json()
        assert done["status"] == "succeeded" and done["progress"] == 100 and done["finished"] is True
        document = auditor.get(f"/documents/{done['document_id']}").get_json()
        assert document["kind"] == "audit_dossier" and document["subject_id"] == app_id
        listed = auditor.get(f"/documents?subject_type=application&subject_id={app_id}").get_json()
        assert [d["id"] for d in listed["items"]] == [document["id"]]
        downloaded = auditor.get(document["download_path"])
        assert downloaded.status_code == 200
        assert hashlib.sha256(downloaded.data).hexdigest() == document["sha256"]
        assert_error(sme.get(document["download_path"]), 403)  # the subject's rule: bureau roles only
    finally:
        registry._builders.clear()
        registry._builders.update(saved)
        queue(DOCUMENT_QUEUE).empty()

    # Finance: the grant's public notice (published 40 days ago: its period has ended) makes the advance
    # payable; one finance officer prepares it, a second approves with their password, a batch is created
    # and the bank's result recorded: the ledger moves the advance from reserved to paid.
    from datetime import timedelta

    from voucher.applications.services import local_today
    from voucher.payments import services as payments

    finance_a = issue(client, make_user("finance"))
    finance_b_user = make_user("finance")
    finance_b = issue(client, finance_b_user)
    try:
        payables = finance_a.get(f"/payables?programme_id={programme.id}").get_json()["items"]
        advance = next(p for p in payables if p["source_id"] == app_id and p["milestone"] == "advance")
        assert advance["hold"] == "not_announced" and advance["amount"] == "30000.00"
        payments.publish_notice(officer.user.actor(), programme.id, today=local_today() - timedelta(days=40))
        prepared = finance_a.post("/disbursements", {"source_type": "trial_application", "source_id": app_id,
                                                     "milestone": "advance"})
        assert prepared.status_code == 201, prepared.get_data(as_text=True)
        dsb = prepared.get_json()
        assert (dsb["status"], dsb["amount"], dsb["payee_id"]) == ("prepared", "30000.00", provider_org.id)
        # The preparer cannot approve; the second officer's wrong password changes nothing.
        assert_error(finance_a.post(f"/disbursements/{dsb['id']}/approve", {"password": "x" * 12}), 403)
        assert_error(finance_b.post(f"/disbursements/{dsb['id']}/approve", {"password": "wrong-password"}), 422,
                     "password")
        approved = finance_b.post(f"/disbursements/{dsb['id']}/approve", {"password": finance_b_user.plain_password})
        assert approved.status_code == 200, approved.get_data(as_text=True)
        assert approved.get_json()["status"] == "approved" and approved.get_json()["approval_valid"] is True
        # The payee (the provider) reads its own disbursement; the enterprise's users do not.
        assert provider.get(f"/disbursements/{dsb['id']}").get_json()["status"] == "approved"
        assert_error(sme.get(f"/disbursements/{dsb['id']}"), 403)
        batch = finance_a.post("/payment-batches", {"programme_id": programme.id, "disbursement_ids": [dsb["id"]]})
        assert batch.status_code == 201, batch.get_data(as_text=True)
        batch = batch.get_json()
        assert (batch["line_count"], batch["total"], batch["status"]) == (1, "30000.00", "confirmed")
        paid = finance_a.post(f"/payment-batches/{batch['id']}/results",
                              {"disbursement_id": dsb["id"], "outcome": "paid", "bank_reference": "BANK-0001"})
        assert paid.status_code == 200, paid.get_data(as_text=True)
        assert paid.get_json()["status"] == "paid" and paid.get_json()["bank_reference"] == "BANK-0001"
        assert finance_a.get(f"/payment-batches/{batch['id']}").get_json()["status"] == "completed"
        summary = officer.get(f"/programmes/{programme.id}").get_json()["ledger"]
        assert summary == {"budget": "1000000.00", "reserved": "70000.00", "paid": "30000.00",
                           "available": "900000.00"}
        ledger = officer.get(f"/programmes/{programme.id}/ledger").get_json()["items"]
        assert ("pay", "30000.00", app_id) in [(e["kind"], e["amount"], e["source_id"]) for e in ledger]
    finally:
        queue(DOCUMENT_QUEUE).empty()
