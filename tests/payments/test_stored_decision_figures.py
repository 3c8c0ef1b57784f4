"""The 30/70 split is explained with the percentage the kick-off used, stored on the trial: after
the programme's advance parameter changes from 30% to 40%, the payment order, the audit dossier
(PDF text read back with pypdf) and the pages still say 30% and the amounts of the kick-off."""
from __future__ import annotations

from decimal import Decimal as D

import time_machine

from tests.factories import fresh_user, set_rule_parameters
from tests.payments.conftest import TEST_NOW, World
from tests.payments.test_documents_jobs import pdf_text, valid_document
from voucher.documents import services as documents
from voucher.documents.models import JobRecord
from voucher.extensions import db
from voucher.payments import documents as payment_documents


def _kicked_off_then_parameter_changed(world: World):
    trial = world.kick_off(world.trial("100000.00"))
    assert (trial.advance_pct, trial.advance_amount, trial.balance_amount) == (D("30.00"), D("30000.00"),
                                                                                D("70000.00"))
    world.announce()
    set_rule_parameters(world.programme, advance_pct=D("40"))  # the officer changes the parameter for later trials
    db.session.flush()
    return trial


def test_the_payment_order_and_dossier_say_30_percent_after_the_parameter_went_to_40(jobs):
    app = jobs.app
    with time_machine.travel(TEST_NOW, tick=True), app.test_request_context():
        world = World()
        trial = _kicked_off_then_parameter_changed(world)
        advance = world.approved("trial_application", trial.application_id, "advance")  # prepared after the change
        assert advance.amount == D("30000.00")
        auditor = fresh_user("auditor")
        db.session.commit()
        order = documents.request_document(world.finance_a.actor(), "payment_order", "disbursement", advance.id)
        dossier = documents.request_document(auditor.actor(), "audit_dossier", "application", trial.application_id)
        db.session.commit()
        ids = {"order": order.id, "dossier": dossier.id, "d": advance.id, "app": trial.application_id}
    jobs.drain()
    assert db.session.get(JobRecord, ids["order"]).status == "succeeded"
    assert db.session.get(JobRecord, ids["dossier"]).status == "succeeded"
    for text in (pdf_text(app, valid_document("payment_order", "disbursement", ids["d"])),
                 pdf_text(app, valid_document("audit_dossier", "application", ids["app"]))):
        assert "¥100,000.00×30%=¥30,000.00" in text  # pdf_text drops the spaces
        assert "40%" not in text


def test_the_pages_say_30_percent_after_the_parameter_went_to_40(world, login_as):
    trial = _kicked_off_then_parameter_changed(world)
    advance = world.prepare("trial_application", trial.application_id, "advance")
    assert advance.basis["advance_pct"] == "30.00"
    [line] = [x for x in payment_documents.working_lines(advance) if "×" in x]
    assert "¥100,000.00 × 30% = ¥30,000.00" in line
    page = login_as(world.finance_b).get(f"/payments/disbursements/{advance.id}").get_data(as_text=True)
    assert "¥100,000.00 × 30% = ¥30,000.00" in page and "40%" not in page
    page = login_as(world.officer).get(f"/trials/{trial.id}").get_data(as_text=True)
    assert 'data-pct="30.00"' in page and "¥30,000.00 (30%)" in page


def test_the_trial_page_gives_the_pass_mark_the_outcome_was_decided_with(world, login_as):
    trial = world.evaluate(world.complete(world.kick_off(world.trial("100000.00"))), "65")
    assert (trial.outcome, trial.pass_score, trial.remarkable_score) == ("passed", D("60.00"), D("85.00"))
    set_rule_parameters(world.programme, pass_score=D("70"), remarkable_score=D("90"))
    db.session.flush()
    page = login_as(world.officer).get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "pass mark 60, excellent from 85" in page


def test_a_correction_after_the_weights_changed_is_scored_with_the_weights_of_the_form_it_corrects(world):
    from tests.factories import AFTERS
    from voucher.trials import services as trials

    trial = world.complete(world.kick_off(world.trial("100000.00")))
    evaluator = fresh_user("evaluator")
    trials.assign_evaluator(world.officer.actor(), trial.id, evaluator.id)
    trials.declare_no_conflict(evaluator.actor(), trial.id, True)
    scores = {"effect": D("90"), "quality": D("50"), "service": D("50"), "cost_effectiveness": D("50"),
              "replicability": D("50")}

    def submit(reason=None):
        return trials.submit_evaluation(evaluator.actor(), trial.id, trials.EvaluationInput(
            afters=dict(AFTERS), scores=scores, comments="On site.", recommendation="continue",
            correction_reason=reason))

    first = submit()
    assert first.evaluation.overall == D("66.00") and trial.outcome == "passed"  # 90×40% + 50×60%
    # The programme's weights change for later evaluations: effect 20%, quality 40%.
    set_rule_parameters(world.programme, weight_effect=20, weight_quality=40)
    db.session.flush()
    corrected = submit(reason="Typo in the comments.")
    assert corrected.evaluation.version == 2
    assert corrected.evaluation.overall == D("66.00")  # not 90×20% + 50×80% = 58 (a fail)
    assert corrected.evaluation.weights == first.evaluation.weights
    assert trial.outcome == "passed" and trial.score == D("66.0")
