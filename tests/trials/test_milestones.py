"""Trial opening, milestone order and confirmation rules, dates, overdue flag, notifications."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from voucher.applications.models import TrialApplication
from voucher.errors import Conflict, Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.trials import queries, services
from voucher.trials.models import Trial

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _messages(user):
    return [n.message for n in db.session.query(Notification).filter_by(user_id=user.id)]


def test_approval_opens_one_trial_with_the_solution_period_and_amount(ctx, flow):
    trial = flow.approved(amount="120000.00")
    assert trial.status == "open" and trial.period_days == 90
    assert str(trial.approved_amount) == "120000.00"
    assert trial.start_date is None and trial.end_date is None
    assert services.open_trial_for(flow.officer.actor(), trial.application) is trial  # idempotent
    assert db.session.query(Trial).filter_by(application_id=trial.application_id).count() == 1
    assert any("report the kick-off" in m for m in _messages(flow.provider))


def test_milestones_must_be_reported_in_order_each_after_the_previous_is_confirmed(ctx, flow):
    trial = flow.approved()
    with pytest.raises(Conflict):
        flow.report(trial, "deployed")
    flow.report(trial, "kickoff")
    with pytest.raises(Conflict):  # kick-off not yet confirmed
        flow.report(trial, "deployed")
    with pytest.raises(Conflict):  # already reported, waiting for the enterprise
        flow.report(trial, "kickoff")
    flow.confirm(trial, "kickoff")
    with pytest.raises(Conflict):
        flow.report(trial, "final_report")
    flow.report(trial, "deployed")
    assert services.milestones(trial.id)["deployed"].seq == 2


def test_confirming_the_kickoff_starts_the_trial_with_end_date_from_the_trial_period(ctx, flow):
    trial = flow.approved(amount="100000.01")
    flow.report(trial, "kickoff")
    day = services.applications.local_today()
    flow.confirm(trial, "kickoff", today=day)
    assert trial.status == "running" and trial.application.status == "trial_running"
    assert trial.start_date == day and trial.end_date == day + timedelta(days=90)
    # 30% of 100,000.01 = 30,000.003 → 30,000.00 (fen, half-up); the balance is the rest.
    assert str(trial.advance_amount) == "30000.00" and str(trial.balance_amount) == "70000.01"


def test_confirming_the_final_report_completes_the_trial_and_asks_officers_for_evaluators(ctx, flow):
    trial = flow.completed()
    assert trial.status == "completed" and trial.application.status == "trial_completed"
    assert trial.completed_at is not None
    assert any("assign evaluators" in m for m in _messages(flow.officer))


def test_only_the_provider_reports_and_only_its_own_trials(ctx, flow, make_org, make_user):
    trial = flow.approved()
    other_provider = make_user("provider", make_org("provider"))
    with pytest.raises(Forbidden):
        services.report_milestone(other_provider.actor(), trial.id, "kickoff", "Started")
    with pytest.raises(Forbidden):
        services.report_milestone(flow.sme_of(trial).actor(), trial.id, "kickoff", "Started")


def test_only_the_enterprise_confirms_and_only_a_reported_milestone(ctx, flow, make_org, make_user):
    trial = flow.approved()
    with pytest.raises(TransitionNotAllowed):  # nothing reported yet
        flow.confirm(trial, "kickoff")
    flow.report(trial, "kickoff")
    other_sme = make_user("sme", make_org("enterprise"))
    with pytest.raises(Forbidden):
        services.confirm_milestone(other_sme.actor(), trial.id, "kickoff")
    with pytest.raises(Forbidden):
        services.confirm_milestone(flow.provider.actor(), trial.id, "kickoff")
    flow.confirm(trial, "kickoff")
    with pytest.raises(TransitionNotAllowed):  # confirmed once
        flow.confirm(trial, "kickoff")


def test_a_note_is_required_to_report(ctx, flow):
    trial = flow.approved()
    with pytest.raises(ValidationFailed) as err:
        flow.report(trial, "kickoff", note="   ")
    assert "note" in err.value.fields


def test_dispute_needs_a_reason_then_the_provider_reports_again(ctx, flow):
    trial = flow.approved()
    flow.report(trial, "kickoff", note="Started on Monday")
    sme = flow.sme_of(trial)
    with pytest.raises(ValidationFailed) as err:
        services.dispute_milestone(sme.actor(), trial.id, "kickoff", "  ")
    assert "reason" in err.value.fields
    m = services.dispute_milestone(sme.actor(), trial.id, "kickoff", "Nobody came on Monday")
    assert m.status == "disputed" and m.dispute_reason == "Nobody came on Monday"
    assert any("disputed a milestone" in msg for msg in _messages(flow.provider))
    with pytest.raises(TransitionNotAllowed):  # a disputed milestone is not confirmed
        flow.confirm(trial, "kickoff")
    m = flow.report(trial, "kickoff", note="Started on Wednesday")
    assert m.status == "reported" and m.report_count == 2 and m.note == "Started on Wednesday"
    flow.confirm(trial, "kickoff")
    assert trial.status == "running"


def test_reporting_notifies_the_enterprise_users(ctx, flow):
    trial = flow.approved()
    flow.report(trial, "kickoff")
    assert any("please confirm or dispute" in m for m in _messages(flow.sme_of(trial)))


def test_milestone_file_is_stored_and_only_readable_by_who_may_see_the_trial(ctx, app, flow, make_org, make_user):
    trial = flow.approved()
    upload = services.Upload(io.BytesIO(PDF), "kickoff.pdf", app.config["UPLOAD_MAX_BYTES"])
    m = services.report_milestone(flow.provider.actor(), trial.id, "kickoff", "Minutes attached", upload)
    stored = services.milestone_file(flow.sme_of(trial).actor(), trial.id, m.id)
    assert stored.owner_type == "milestone" and stored.owner_id == m.id
    with pytest.raises(Forbidden):
        services.milestone_file(make_user("sme", make_org("enterprise")).actor(), trial.id, m.id)


def test_a_file_that_is_not_pdf_jpeg_or_png_is_refused_and_nothing_is_reported(ctx, app, flow):
    trial = flow.approved()
    upload = services.Upload(io.BytesIO(b"MZ not a pdf"), "x.pdf", app.config["UPLOAD_MAX_BYTES"])
    with pytest.raises(ValidationFailed) as err:
        services.report_milestone(flow.provider.actor(), trial.id, "kickoff", "Minutes", upload)
    assert "file" in err.value.fields
    assert services.milestones(trial.id) == {}


def test_overdue_is_a_running_trial_past_its_end_date(ctx, flow):
    today = services.applications.local_today()
    late = flow.approved()
    flow.report(late, "kickoff")
    flow.confirm(late, "kickoff", today=today - timedelta(days=91))  # ended yesterday
    on_time = flow.started()
    done = flow.completed()
    done.start_date, done.end_date = today - timedelta(days=95), today - timedelta(days=5)  # completed: never overdue
    assert late.is_overdue(today) and not on_time.is_overdue(today) and not done.is_overdue(today)
    page = queries.trials_page(queries.TrialFilters(overdue=True), 1, 20)
    assert [t.id for t in page.items] == [late.id]
    mine = queries.my_trials_page(provider_id=flow.provider_org.id, filters=queries.TrialFilters(overdue=True))
    assert [t.id for t in mine.items] == [late.id]
    assert queries.provider_counts(flow.provider_org.id)["overdue"] == 1
    assert queries.officer_counts()["overdue"] == 1


def test_overdue_flag_shows_on_the_officer_and_provider_lists(client, login, flow, ctx):
    today = services.applications.local_today()
    late = flow.approved()
    flow.report(late, "kickoff")
    flow.confirm(late, "kickoff", today=today - timedelta(days=100))
    flow.started()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.officer)
    page = client.get("/trials/").get_data(as_text=True)
    assert page.count("Overdue: past its end date") == 1
    page = client.get("/trials/?overdue=1").get_data(as_text=True)
    assert late.solution.title in page and "1 in total" in page
    client.post("/logout")
    login(flow.provider)
    page = client.get("/trials/mine").get_data(as_text=True)
    assert page.count("Overdue: past its end date") == 1


def test_a_cancelled_approval_cancels_the_trial_and_stops_it(ctx, flow):
    from sqlalchemy import select

    from voucher.audit.models import AuditEvent

    trial = flow.approved()
    flow.report(trial, "kickoff")  # reported, not yet confirmed: the trial is still open
    assert queries.provider_counts(flow.provider_org.id)["to_report"] == 0
    assert queries.sme_counts(trial.enterprise_id)["to_confirm"] == 1
    services.applications.cancel(flow.officer.actor(), trial.application_id, "Enterprise closed down")
    db.session.expire_all()
    trial = db.session.get(Trial, trial.id)
    assert trial.status == "cancelled"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "trial",
                                                       AuditEvent.object_id == str(trial.id),
                                                       AuditEvent.action == "trial.cancel"))
    assert event is not None and event.reason == "Enterprise closed down"
    told = db.session.scalars(select(Notification.message).where(Notification.link == f"/trials/{trial.id}")).all()
    assert any("will not take place" in str(m) for m in told)
    # Nothing waits on anyone any more, and no step can be taken on it.
    assert queries.sme_counts(trial.enterprise_id)["to_confirm"] == 0
    with pytest.raises(TransitionNotAllowed):
        flow.confirm(trial, "kickoff")
    with pytest.raises(TransitionNotAllowed):
        services.TRIAL_MACHINE.apply(trial, "start", flow.sme_of(trial).actor())


def test_page_flow_report_and_confirm(client, login, flow, ctx):
    trial = flow.approved()
    login(flow.provider)
    r = client.post(f"/trials/{trial.id}/milestones/kickoff/report", data={"report-note": ""})
    assert r.status_code == 422
    r = client.post(f"/trials/{trial.id}/milestones/kickoff/report", data={"report-note": "Kick-off meeting held"})
    assert r.status_code == 303
    client.post("/logout")
    login(flow.sme_of(trial))
    r = client.post(f"/trials/{trial.id}/milestones/kickoff/dispute", data={"dispute-reason": ""})
    assert r.status_code == 422
    r = client.post(f"/trials/{trial.id}/milestones/kickoff/confirm", data={})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Trial, trial.id).status == "running"
    assert db.session.get(TrialApplication, trial.application_id).status == "trial_running"


def test_a_cancelled_trial_is_listed_as_such_and_its_page_says_why(client, login, flow, ctx):
    trial = flow.approved()
    running = flow.started()
    services.applications.cancel(flow.officer.actor(), trial.application_id, "Enterprise closed down")
    login(flow.officer)
    page = client.get("/trials/?status=cancelled", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'href="/trials/{trial.id}"' in page and f'href="/trials/{running.id}"' not in page
    assert "Approval cancelled" in page
    login(flow.provider)
    page = client.get(f"/trials/{trial.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The approval of this application was cancelled; the trial will not take place." in page
