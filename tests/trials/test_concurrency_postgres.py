"""The last two evaluators submitting at the same instant record the outcome once and release the
balance once, without deadlock (PostgreSQL, real commits: application row, trial row, programme
row, audit chain — always in that order)."""
from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import build_org, build_user
from tests.trials.conftest import Flow, build_programme, evaluation_input
from voucher.audit.models import AuditEvent
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry
from voucher.trials import services
from voucher.trials.models import Trial

pytestmark = needs_postgres


def _make_user(role, organisation=None):
    return build_user(role, organisation)


def test_two_last_evaluations_at_once_record_one_failed_outcome_and_one_release(committed_app):
    app = committed_app
    with app.test_request_context():
        flow = Flow(build_org, _make_user, build_programme())
        trial = flow.completed(amount="100000.00")
        e1, e2 = flow.assign(trial, "a", "b")
        db.session.commit()
        trial_id, programme_id, actors = trial.id, trial.programme_id, [e1.actor(), e2.actor()]

    barrier = threading.Barrier(2)
    errors = []

    def submit(actor):
        with app.test_request_context():
            barrier.wait()
            try:
                services.submit_evaluation(actor, trial_id, evaluation_input("40"))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    with app.app_context():
        trial = db.session.get(Trial, trial_id)
        assert trial.status == "evaluated" and trial.outcome == "failed" and trial.score == Decimal("40.00")
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "trial.evaluate")) == 1
        assert db.session.scalar(select(func.count()).select_from(FundLedgerEntry)
                                 .where(FundLedgerEntry.kind == "release")) == 1
        assert ledger.source_outstanding("trial_application", trial.application_id) == Decimal("30000.00")
        programme = ledger.get_programme(programme_id)
        assert ledger.recomputed_balances(programme) == ledger.balances(programme)


def test_cancelling_an_approval_while_the_enterprise_confirms_the_kick_off_leaves_one_consistent_outcome(
        committed_app):
    """Both lock the application row first: whichever comes second sees the other's result and is
    refused, so the trial never runs on a released reservation nor is cancelled while running."""
    from voucher.applications import services as applications
    from voucher.applications.models import TrialApplication
    from voucher.errors import TransitionNotAllowed

    app = committed_app
    with app.test_request_context():
        flow = Flow(build_org, _make_user, build_programme())
        trial = flow.approved(amount="100000.00")
        flow.report(trial, "kickoff")
        db.session.commit()
        trial_id, application_id, programme_id = trial.id, trial.application_id, trial.programme_id
        officer, sme = flow.officer.actor(), flow.sme_of(trial).actor()

    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name, call):
        with app.test_request_context():
            barrier.wait()
            try:
                call()
                db.session.commit()
                outcomes[name] = "done"
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                outcomes[name] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=("cancel", lambda: applications.cancel(officer, application_id,
                                                                                        "Closed down."))),
               threading.Thread(target=run, args=("confirm", lambda: services.confirm_milestone(sme, trial_id,
                                                                                                "kickoff")))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(k for k, v in outcomes.items() if v == "done") in (["cancel"], ["confirm"]), outcomes
    refused = [v for v in outcomes.values() if v != "done"]
    assert len(refused) == 1 and isinstance(refused[0], TransitionNotAllowed), outcomes
    with app.app_context():
        trial = db.session.get(Trial, trial_id)
        application = db.session.get(TrialApplication, application_id)
        outstanding = ledger.source_outstanding("trial_application", application_id)
        if outcomes["cancel"] == "done":
            assert (application.status, trial.status, outstanding) == ("cancelled", "cancelled", Decimal("0.00"))
            assert trial.start_date is None
        else:
            assert (application.status, trial.status, outstanding) == ("trial_running", "running",
                                                                       Decimal("100000.00"))
        programme = ledger.get_programme(programme_id)
        assert ledger.recomputed_balances(programme) == ledger.balances(programme)
