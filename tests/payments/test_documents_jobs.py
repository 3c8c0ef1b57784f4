"""Real RQ jobs (burst SimpleWorker on the test Redis, real commits) produce the payment documents
from real data: the payment order with payee, amount in figures and capitals and its verification
code; the bank file (header, one line per disbursement); the batch summary; the audit dossier and
the programme report."""
from __future__ import annotations

import csv
import io
import re

import pypdf
from sqlalchemy import select

from tests.factories import fresh_user
from tests.payments.conftest import World
from voucher.audit.models import AuditEvent
from voucher.documents.models import Document, JobRecord
from voucher.extensions import db
from voucher.payments import services
from voucher.storage import read_bytes


def pdf_text(app, document: Document) -> str:
    data = read_bytes(document.stored_file)
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def valid_document(kind: str, subject_type: str, subject_id: int) -> Document:
    db.session.remove()
    [document] = db.session.scalars(select(Document).where(Document.kind == kind, Document.subject_type == subject_type,
                                                           Document.subject_id == subject_id))
    return document


def test_real_jobs_produce_payment_orders_bank_file_and_batch_summary(jobs):
    app = jobs.app
    with app.test_request_context():
        world = World()
        robot, loan = world.robot(), world.loan()
        world.announce()
        d_robot = world.approved("robot_application", robot.id, "full")
        d_loan = world.approved("loan_application", loan.id, "full")
        batch = world.batch(d_robot, d_loan)  # asks for the bank file and the summary
        parent = services.request_payment_orders(world.finance_a.actor(), batch.id)
        db.session.commit()
        ids = {"robot": d_robot.id, "loan": d_loan.id, "batch": batch.id, "parent": parent.id}
        refs = {"robot": d_robot.reference, "loan": d_loan.reference, "batch": batch.reference}
        payees = {"robot": d_robot.payee_name, "loan": d_loan.payee_name}
        accounts = {"robot": d_robot.bank_account, "loan": d_loan.bank_account}
        codes = {"robot": d_robot.bank_code, "loan": d_loan.bank_code}
        assert len(codes["robot"]) == 12  # copied from the payee's profile when prepared
        enterprises = {"robot": d_robot.enterprise.name, "loan": d_loan.enterprise.name}
        preparer, approver = world.finance_a.name, world.finance_b.name
    assert jobs.queue.count == 4  # bank file, summary, two payment orders
    jobs.drain()

    parent = db.session.get(JobRecord, ids["parent"])
    assert parent.status == "succeeded" and parent.progress == 100
    for key, figures, capitals in (("robot", "¥100,000.00", "壹拾万元整"), ("loan", "¥40,000.00", "肆万元整")):
        document = valid_document("payment_order", "disbursement", ids[key])
        text = pdf_text(app, document)
        assert payees[key].replace(" ", "") in text
        assert figures in text and capitals in text
        assert document.verification_code in text and refs[key] in text and accounts[key] in text
        assert preparer.replace(" ", "") in text and approver.replace(" ", "") in text  # the approval trail
        assert document.subject_label == refs[key]
        assert "资金拨付单" in text and codes[key] in text and enterprises[key].replace(" ", "") in text
        assert "经办" in text and "复核" in text and "盖章" in text  # the seal and signature boxes
    robot_text = pdf_text(app, valid_document("payment_order", "disbursement", ids["robot"]))
    assert "20%" in robot_text and "10%" in robot_text  # the stored working of the robot subsidy

    bank_file = valid_document("bank_file", "payment_batch", ids["batch"])
    raw = read_bytes(bank_file.stored_file)
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the generic layout: UTF-8 with BOM, CRLF
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["户名", "账号", "开户行", "联行号", "金额", "用途"]
    # 用途: the words, the grant's application number, the disbursement's reference
    assert [re.fullmatch(r"\S+ (TX|JQ)-\d{4}-\d{6} DSB-\S+", r[5]) is not None for r in rows[1:]] == [True, True]
    rows = [r[:5] + [re.sub(r" (TX|JQ)-\d{4}-\d{6}", "", r[5])] for r in rows]
    assert sorted(rows[1:]) == sorted([
        [payees["robot"], accounts["robot"], "Bank of Wenzhou", codes["robot"], "100000.00", f"工业机器人购置补助 {refs['robot']}"],
        [payees["loan"], accounts["loan"], "Bank of Wenzhou", codes["loan"], "40000.00", f"贷款贴息 {refs['loan']}"]])

    summary = pdf_text(app, valid_document("batch_summary", "payment_batch", ids["batch"]))
    assert refs["batch"] in summary and "¥140,000.00" in summary and "壹拾肆万元整" in summary


def test_real_jobs_produce_the_audit_dossier_and_the_programme_report(jobs):
    from voucher.audit.services import chain_head
    from voucher.documents import services as documents

    app = jobs.app
    with app.test_request_context():
        world = World()
        trial = world.kick_off(world.trial("200000.00"))
        world.announce()
        advance = world.approved("trial_application", trial.application_id, "advance")
        world.batch(advance)
        world.pay(advance, ref="BOC-778899")
        auditor = fresh_user("auditor")
        db.session.commit()
        dossier = documents.request_document(auditor.actor(), "audit_dossier", "application", trial.application_id)
        report = documents.request_document(world.officer.actor(), "programme_report", "programme",
                                            world.programme.id)
        db.session.commit()
        ids = {"dossier": dossier.id, "report": report.id, "app": trial.application_id,
               "programme": world.programme.id}
        advance_ref = advance.reference
    jobs.drain()
    assert db.session.get(JobRecord, ids["dossier"]).status == "succeeded"
    assert db.session.get(JobRecord, ids["report"]).status == "succeeded"
    text = pdf_text(app, valid_document("audit_dossier", "application", ids["app"]))
    # The chronology says in words what happened: no event code, no Python text.
    from voucher.audit.labels import event_label
    from voucher.payments.documents import in_language

    with app.test_request_context(), in_language("zh_Hans_CN"):
        approved, paid = event_label("trial_application.approve"), event_label("disbursement.mark_paid")
    assert "".join(approved.split()) in text and "".join(paid.split()) in text and advance_ref in text
    assert "trial_application" not in text and "disbursement." not in text and "{'" not in text
    assert "状态：" in text.replace(":", "：")  # a change of status, with its words
    assert "¥60,000.00" in text  # the 30% advance in the calculations
    issued = db.session.scalars(select(Document).where(Document.kind == "audit_dossier")).one()
    assert issued.verification_code in text
    # The chain head printed is the hash of the last audit event before the dossier was issued.
    issued_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.issued",
                                                              AuditEvent.object_id == str(issued.id)))
    printed = [e for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)) if e.hash in text]
    assert len(printed) == 1 and printed[0].id < issued_event.id and printed[0].hash != chain_head()
    report_text = pdf_text(app, valid_document("programme_report", "programme", ids["programme"]))
    assert "试用券" in report_text and "¥60,000.00" in report_text and "¥140,000.00" in report_text
    # The day's published audit-chain head travels out of the system in the report.
    from voucher.audit.models import AuditAnchor

    anchor = db.session.scalars(select(AuditAnchor)).one()
    assert f"{anchor.chain_length}:" in report_text and anchor.head_hash in report_text.replace("\n", "")
