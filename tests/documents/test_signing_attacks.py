"""Attacks on the signed PDFs (issue 18 §5): a file signed by another self-made certificate with the
bureau's very name, a stored file swapped for another genuinely signed document of the same bureau,
a truncated file, and an incremental update that only adds an annotation.  The verification page
must never say "valid" for any of them, and never answer a 500."""
from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from tests.documents.conftest import make_document, order_data
from tests.documents.test_signing import SIGNED_AT, signed_order
from voucher.documents import signing
from voucher.documents.pdf import payment_order_pdf, recording_seal_boxes
from voucher.storage import backend


def page_state(client, document) -> tuple[str, str]:
    response = client.get(f"/verify/{document.verification_code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    start = html.index('data-signature="') + len('data-signature="')
    return html[start:html.index('"', start)], html


def forged_with_the_same_name(tmp_path, subject: int = 1) -> bytes:
    """A payment order signed by a self-made certificate whose CN is exactly the bureau's test CN."""
    other = signing.load_key({"SIGNING_TEST_DIR": str(tmp_path / "forger"), "ENV_NAME": "testing"})
    assert other.signer_name == signing.bureau_key().signer_name  # the same name ...
    assert other.certificate.dump() != signing.bureau_key().certificate.dump()  # ... another certificate
    with recording_seal_boxes() as boxes:
        data = payment_order_pdf(order_data(subject))
    return signing.sign_pdf_bytes(data, other, signed_at=SIGNED_AT, lang="zh", seal=boxes[0] if boxes else None)


def test_a_document_signed_by_another_certificate_with_the_same_cn_is_not_trusted(client, ctx, tmp_path):
    forged = forged_with_the_same_name(tmp_path)
    check = signing.check_signature(forged)
    assert check.signed and check.intact and not check.trusted and not check.ok
    # recorded with the forged file's own SHA-256 (a forger who also wrote the database row) ...
    document = make_document(data=forged)
    state, html = page_state(client, document)
    assert state == "untrusted" and "签名有效" not in html
    # ... or swapped in for the genuine file
    genuine, _ = signed_order()
    swapped = make_document(data=genuine, subject_id=2)
    backend().put(swapped.stored_file.relative_path, forged, "application/pdf")
    state, html = page_state(client, swapped)
    assert state in ("tampered", "untrusted") and "签名有效" not in html


def test_a_stored_file_replaced_by_another_genuine_document_of_the_bureau_is_noticed(client, ctx):
    first, _ = signed_order()
    with recording_seal_boxes() as boxes:
        other = signing.sign_built(payment_order_pdf(order_data(2)), lang="zh", signed_at=SIGNED_AT, seal_boxes=boxes)
    assert signing.check_signature(other).ok  # a genuine, valid signature of the same bureau
    document = make_document(data=first, subject_label="DSB-2026-000001")
    backend().put(document.stored_file.relative_path, other, "application/pdf")
    state, html = page_state(client, document)
    assert state == "tampered" and "签名有效" not in html


def test_a_truncated_file_is_never_valid(client, ctx):
    data, _ = signed_order()
    for cut in (len(data) - 10, len(data) // 2, 200, 5, 0):
        assert not signing.check_signature(data[:cut]).ok
    document = make_document(data=data)
    backend().put(document.stored_file.relative_path, data[: len(data) // 2], "application/pdf")
    state, _html = page_state(client, document)
    assert state in ("tampered", "unsigned")
    document2 = make_document(data=data, subject_id=3)
    backend().put(document2.stored_file.relative_path, data[:-10], "application/pdf")
    state, _html = page_state(client, document2)
    assert state in ("tampered", "unsigned")


def with_an_annotation(data: bytes) -> bytes:
    """The signed file plus an incremental update that only adds a sticky-note annotation to page 1
    (what a PDF reader's "comment" does: it leaves the signed bytes alone)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    annot = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (50, 50, 70, 70)]),
        generic.NameObject("/Contents"): generic.TextStringObject("金额已改为 400000.00"),
    }))
    annots = page.get("/Annots")
    if annots is None:
        page[generic.NameObject("/Annots")] = generic.ArrayObject([annot])
    else:
        annots.get_object().append(annot)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_update_that_only_adds_an_annotation_is_not_intact(client, ctx):
    data, _ = signed_order()
    annotated = with_an_annotation(data)
    assert annotated.startswith(data) and len(annotated) > len(data)
    check = signing.check_signature(annotated)
    assert check.signed and not check.intact and not check.ok
    # even when the database row carries the annotated file's SHA-256
    document = make_document(data=annotated)
    state, html = page_state(client, document)
    assert state == "tampered" and "签名有效" not in html
