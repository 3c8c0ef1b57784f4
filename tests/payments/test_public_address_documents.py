"""A payment order prints and encodes the configured public address (``VOUCHER_PUBLIC_BASE_URL``):
the verification address in its text, and its QR code is, pixel for pixel, the QR code of that
address; nothing points to 127.0.0.1.  E-mailed notifications link to the same address."""
from __future__ import annotations

import io

import pypdf
import time_machine
from PIL import Image as PILImage

from tests.payments.conftest import TEST_NOW, World
from voucher.documents import services as documents
from voucher.documents.models import Document, JobRecord
from voucher.documents.pdf import qr_png
from voucher.extensions import db
from voucher.storage import read_bytes

PUBLIC = "https://voucher.wzjxj.example.gov.cn"


def _pixels(image) -> tuple:
    grey = image.convert("L")
    return grey.size, grey.tobytes()


def test_a_payment_order_prints_and_encodes_the_configured_address(jobs, monkeypatch):
    app = jobs.app
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)
    with time_machine.travel(TEST_NOW, tick=True), app.test_request_context():
        world = World()
        robot = world.robot()
        world.announce()
        d = world.approved("robot_application", robot.id, "full")
        db.session.commit()
        job = documents.request_document(world.finance_a.actor(), "payment_order", "disbursement", d.id)
        db.session.commit()
        job_id, d_id = job.id, d.id
    jobs.drain()
    assert db.session.get(JobRecord, job_id).status == "succeeded"
    document = db.session.query(Document).filter_by(kind="payment_order", subject_id=d_id).one()
    page = pypdf.PdfReader(io.BytesIO(read_bytes(document.stored_file))).pages[0]
    url = f"{PUBLIC}/verify/{document.verification_code}"
    assert url in "".join(page.extract_text().split())
    assert "127.0.0.1" not in page.extract_text()
    [embedded] = page.images
    assert _pixels(embedded.image) == _pixels(PILImage.open(io.BytesIO(qr_png(url))))
    assert _pixels(embedded.image) != _pixels(PILImage.open(io.BytesIO(qr_png(
        f"http://127.0.0.1:5000/verify/{document.verification_code}"))))
