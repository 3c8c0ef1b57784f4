"""Recording a breach queues the recovery notice (追回通知书); the job produces it as a PDF signed by the
bureau (real jobs on Redis); the debtor may download it, another enterprise may not."""
from __future__ import annotations

import io
from datetime import date

import time_machine
from sqlalchemy import select

from tests.factories import build_org, fresh_user
from tests.payments.conftest import jobs  # noqa: F401
from tests.recovery.conftest import PDF, TEST_NOW, Upload, World, pay_robot
from voucher.documents import services as documents
from voucher.documents.models import Document
from voucher.errors import Forbidden
from voucher.extensions import db
from voucher.recovery import services as recovery

TODAY = date(2026, 11, 20)


def test_the_notice_is_produced_signed_and_only_the_debtor_and_the_bureau_may_download_it(jobs):  # noqa: F811
    app = jobs.app
    with time_machine.travel(TEST_NOW, tick=True):
        with app.test_request_context():
            world = World()
            robot = pay_robot(world)
            order = recovery.record_breach(world.officer.actor(), "robot_application", robot.id,
                                           obligation_code="robot_in_use", breach_on=TODAY, reason="Sold.",
                                           evidence=Upload(io.BytesIO(PDF), "photo.pdf"), method="pro_rata",
                                           today=TODAY)
            db.session.commit()
            order_id, enterprise = order.id, robot.enterprise_id
        jobs.drain()
        with app.test_request_context():
            [doc] = db.session.scalars(select(Document).where(Document.kind == "recovery_notice")).all()
            assert (doc.subject_type, doc.subject_id, doc.version) == ("recovery_order", order_id, 1)
            check = documents.signature_check(doc)
            assert check is not None and check.signed and check.intact
            from voucher.enterprises.models import Organisation

            debtor = fresh_user("sme", db.session.get(Organisation, enterprise))
            stored, opened = documents.document_file(debtor.actor(), doc.id)
            assert stored.id == doc.id
            other = fresh_user("sme", build_org("enterprise"))
            try:
                documents.document_file(other.actor(), doc.id)
            except Forbidden:
                pass
            else:
                raise AssertionError("another enterprise downloaded the notice")
            db.session.rollback()
