"""Evaluator assignment, declarations, the effect-evaluation form, outcomes and the ledger."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import set_rule_parameters
from tests.trials.conftest import AFTERS, evaluation_input
from voucher.calc import EvaluationParams, overall_score
from voucher.errors import Conflict, Duplicate, Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.programmes import services as ledger
from voucher.trials import queries, services
from voucher.trials.models import Evaluation, EvaluatorAssignment, Trial

D = Decimal


# --- assignment and declarations ---------------------------------------------------------------

def test_evaluators_are_assigned_only_to_a_completed_trial(ctx, flow):
    trial = flow.started()
    with pytest.raises(TransitionNotAllowed):
        services.assign_evaluator(flow.officer.actor(), trial.id, flow.evaluator().id)


def test_only_an_officer_assigns(ctx, flow):
    trial = flow.completed()
    with pytest.raises(Forbidden):
        services.assign_evaluator(flow.provider.actor(), trial.id, flow.evaluator().id)


def test_an_evaluator_of_the_provider_or_the_enterprise_is_refused_with_the_reason(ctx, flow, make_user):
    trial = flow.completed()
    # User administration keeps evaluators in evaluation institutions; the rule still guards against
    # an account attached to the provider or the enterprise (set directly here).
    insider = make_user("evaluator")
    insider.organisation_id = flow.provider_org.id
    db.session.flush()
    with pytest.raises(ValidationFailed) as err:
        services.assign_evaluator(flow.officer.actor(), trial.id, insider.id)
    assert "works for the provider" in err.value.fields["evaluator_id"]
    related = make_user("evaluator")
    related.organisation_id = trial.enterprise_id
    db.session.flush()
    with pytest.raises(ValidationFailed) as err:
        services.assign_evaluator(flow.officer.actor(), trial.id, related.id)
    assert "works for the enterprise" in err.value.fields["evaluator_id"]
    assert db.session.query(EvaluatorAssignment).filter_by(trial_id=trial.id).count() == 0


def test_the_same_evaluator_is_not_assigned_twice(ctx, flow):
    trial = flow.completed()
    flow.assign(trial, "e1", declare=False)
    with pytest.raises(Duplicate):
        flow.assign(trial, "e1", declare=False)


def test_assignment_notifies_the_evaluator(ctx, flow):
    trial = flow.completed()
    ev = flow.assign(trial, "e1", declare=False)[0]
    assert db.session.query(Notification).filter_by(user_id=ev.id).count() == 1


def test_the_form_opens_only_after_declaring_no_conflict_with_the_text_and_time_stored(ctx, flow):
    trial = flow.completed()
    ev = flow.assign(trial, "e1", declare=False)[0]
    with pytest.raises(Conflict):
        services.submit_evaluation(ev.actor(), trial.id, evaluation_input())
    with pytest.raises(ValidationFailed) as err:
        services.declare_no_conflict(ev.actor(), trial.id, False)
    assert "confirm" in err.value.fields
    assignment = services.declare_no_conflict(ev.actor(), trial.id, True, "I declare no conflict.")
    assert assignment.status == "cleared" and assignment.declared_at is not None
    assert assignment.declaration_text == "I declare no conflict."


def test_an_evaluator_who_declares_a_conflict_cannot_score_and_the_officer_sees_why(ctx, flow):
    trial = flow.completed()
    ev = flow.assign(trial, "e1", declare=False)[0]
    with pytest.raises(ValidationFailed):
        services.declare_conflict(ev.actor(), trial.id, "")
    services.declare_conflict(ev.actor(), trial.id, "My brother runs the enterprise")
    with pytest.raises(Forbidden):
        services.submit_evaluation(ev.actor(), trial.id, evaluation_input())
    with pytest.raises(Forbidden):
        services.get_trial(ev.actor(), trial.id)
    with pytest.raises(ValidationFailed):  # cannot be assigned again to the same trial
        services.assign_evaluator(flow.officer.actor(), trial.id, ev.id)
    flow.evaluate(trial, 70)  # the officer assigns another, who completes the evaluation
    assert trial.status == "evaluated"


def test_evaluator_pages_refuse_unassigned_and_conflicted_trials(client, login, flow, ctx, make_user):
    trial = flow.completed()
    stranger = make_user("evaluator")
    login(stranger)
    assert client.get(f"/trials/{trial.id}").status_code == 403
    assert client.get(f"/trials/{trial.id}/evaluation").status_code == 403
    assert client.post(f"/trials/{trial.id}/evaluation", data={}).status_code == 403
    client.post("/logout")
    ev = flow.assign(trial, "e1", declare=False)[0]
    login(ev)
    assert client.get(f"/trials/{trial.id}").status_code == 302  # to the declaration first
    r = client.post(f"/trials/{trial.id}/declaration",
                    data={"choice": "conflict", "conflict-reason": "Former employee"})
    assert r.status_code == 303
    assert client.get(f"/trials/{trial.id}").status_code == 403
    assert client.get(f"/trials/{trial.id}/evaluation").status_code == 403
    assert client.get(f"/trials/{trial.id}/declaration").status_code == 403
    client.post("/logout")
    login(flow.officer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "Former employee" in page and "Declared a conflict of interest" in page


def test_a_provider_cannot_score(client, login, flow, ctx):
    trial = flow.completed()
    with pytest.raises(Forbidden):
        services.submit_evaluation(flow.provider.actor(), trial.id, evaluation_input())
    login(flow.provider)
    assert client.get(f"/trials/{trial.id}/evaluation").status_code == 403
    r = client.post(f"/trials/{trial.id}/evaluation", data=_form_data())
    assert r.status_code == 403
    assert db.session.query(Evaluation).count() == 0


# --- the form ---------------------------------------------------------------------------------

def _form_data(score="80", **overrides):
    data = {f"after_{c}": str(v) for c, v in AFTERS.items()}
    data.update({f"score_{c}": score for c in ("effect", "quality", "service", "cost_effectiveness",
                                               "replicability")})
    data.update(comments="Good results.", recommendation="continue")
    data.update(overrides)
    return data


@pytest.mark.parametrize("field,value,message", [
    ("score_effect", "101", "Must be between 0 and 100"),
    ("score_quality", "-1", "Must be between 0 and 100"),
    ("score_service", "eighty", "Enter a number"),
    ("score_replicability", "85.25", "at most one decimal"),
    ("after_defect_rate", "-3", "Must be between 0 and"),
    ("after_production_efficiency", "fifty", "Enter a number"),
])
def test_bad_input_gets_a_message_on_the_field_and_saves_nothing(client, login, flow, ctx, field, value, message):
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    login(ev)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = client.post(f"/trials/{trial.id}/evaluation", data=_form_data(**{field: value}))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert f'id="{field}-err"' in page and message in page
    assert db.session.query(Evaluation).count() == 0
    db.session.expire_all()
    assert db.session.get(Trial, trial.id).status == "completed"


def test_the_service_refuses_bad_figures_field_by_field(ctx, flow):
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    bad = evaluation_input(scores={"effect": D("101"), "quality": D("-1"), "service": D("80.55"),
                                   "cost_effectiveness": None, "replicability": D("50")},
                           afters={**AFTERS, "defect_rate": D("-1"), "energy_per_unit": None},
                           comments=" ", recommendation="maybe")
    with pytest.raises(ValidationFailed) as err:
        services.submit_evaluation(ev.actor(), trial.id, bad)
    assert set(err.value.fields) == {"score_effect", "score_quality", "score_service", "score_cost_effectiveness",
                                     "after_defect_rate", "after_energy_per_unit", "comments", "recommendation"}
    assert db.session.query(Evaluation).count() == 0


def test_a_post_trial_defect_rate_over_100_percent_is_refused(ctx, flow):
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    with pytest.raises(ValidationFailed) as err:
        services.submit_evaluation(ev.actor(), trial.id, evaluation_input(afters={**AFTERS, "defect_rate": D("100.01")}))
    assert set(err.value.fields) == {"after_defect_rate"}
    assert "100" in err.value.fields["after_defect_rate"]
    assert db.session.query(Evaluation).count() == 0


def test_weighted_overall_score_uses_the_programme_weights_and_rounds_to_one_decimal(ctx, flow):
    set_rule_parameters(flow.programme, weight_effect=50, weight_quality=10)  # 50/10/15/15/10
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    scores = {"effect": D("77.7"), "quality": D("90"), "service": D("65.5"), "cost_effectiveness": D("80"),
              "replicability": D("71")}
    # 77.7×0.5 + 90×0.1 + 65.5×0.15 + 80×0.15 + 71×0.1 = 38.85 + 9 + 9.825 + 12 + 7.1 = 76.775 → 76.8
    submitted = services.submit_evaluation(ev.actor(), trial.id, evaluation_input(scores=scores))
    assert submitted.score.exact == D("76.775") and submitted.evaluation.overall == D("76.80")
    assert submitted.evaluation.weights == {"effect": 50, "quality": 10, "service": 15, "cost_effectiveness": 15,
                                            "replicability": 10}
    same = overall_score(scores, EvaluationParams(weights=submitted.evaluation.weights))
    assert same.overall == D("76.8")


def test_trial_score_is_the_mean_of_the_evaluators_once_all_have_submitted(ctx, flow):
    trial = flow.completed()
    e1, e2, e3 = flow.assign(trial, "a", "b", "c")
    services.submit_evaluation(e1.actor(), trial.id, evaluation_input("70"))
    services.submit_evaluation(e2.actor(), trial.id, evaluation_input("80"))
    assert trial.status == "completed" and trial.score is None  # one still to submit
    done = services.submit_evaluation(e3.actor(), trial.id, evaluation_input("85.5"))
    # (70 + 80 + 85.5) / 3 = 78.5
    assert done.result.mean == D("78.5") and trial.score == D("78.50")
    assert trial.status == "evaluated" and trial.outcome == "passed" and trial.application.status == "evaluated"


@pytest.mark.parametrize("score,outcome", [("59.9", "failed"), ("60.0", "passed"), ("60", "passed")])
def test_pass_fail_boundary_through_the_service(ctx, flow, score, outcome):
    trial = flow.evaluated(score)
    assert trial.outcome == outcome and trial.status == "evaluated"
    assert trial.application.status == "evaluated"


def test_pass_mark_comes_from_the_programme(ctx, flow):
    set_rule_parameters(flow.programme, pass_score=D("70"))
    trial = flow.evaluated("65")
    assert trial.outcome == "failed"


def test_a_failed_trial_releases_the_whole_outstanding_reservation_once_the_advance_is_paid(ctx, flow):
    trial = flow.completed(amount="100000.00")
    before = ledger.balances(flow.programme)
    assert before.reserved == D("100000.00")
    # The disbursement module pays the advance (30%) when the kick-off is confirmed.
    ledger.pay(flow.officer.actor(), "trial_application", trial.application_id, D("30000.00"), "advance")
    assert ledger.source_outstanding("trial_application", trial.application_id) == D("70000.00")
    flow.evaluate(trial, "59.9")
    assert trial.outcome == "failed" and trial.released_amount == D("70000.00")
    assert ledger.source_outstanding("trial_application", trial.application_id) == D("0.00")
    after = ledger.balances(flow.programme)
    assert after.reserved == D("0.00") and after.paid == D("30000.00")
    assert after.available == flow.programme.budget - D("30000.00")
    assert ledger.recomputed_balances(flow.programme) == after
    assert [i.milestone for i in queries.payable_items() if i.trial_id == trial.id] == []


def test_a_failed_trial_keeps_an_unpaid_advance_reserved_and_releases_the_balance(ctx, flow):
    trial = flow.completed(amount="100000.00")
    flow.evaluate(trial, "40")
    assert trial.released_amount == D("70000.00")
    assert ledger.source_outstanding("trial_application", trial.application_id) == D("30000.00")
    assert ledger.balances(flow.programme).available == flow.programme.budget - D("30000.00")
    items = [(i.milestone, i.amount) for i in queries.payable_items() if i.trial_id == trial.id]
    assert items == [("advance", D("30000.00"))]


def test_a_passed_trial_releases_nothing_and_makes_the_balance_payable(ctx, flow):
    trial = flow.completed(amount="100000.00")
    flow.accept(trial)
    flow.evaluate(trial, "75")
    assert trial.outcome == "passed" and trial.released_amount is None
    assert ledger.source_outstanding("trial_application", trial.application_id) == D("100000.00")
    assert ledger.balances(flow.programme).reserved == D("100000.00")
    items = {i.milestone: i for i in queries.payable_items() if i.trial_id == trial.id}
    assert items["advance"].amount == D("30000.00") and items["balance"].amount == D("70000.00")
    assert items["balance"].payee_organisation_id == flow.provider_org.id
    assert items["balance"].application_id == trial.application_id


def test_payable_items_leave_out_paid_milestones_and_unstarted_trials(ctx, flow):
    flow.approved()  # not kicked off: nothing payable
    started = flow.started(amount="50000.00")
    items = queries.payable_items()
    assert [(i.trial_id, i.milestone, i.amount) for i in items] == [(started.id, "advance", D("15000.00"))]
    ledger.pay(flow.officer.actor(), "trial_application", started.application_id, D("15000.00"), "advance")
    assert queries.payable_items() == []


def test_payable_items_of_one_application_read_only_its_trial(ctx, flow):
    """Preparing one payment asks for one application's items (the deadline rush's prepare read every
    trial of the programme): the same items as the whole list filtered, and none of the others."""
    first = flow.started(amount="50000.00")
    second = flow.started(amount="40000.00")
    everything = queries.payable_items()
    for trial in (first, second):
        mine = queries.payable_items(application_id=trial.application_id)
        assert mine == [i for i in everything if i.application_id == trial.application_id]
        assert [(i.trial_id, i.milestone) for i in mine] == [(trial.id, "advance")]
    assert queries.payable_items(flow.programme.id, application_id=second.application_id)[0].amount == D("12000.00")


def test_a_submitted_form_is_final_a_correction_is_a_new_audited_version(ctx, flow):
    from voucher.audit.models import AuditEvent

    trial = flow.completed()
    e1, e2 = flow.assign(trial, "a", "b")
    first = services.submit_evaluation(e1.actor(), trial.id, evaluation_input("70")).evaluation
    with pytest.raises(ValidationFailed) as err:
        services.submit_evaluation(e1.actor(), trial.id, evaluation_input("75"))
    assert "correction_reason" in err.value.fields
    correction = evaluation_input("75", correction_reason="Mistyped the service score")
    second = services.submit_evaluation(e1.actor(), trial.id, correction).evaluation
    assert (first.version, second.version) == (1, 2) and first.overall == D("70.00")
    event = db.session.query(AuditEvent).filter_by(action="evaluator_assignment.correct").one()
    assert event.reason == "Mistyped the service score" and event.before["version"] == 1
    services.submit_evaluation(e2.actor(), trial.id, evaluation_input("85"))
    assert trial.score == D("80.00")  # the latest version counts: (75 + 85) / 2


def test_a_correction_after_the_result_rescores_but_cannot_flip_the_outcome(ctx, flow):
    trial = flow.completed()
    ev = flow.assign(trial, "a")[0]
    services.submit_evaluation(ev.actor(), trial.id, evaluation_input("80"))
    assert trial.score == D("80.00")
    services.submit_evaluation(ev.actor(), trial.id, evaluation_input("86", correction_reason="Recount"))
    assert trial.score == D("86.00") and trial.remarkable is True
    with pytest.raises(Conflict):
        services.submit_evaluation(ev.actor(), trial.id, evaluation_input("50", correction_reason="Change"))
    assert trial.outcome == "passed"


def test_officer_records_the_result_when_a_conflict_leaves_only_submitted_forms(ctx, flow):
    trial = flow.completed()
    e1, e2 = flow.assign(trial, "a", "b")
    services.submit_evaluation(e1.actor(), trial.id, evaluation_input("90"))
    services.remove_assignment(flow.officer.actor(), trial.id,
                               services.assignment_of(e2.actor(), trial.id).id, "On leave")
    assert trial.status == "completed"
    result = services.record_result(flow.officer.actor(), trial.id)
    assert result.mean == D("90.0") and trial.status == "evaluated"


def test_sme_cannot_see_the_evaluators_comments_before_the_result_is_final(client, login, flow, ctx):
    trial = flow.completed()
    e1, e2 = flow.assign(trial, "a", "b")
    ev = services.submit_evaluation(e1.actor(), trial.id,
                                    evaluation_input("80", comments="SECRET-COMMENT-XYZ")).evaluation
    sme = flow.sme_of(trial)
    with pytest.raises(Forbidden):
        services.get_evaluation(sme.actor(), trial.id, ev.id)
    login(sme)
    assert client.get(f"/trials/{trial.id}/evaluations/{ev.id}").status_code == 403
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "SECRET-COMMENT-XYZ" not in page
    client.post("/logout")
    login(e2)  # another evaluator does not see it either before the result
    assert client.get(f"/trials/{trial.id}/evaluations/{ev.id}").status_code == 403
    services.submit_evaluation(e2.actor(), trial.id, evaluation_input("70"))
    client.post("/logout")
    login(sme)
    r = client.get(f"/trials/{trial.id}/evaluations/{ev.id}")
    assert r.status_code == 200 and "SECRET-COMMENT-XYZ" in r.get_data(as_text=True)


def test_adoption_closes_the_trial_and_the_application(ctx, flow):
    trial = flow.evaluated("75")
    sme = flow.sme_of(trial)
    with pytest.raises(ValidationFailed):
        services.record_adoption(sme.actor(), trial.id, None, "Because")
    with pytest.raises(ValidationFailed):
        services.record_adoption(sme.actor(), trial.id, True, " ")
    with pytest.raises(Forbidden):
        services.record_adoption(flow.provider.actor(), trial.id, True, "Because")
    services.record_adoption(sme.actor(), trial.id, True, "Defects halved")
    assert trial.status == "closed" and trial.adopted is True and trial.application.status == "closed"
    with pytest.raises(TransitionNotAllowed):
        services.record_adoption(sme.actor(), trial.id, False, "Again")


def test_adoption_is_recorded_only_after_the_evaluation(ctx, flow):
    trial = flow.completed()
    with pytest.raises(TransitionNotAllowed):
        services.record_adoption(flow.sme_of(trial).actor(), trial.id, True, "Early")


def test_whole_flow_through_the_pages(client, login, flow, ctx):
    trial = flow.completed()
    ev = flow.evaluator("page")
    login(flow.officer)
    r = client.post(f"/trials/{trial.id}/evaluators", data={"assign-evaluator_id": str(ev.id)})
    assert r.status_code == 303
    client.post("/logout")
    login(ev)
    assert client.get(f"/trials/{trial.id}/evaluation").status_code == 302
    r = client.post(f"/trials/{trial.id}/declaration", data={"choice": "no_conflict"})
    assert r.status_code == 422  # the box is not ticked
    r = client.post(f"/trials/{trial.id}/declaration", data={"choice": "no_conflict", "declare-confirm": "y"})
    assert r.status_code == 303
    assert client.get(f"/trials/{trial.id}/evaluation").status_code == 200
    r = client.post(f"/trials/{trial.id}/evaluation", data=_form_data("59.9"))
    assert r.status_code == 303
    db.session.expire_all()
    t = db.session.get(Trial, trial.id)
    assert t.outcome == "failed" and t.score == D("59.90")
    client.post("/logout")
    login(flow.sme_of(trial))
    r = client.post(f"/trials/{trial.id}/adoption", data={"adoption-adopted": "no", "adoption-reason": "Too slow"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Trial, trial.id).status == "closed"
