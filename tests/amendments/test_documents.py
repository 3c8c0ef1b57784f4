"""An approved change of the amount re-issues the application's audit dossier as a new version (real
jobs on Redis); the earlier version is kept, marked superseded."""
from __future__ import annotations

from decimal import Decimal

import time_machine
from sqlalchemy import select

from tests.amendments.conftest import TEST_NOW, World
from tests.payments.conftest import jobs  # noqa: F401
from voucher.amendments import services as amendments
from voucher.applications.services import local_today
from voucher.documents import services as documents
from voucher.documents.models import Document
from voucher.extensions import db


def test_the_dossier_is_reissued_and_the_old_version_superseded(jobs):  # noqa: F811
    app = jobs.app
    with time_machine.travel(TEST_NOW, tick=True):
        with app.test_request_context():
            world = World()
            trial = world.trial("200000.00")
            db.session.commit()
            documents.request_document(world.officer.actor(), "audit_dossier", "application", trial.application_id)
            db.session.commit()
            source_id, sme_id, officer_id = trial.application_id, world.smes[trial.id].id, world.officer.id
        jobs.drain()
        with app.test_request_context():
            [first] = db.session.scalars(select(Document).where(Document.kind == "audit_dossier")).all()
            assert (first.version, first.status) == (1, "valid")
            from voucher.auth.models import User

            sme, officer = db.session.get(User, sme_id), db.session.get(User, officer_id)
            a = amendments.request_amendment(sme.actor(), "trial_application", source_id,
                                             {"requested_amount": Decimal("150000.00")}, "Smaller line.",
                                             local_today())
            amendments.approve(officer.actor(), a.id)
            db.session.commit()
        jobs.drain()
        with app.test_request_context():
            rows = db.session.scalars(select(Document).where(Document.kind == "audit_dossier")
                                      .order_by(Document.version)).all()
            assert [(d.version, d.status) for d in rows] == [(1, "superseded"), (2, "valid")]
