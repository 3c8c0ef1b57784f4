"""Two officers saving the same guide at the same instant, both from the same version: one version
is made, the other officer is told to reload (a Conflict, never a server error, never a lost edit
written over the other); one audit event (PostgreSQL, real commits)."""
from __future__ import annotations

import threading
from dataclasses import replace

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import build_programme, build_user
from voucher.audit.models import AuditEvent
from voucher.errors import Conflict
from voucher.extensions import db
from voucher.guides import services
from voucher.guides.defaults import default_content
from voucher.guides.models import GuideVersion, ProgrammeGuide
from voucher.programmes.models import Programme

pytestmark = needs_postgres


def _at_once(app, actors, programme_id, base_version):
    barrier = threading.Barrier(len(actors))
    outcomes = []

    def save(actor, n):
        with app.test_request_context():
            programme = db.session.get(Programme, programme_id)
            # a phone number new in every round: an edit equal to the saved version is "nothing changed"
            # (returns None, no lock-order question at all), which is not the race under test
            content = replace(default_content(programme, "trial_voucher"),
                              contact_phone=f"0577-88{base_version}6000{n}")
            barrier.wait()
            try:
                services.save_guide(actor, programme_id, "trial_voucher", content, base_version=base_version)
                db.session.commit()
                outcomes.append("saved")
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                outcomes.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(a, n)) for n, a in enumerate(actors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_saves_from_the_same_version_make_one_version(committed_app):
    app = committed_app
    with app.test_request_context():
        actors = [build_user("officer").actor(), build_user("officer").actor()]
        programme_id = build_programme().id
        db.session.commit()
    for base, expected_versions in ((0, 1), (1, 2)):  # the first guide, then a new version of it
        outcomes = _at_once(app, actors, programme_id, base)
        assert outcomes.count("saved") == 1, outcomes
        refused = [o for o in outcomes if o != "saved"]
        assert len(refused) == 1 and isinstance(refused[0], Conflict), refused
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(GuideVersion)) == expected_versions
            assert db.session.scalar(select(ProgrammeGuide.current_version)) == expected_versions
            assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "programme_guide.saved")) == expected_versions
