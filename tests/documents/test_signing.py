"""Documents the bureau signs (issue 18 §5): PAdES signatures that pyHanko's validator accepts, a
copy changed by one byte or by an appended update that it does not, the visible signature on the
payment order's seal box (盖章), the verification page saying who signed and whether the file is
intact, and a job re-run that neither signs twice nor stores another file."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from tests.documents.conftest import make_document, order_data
from voucher.documents import builders, signing
from voucher.documents.pdf import (
    BankLine,
    BatchSummaryData,
    batch_summary_pdf,
    payment_order_pdf,
    recording_seal_boxes,
)

SIGNED_AT = datetime(2026, 3, 1, 2, 30, tzinfo=timezone.utc)


def signed_order(lang: str = "zh") -> tuple[bytes, list]:
    with recording_seal_boxes() as boxes:
        data = payment_order_pdf(order_data(1, lang=lang))
    return signing.sign_built(data, lang=lang, signed_at=SIGNED_AT, seal_boxes=boxes), boxes


def pyhanko_status(data: bytes, roots):
    [sig] = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    return signing.outside_event_loop(validate_pdf_signature, sig,
                                      ValidationContext(trust_roots=list(roots), allow_fetching=False))


def signed_range_offset(data: bytes) -> int:
    """An offset inside the first signed byte range, well into the page content."""
    [sig] = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    start, length = sig.byte_range[0], sig.byte_range[1]
    assert start == 0 and length > 2000
    return length // 2


def tampered(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] = ord("7") if changed[offset] != ord("7") else ord("8")
    return bytes(changed)


def with_appended_update(data: bytes) -> bytes:
    """The signed file plus an incremental update (here: a changed document title), as a forger
    would append after the signature."""
    from pyhanko.pdf_utils import generic

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    info_ref = writer.trailer.raw_get("/Info")
    info = info_ref.get_object()
    info["/Title"] = generic.TextStringObject("资金拨付单 (amended)")
    writer.mark_update(info_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- the signature itself ---------------------------------------------------------------------

def test_a_signed_payment_order_validates_with_pyhankos_validator(ctx):
    data, _ = signed_order()
    key = signing.bureau_key()
    status = pyhanko_status(data, key.trust_roots)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signer_reported_dt == SIGNED_AT
    assert "测试证书" in signing.common_name(status.signing_cert)  # the test certificate says what it is
    check = signing.check_signature(data)
    assert check.ok and check.test_certificate and check.signed_at == SIGNED_AT


def test_encoding_each_asn1_value_once_gives_the_very_same_signature(ctx, monkeypatch):
    """``signing.encode_asn1_once`` (installed at import) only stops asn1crypto re-encoding: the
    CMS container signed over one digest is byte for byte what asn1crypto's own encoding gives
    (RSA PKCS#1 v1.5 is deterministic; the file around it is not, pyHanko's ids differ per run),
    and a payment order signed with it validates."""
    import hashlib

    from asn1crypto import core

    signer = signing.bureau_key().signer
    digest = hashlib.sha256(b"payment order").digest()

    def container() -> bytes:
        import asyncio

        return signing.outside_event_loop(asyncio.run, signer.async_sign(digest, "sha256", use_pades=True)).dump()

    fast = container()
    for cls in (core.Sequence, core.SequenceOf):
        assert cls._set_contents._voucher_encodes_once
        monkeypatch.setattr(cls, "_set_contents", cls._set_contents._voucher_original)
    plain = container()
    monkeypatch.undo()
    assert fast == plain and len(fast) > 1000
    data, _ = signed_order()
    status = pyhanko_status(data, signing.bureau_key().trust_roots)
    assert status.intact and status.valid and status.trusted


def test_an_asn1_value_changed_after_it_was_encoded_is_encoded_anew():
    """The mark cleared by ``encode_asn1_once`` comes back with the next change, at any depth."""
    from asn1crypto import algos, cms

    info = cms.IssuerAndSerialNumber({"issuer": cms.Name.build({"common_name": "甲"}), "serial_number": 1})
    attrs = cms.CMSAttributes([cms.CMSAttribute({"type": "content_type", "values": ["data"]})])
    outer = cms.SignerInfo({"version": "v1", "sid": {"issuer_and_serial_number": info},
                            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
                            "signed_attrs": attrs, "signature": b"sig"})
    first = outer.dump()
    assert cms.SignerInfo.load(first)["digest_algorithm"]["algorithm"].native == "sha256"
    outer["digest_algorithm"]["algorithm"] = "sha512"          # a nested change
    outer["signed_attrs"].append(cms.CMSAttribute({"type": "message_digest", "values": [b"d" * 32]}))  # a SET's
    outer["signature"] = b"other"                              # a change of the value itself
    again = cms.SignerInfo.load(outer.dump())
    assert again["digest_algorithm"]["algorithm"].native == "sha512"
    assert [a["type"].native for a in again["signed_attrs"]] == ["content_type", "message_digest"]
    assert again["signature"].native == b"other"
    assert outer.dump() == cms.SignerInfo.load(outer.dump()).dump(force=True)


def test_one_byte_changed_inside_the_signed_range_fails_validation(ctx):
    data, _ = signed_order()
    key = signing.bureau_key()
    bad = tampered(data, signed_range_offset(data))
    status = pyhanko_status(bad, key.trust_roots)
    assert not status.intact and not status.bottom_line
    check = signing.check_signature(bad)
    assert check.signed and not check.intact and not check.ok


def test_an_update_appended_after_signing_is_not_intact(ctx):
    data, _ = signed_order()
    key = signing.bureau_key()
    bad = with_appended_update(data)
    assert bad.startswith(data) and len(bad) > len(data)
    status = pyhanko_status(bad, key.trust_roots)
    assert status.coverage != SignatureCoverageLevel.ENTIRE_FILE  # pyHanko sees the signature cover less
    check = signing.check_signature(bad)
    assert check.signed and not check.intact and not check.ok


def test_a_certificate_the_bureau_does_not_trust_is_intact_but_not_trusted(ctx, tmp_path):
    data, _ = signed_order()
    other = signing.load_key({"SIGNING_TEST_DIR": str(tmp_path / "other"), "ENV_NAME": "testing"})
    check = signing.check_signature(data, trust_roots=other.trust_roots)
    assert check.signed and check.intact and not check.trusted and not check.ok


def test_an_already_signed_pdf_is_never_signed_again(ctx):
    data, boxes = signed_order()
    again = signing.sign_built(data, lang="zh", signed_at=datetime.now(timezone.utc), seal_boxes=boxes)
    assert again == data
    assert len(PdfFileReader(io.BytesIO(again), strict=False).embedded_signatures) == 1


# --- where it shows ---------------------------------------------------------------------------

def _signature_rect(data: bytes) -> tuple[int, list[float]]:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    for index, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/FT") == "/Sig" or (annot.get("/Parent") or {}).get("/FT") == "/Sig":
                return index, [float(v) for v in annot["/Rect"]]
    raise AssertionError("no signature widget in the PDF")


def _label_position(data: bytes, label: str) -> tuple[float, float]:
    import pypdf

    found: list[tuple[float, float]] = []

    def visitor(text, cm, tm, font_dict, font_size):
        if text.strip() == label:
            found.append((cm[4] + tm[4], cm[5] + tm[5]))

    pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visitor)
    assert found, f"{label!r} not found on the page"
    return found[0]


@pytest.mark.parametrize("lang,label", [("zh", "盖章"), ("en", "Seal")])
def test_the_signature_field_lies_on_the_seal_box(ctx, lang, label):
    data, [box] = signed_order(lang)
    page, (x1, y1, x2, y2) = _signature_rect(data)
    assert page == box.page == 0
    assert (x1, y1, x2, y2) == pytest.approx((box.x1, box.y1, box.x2, box.y2), abs=0.01)
    # The box is the cell under the "seal" heading: the heading sits above it, inside its column.
    lx, ly = _label_position(data, label)
    assert x1 <= lx <= x2 and y2 <= ly <= y2 + 25
    assert (x2 - x1) > 120 and (y2 - y1) > 35  # room for the signer and the time


def test_the_visible_signature_names_the_signer_and_time_in_the_documents_language(ctx):
    import pypdf

    for lang, words in (("zh", ("电子签章", "签署时间 2026-03-01 10:30:00")),
                        ("en", ("Digitally signed", "Signed 2026-03-01 10:30:00 (Beijing time)"))):
        appearance = signing.appearance_pdf(160, 40, "经济和信息化局（测试证书 TEST）", SIGNED_AT, lang)
        text = pypdf.PdfReader(io.BytesIO(appearance)).pages[0].extract_text()
        assert all(w in text for w in words) and "经济和信息化局" in text


def test_a_document_without_a_seal_box_is_signed_invisibly(ctx):
    from decimal import Decimal

    summary = BatchSummaryData(reference="PB-2026-0001", programme_name="试点", prepared_by="刘财务",
                               prepared_at=SIGNED_AT, issued_at=SIGNED_AT, lang="zh",
                               lines=[BankLine("甲公司", "温州银行", "6222", Decimal("10.00"), "R1")],
                               verification_code="TESTCODE23", verification_url="http://127.0.0.1/verify/TESTCODE23")
    with recording_seal_boxes() as boxes:
        data = batch_summary_pdf(summary)
    assert boxes == []
    signed = signing.sign_built(data, lang="zh", signed_at=SIGNED_AT, seal_boxes=boxes)
    assert signing.check_signature(signed).ok
    _, rect = _signature_rect(signed)
    assert rect[2] - rect[0] == 0 and rect[3] - rect[1] == 0


def test_the_payment_documents_and_the_audit_dossier_are_signed_kinds_and_a_builder_can_ask():
    assert all(builders.is_signed(k) for k in ("payment_order", "batch_summary", "audit_dossier"))
    assert not builders.is_signed("bank_file") and not builders.is_signed("programme_report")
    saved = dict(builders.KINDS), dict(builders._builders)
    try:
        builders.register_builder("recovery_notice", lambda subject_id, lang: ("n.pdf", b"%PDF", "application/pdf"),
                                  subject_type="disbursement", signed=True)
        assert builders.is_signed("recovery_notice")
        builders.register_builder("payment_order", lambda subject_id, lang: ("p.pdf", b"%PDF", "application/pdf"))
        assert builders.is_signed("payment_order")  # re-registering keeps the kind signed
    finally:
        builders.KINDS.clear()
        builders.KINDS.update(saved[0])
        builders._builders.clear()
        builders._builders.update(saved[1])


# --- the verification page --------------------------------------------------------------------

def test_the_verification_page_says_who_signed_and_that_the_file_is_intact(client, ctx):
    data, _ = signed_order()
    document = make_document(data=data, subject_label="DSB-2026-000001")
    page = client.get(f"/verify/{document.verification_code}").get_data(as_text=True)
    assert 'data-signature="valid"' in page
    assert "经济和信息化局（测试证书 TEST）" in page
    assert "2026-03-01 10:30" in page  # Beijing time
    assert "签名有效" in page


def test_the_verification_page_says_a_changed_file_was_changed_after_signing(client, ctx):
    from voucher.storage import backend

    data, _ = signed_order()
    document = make_document(data=data)
    backend().put(document.stored_file.relative_path, tampered(data, signed_range_offset(data)), "application/pdf")
    page = client.get(f"/verify/{document.verification_code}").get_data(as_text=True)
    assert 'data-signature="tampered"' in page and "经济和信息化局（测试证书 TEST）" in page

    appended = make_document(data=data, subject_id=2)
    backend().put(appended.stored_file.relative_path, with_appended_update(data), "application/pdf")
    page = client.get(f"/verify/{appended.verification_code}").get_data(as_text=True)
    assert 'data-signature="tampered"' in page


def test_the_verification_page_says_when_a_signed_kind_carries_no_signature(client, ctx):
    document = make_document(data=payment_order_pdf(order_data(3)))
    page = client.get(f"/verify/{document.verification_code}").get_data(as_text=True)
    assert 'data-signature="unsigned"' in page


def test_a_kind_the_bureau_does_not_sign_shows_no_signature_section(client, ctx):
    document = make_document(kind="programme_report", subject_type="programme", data=b"%PDF-1.4 report")
    page = client.get(f"/verify/{document.verification_code}").get_data(as_text=True)
    assert 'id="verify-signature"' not in page


# --- the job ----------------------------------------------------------------------------------

def test_the_job_stores_the_signed_pdf_and_a_rerun_neither_signs_again_nor_stores_another(jobs_env):
    from voucher.documents import services
    from voucher.documents.jobs import run_document_job
    from voucher.documents.models import Document, JobRecord
    from voucher.extensions import db
    from voucher.storage import read_bytes

    finance = jobs_env.user("finance")
    record = services.request_document(finance.actor(), "payment_order", "disbursement", 1)
    db.session.commit()
    job_id = record.id
    jobs_env.drain()

    document = jobs_env.fresh(JobRecord, job_id).result_document
    data = read_bytes(document.stored_file)
    check = signing.check_signature(data, moment=document.created_at)
    assert check.ok and len(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures) == 1
    # The signature's time is the issue time recorded with the document (and printed on it).
    created = document.created_at if document.created_at.tzinfo else document.created_at.replace(tzinfo=timezone.utc)
    assert abs(check.signed_at - created) < timedelta(seconds=1)
    first = (document.id, document.stored_file_id, document.sha256)

    # Re-delivered after success, and re-run as if the worker died after the commit: the same document.
    assert run_document_job(job_id) == first[0]
    db.session.execute(JobRecord.__table__.update().where(JobRecord.__table__.c.id == job_id)
                       .values(status="running", result_document_id=None, rq_job_id=None))
    db.session.commit()
    assert run_document_job(job_id) == first[0]
    db.session.remove()
    documents = list(db.session.scalars(select(Document).where(Document.created_by_job == job_id)))
    assert [(d.id, d.stored_file_id, d.sha256) for d in documents] == [first]
    again = read_bytes(documents[0].stored_file)
    assert again == data and len(PdfFileReader(io.BytesIO(again), strict=False).embedded_signatures) == 1


# --- configuration ----------------------------------------------------------------------------

def test_production_refuses_to_start_without_a_key_unless_unsigned_documents_are_allowed(tmp_path, monkeypatch):
    base = {"ENV_NAME": "production", "STORAGE_DIR": str(tmp_path / "storage")}
    with pytest.raises(RuntimeError, match="VOUCHER_SIGNING_KEY"):
        signing.check_production(base)
    warnings: list[str] = []
    monkeypatch.setattr(signing.log, "warning", lambda message, *args: warnings.append(message % args))
    signing.check_production({**base, "SIGNING_ALLOW_UNSIGNED": "true"})
    assert any("WITHOUT a digital signature" in w for w in warnings)
    assert signing.bureau_key({**base, "SIGNING_ALLOW_UNSIGNED": True}) is None
    assert signing.sign_built(b"%PDF-1.4 x", lang="zh", signed_at=SIGNED_AT,
                              config={**base, "SIGNING_ALLOW_UNSIGNED": True}) == b"%PDF-1.4 x"
    assert not (tmp_path / "signing").exists()  # production never generates a test certificate


def test_a_configured_pkcs12_key_signs_and_its_certificate_is_the_trust_root(tmp_path):
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, load_pem_private_key, pkcs12
    from cryptography.x509 import load_pem_x509_certificate

    pem = signing.generate_test_certificate(tmp_path / "bureau.pem", name="某市经济和信息化局").read_bytes()
    key = load_pem_private_key(pem, password=None)
    cert = load_pem_x509_certificate(pem[pem.index(b"-----BEGIN CERTIFICATE"):])
    p12 = tmp_path / "bureau.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(b"bureau", key, cert, None,
                                                          BestAvailableEncryption(b"s3cret")))
    config = {"ENV_NAME": "production", "SIGNING_KEY": str(p12), "SIGNING_KEY_PASSPHRASE": "s3cret"}
    signing.check_production(config)
    with recording_seal_boxes() as boxes:
        data = payment_order_pdf(order_data(2))
    signed = signing.sign_built(data, lang="zh", signed_at=SIGNED_AT, seal_boxes=boxes, config=config)
    check = signing.check_signature(signed, config=config)
    assert check.ok and check.signer_name == "某市经济和信息化局（测试证书 TEST）"
    with pytest.raises(RuntimeError, match="wrong passphrase"):  # a wrong passphrase stops the start
        signing.check_production({**config, "SIGNING_KEY_PASSPHRASE": "wrong"})


def test_a_test_certificate_is_generated_once_and_kept(tmp_path):
    path = tmp_path / "signing" / signing.TEST_CERT_FILE
    first = signing.generate_test_certificate(path).read_bytes()
    assert signing.generate_test_certificate(path).read_bytes() == first  # a second process keeps the first
    assert sorted(p.name for p in path.parent.iterdir()) == [signing.TEST_CERT_FILE]
    key = signing.load_key({"ENV_NAME": "development", "SIGNING_TEST_DIR": str(path.parent)})
    assert key.test and key.signer_name == "经济和信息化局（测试证书 TEST）"
    assert signing.load_key({"ENV_NAME": "development", "SIGNING_TEST_DIR": str(path.parent)}) is key  # once per process


def test_a_test_certificate_made_with_the_clock_moved_still_checks_documents_issued_before(tmp_path):
    """The tests move the clock (VOUCHER_TEST_CLOCK, time_machine): the first signature of a run may
    make the test certificate on any day, and a later document may be issued, and checked at its
    issue time, on an earlier one."""
    import time_machine

    config = {"ENV_NAME": "development", "SIGNING_TEST_DIR": str(tmp_path)}
    with time_machine.travel(datetime(2027, 6, 30, 12, tzinfo=timezone.utc), tick=False):
        signing.generate_test_certificate(tmp_path / signing.TEST_CERT_FILE)
    key = signing.load_key(config)
    assert key.certificate.not_valid_before <= datetime(2000, 1, 1, tzinfo=timezone.utc)
    earlier = datetime(2025, 1, 2, 2, 30, tzinfo=timezone.utc)
    with recording_seal_boxes() as boxes:
        data = payment_order_pdf(order_data(1, lang="en"))
    signed = signing.sign_built(data, lang="en", signed_at=earlier, seal_boxes=boxes, config=config)
    check = signing.check_signature(signed, trust_roots=key.trust_roots, moment=earlier)
    assert check.ok and check.signed_at == earlier


def test_signing_and_checking_work_where_the_thread_runs_an_event_loop(ctx):
    """pyHanko's synchronous API calls asyncio.run, which refuses inside a running loop (the browser
    tests' driver keeps one running for the rest of a test session; so may an async server)."""
    import asyncio
    import threading

    async def inside_a_loop():
        data, _ = signed_order()
        return signing.check_signature(data)

    from flask import current_app

    app = current_app._get_current_object()
    result = {}

    def on_a_thread_with_its_own_loop():  # whatever loop this test's own thread may already run
        loop = asyncio.new_event_loop()
        try:
            with app.app_context():
                result["check"] = loop.run_until_complete(inside_a_loop())
        finally:
            loop.close()

    worker = threading.Thread(target=on_a_thread_with_its_own_loop)
    worker.start()
    worker.join()
    assert result["check"].ok and result["check"].signed_at == SIGNED_AT
