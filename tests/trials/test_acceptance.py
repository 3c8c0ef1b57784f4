"""Acceptance (验收) before the balance: the enterprise and the provider each confirm the delivered
scope against the application; the 70% balance is payable only after both have accepted *and* the
evaluation passed.  Also the early-finish reason and the kick-off confirmation's wording."""
from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import set_rule_parameters
from voucher.audit.models import AuditEvent
from voucher.documents.models import StoredFile
from voucher.errors import Conflict, Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.trials import queries, services

D = Decimal
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def balance_items(trial):
    return [i for i in queries.payable_items() if i.trial_id == trial.id and i.milestone == "balance"]


def every_item(trial):
    return frozenset(i.code for i in services.acceptance_checklist(trial))


def events(trial, action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "trial",
                                                           AuditEvent.object_id == str(trial.id),
                                                           AuditEvent.action == action)))


# --- the payable rule ---------------------------------------------------------------------------

def test_the_balance_waits_for_both_acceptances_and_a_passed_evaluation(ctx, flow):
    trial = flow.completed(amount="100000.00")
    flow.evaluate(trial, "80")
    assert trial.outcome == "passed"
    assert balance_items(trial) == []  # passed, nobody accepted
    flow.accept(trial, "sme")
    assert trial.acceptance_status == "sme_accepted"
    assert balance_items(trial) == []  # the enterprise alone is not enough
    flow.accept(trial, "provider")
    assert trial.acceptance_status == "accepted" and trial.accepted_at is not None
    [item] = balance_items(trial)
    assert item.amount == D("70000.00") and item.payee_organisation_id == flow.provider_org.id
    # Due from the later of the result and the second acceptance (the payment deadline runs from it).
    assert item.due_since == trial.accepted_at >= trial.evaluated_at


def test_the_provider_alone_is_not_enough_either_and_acceptance_before_the_result_waits_for_it(ctx, flow):
    trial = flow.completed(amount="100000.00")
    flow.accept(trial, "provider")
    assert trial.acceptance_status == "provider_accepted"
    flow.evaluate(trial, "80")
    assert balance_items(trial) == []
    flow.accept(trial, "sme")
    assert trial.acceptance_status == "accepted"
    assert len(balance_items(trial)) == 1  # both accepted and passed: due now
    trial2 = flow.completed(amount="100000.00")
    flow.accept(trial2)
    assert balance_items(trial2) == []  # accepted, not yet evaluated
    flow.evaluate(trial2, "90")
    [item] = balance_items(trial2)
    assert item.due_since == trial2.evaluated_at >= trial2.accepted_at


def test_accepted_by_both_but_failed_evaluation_pays_no_balance(ctx, flow):
    trial = flow.completed(amount="100000.00")
    flow.accept(trial)
    flow.evaluate(trial, "40")
    assert trial.outcome == "failed" and trial.acceptance_status == "accepted"
    assert balance_items(trial) == []
    assert trial.released_amount == D("70000.00")  # the advance (unpaid) stays reserved


def test_after_a_failed_evaluation_there_is_nothing_to_accept(ctx, flow):
    trial = flow.completed()
    flow.evaluate(trial, "40")
    with pytest.raises(TransitionNotAllowed):
        flow.accept(trial, "sme")
    assert balance_items(trial) == []


def test_finance_is_told_when_the_second_acceptance_makes_the_balance_payable(ctx, flow, make_user):
    finance = make_user("finance")
    trial = flow.completed(amount="100000.00")
    flow.evaluate(trial, "80")

    def due():
        return [n for n in db.session.scalars(select(Notification).where(Notification.user_id == finance.id))
                if n.message.startswith("The balance of %(amount)s")]

    flow.accept(trial, "provider")
    assert due() == []
    flow.accept(trial, "sme")
    [note] = due()
    assert note.params["amount"] == "¥70,000.00"


# --- who may accept, when, with what ------------------------------------------------------------

def test_only_the_trials_own_enterprise_and_provider_accept(ctx, flow, make_org, make_user):
    trial = flow.completed()
    data = services.AcceptanceInput("Delivered.", every_item(trial))
    for outsider in (make_user("sme", make_org("enterprise")), make_user("provider", make_org("provider")),
                     flow.officer, make_user("evaluator"), make_user("finance")):
        with pytest.raises(Forbidden):
            services.record_acceptance(outsider.actor(), trial.id, data)
    assert trial.acceptance_status == "pending" and services.acceptances(trial.id) == {}


def test_acceptance_opens_with_the_final_report_and_each_party_accepts_once(ctx, flow):
    trial = flow.started()
    with pytest.raises(TransitionNotAllowed):
        flow.accept(trial, "sme")
    for kind in ("deployed", "in_use", "final_report"):
        flow.report(trial, kind)
        flow.confirm(trial, kind)
    flow.accept(trial, "sme")
    with pytest.raises(Conflict):
        flow.accept(trial, "sme")
    assert trial.acceptance_status == "sme_accepted"


def test_every_checklist_item_and_the_scope_are_required(ctx, flow):
    trial = flow.completed()
    items = services.acceptance_checklist(trial)
    # From the application: the solution, the milestones, the need and each baseline given (five here).
    assert [i.code for i in items][:3] == ["solution", "milestones", "need"]
    assert sum(i.code.startswith("indicator:") for i in items) == 5
    sme = flow.sme_of(trial).actor()
    with pytest.raises(ValidationFailed) as refused:
        services.record_acceptance(sme, trial.id, services.AcceptanceInput("  ", every_item(trial) - {"need"}))
    messages = refused.value.field_messages()
    assert set(messages) == {"delivered_scope", "checklist"}
    assert "(1 not ticked)" in messages["checklist"]
    assert services.acceptances(trial.id) == {} and trial.acceptance_status == "pending"


def test_the_attachment_is_stored_and_audited_and_served_only_to_who_may_see_the_trial(
        ctx, flow, client, login, app, make_org, make_user):
    trial = flow.completed()
    upload = services.Upload(io.BytesIO(PDF), "验收单.pdf", app.config["UPLOAD_MAX_BYTES"])
    form = services.record_acceptance(flow.provider.actor(), trial.id, services.AcceptanceInput(
        "Installed, configured, trained two operators.", every_item(trial), upload))
    stored = db.session.get(StoredFile, form.file_id)
    assert (stored.owner_type, stored.owner_id, stored.purpose) == ("trial_acceptance", form.id, "acceptance_report")
    assert stored.original_name == "验收单.pdf"
    [event] = events(trial, "trial.provider_accept")
    assert event.before == {"acceptance_status": "pending"}
    assert event.after["acceptance_status"] == "provider_accepted" and event.after["sha256"] == stored.sha256
    assert event.after["checklist"] == [i.code for i in services.acceptance_checklist(trial)]
    url = f"/trials/{trial.id}/acceptance/{form.id}/file"
    login(flow.sme_of(trial))
    response = client.get(url)
    assert response.status_code == 200 and response.data == PDF
    login(make_user("sme", make_org("enterprise")))
    assert client.get(url).status_code == 403


def test_both_acceptances_are_audited_through_the_trials_acceptance_machine(ctx, flow):
    trial = flow.completed()
    flow.accept(trial, "sme", "provider")
    [sme_event] = events(trial, "trial.sme_accept")
    [provider_event] = events(trial, "trial.provider_accept")
    assert (sme_event.before, sme_event.after["acceptance_status"]) == ({"acceptance_status": "pending"},
                                                                       "sme_accepted")
    assert (provider_event.before, provider_event.after["acceptance_status"]) == (
        {"acceptance_status": "sme_accepted"}, "accepted")
    assert sme_event.actor_role == "sme" and provider_event.actor_role == "provider"
    assert sme_event.after["delivered_scope"] == "Installed, configured and handed over as applied."


# --- the pages -----------------------------------------------------------------------------------

def test_acceptance_pages_for_each_party_wrong_party_403(client, login, flow, ctx, make_org, make_user):
    trial = flow.completed()
    url = f"/trials/{trial.id}/acceptance"
    codes = [i.code for i in services.acceptance_checklist(trial)]
    login(make_user("sme", make_org("enterprise")))
    assert client.get(url).status_code == 403
    assert client.post(url, data={"accept-delivered_scope": "x", "accept-checklist": codes}).status_code == 403
    login(make_user("provider", make_org("provider")))
    assert client.post(url, data={"accept-delivered_scope": "x", "accept-checklist": codes}).status_code == 403
    login(flow.officer)
    assert client.get(url).status_code == 200
    assert client.post(url, data={"accept-delivered_scope": "x", "accept-checklist": codes}).status_code == 403
    assert trial.acceptance_status == "pending"

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.sme_of(trial))
    page = client.get(url).get_data(as_text=True)
    assert "Accept the delivered scope" in page and flow.solution.title in page
    refused = client.post(url, data={"accept-delivered_scope": "", "accept-checklist": codes[:2]})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Describe the scope delivered" in text and "not ticked" in text
    done = client.post(url, data={"accept-delivered_scope": "All delivered.", "accept-checklist": codes})
    assert done.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "All delivered." in page and "Accepted by the enterprise: waiting for the provider" in page
    detail = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "Awaiting acceptance by the provider" in detail


# --- early finish --------------------------------------------------------------------------------

def _to_final_report(flow, day):
    trial = flow.approved()
    flow.report(trial, "kickoff")
    flow.confirm(trial, "kickoff", today=day)
    for kind in ("deployed", "in_use", "final_report"):
        flow.report(trial, kind)
        if kind != "final_report":
            flow.confirm(trial, kind, today=day)
    return trial


def test_a_final_report_confirmed_long_before_the_planned_end_needs_a_reason(ctx, flow, client, login):
    day = services.applications.local_today()
    trial = _to_final_report(flow, day)  # 90-day trial: ends day + 90
    sme = flow.sme_of(trial).actor()
    # 28 days early is more than 30% of 90 days (27): a reason is required.
    with pytest.raises(ValidationFailed) as refused:
        services.confirm_milestone(sme, trial.id, "final_report", today=day + timedelta(days=62), early_reason=" ")
    assert refused.value.fields.keys() == {"early_reason"}
    assert "28 days early" in refused.value.render()
    assert trial.status == "running"
    services.confirm_milestone(sme, trial.id, "final_report", today=day + timedelta(days=62),
                               early_reason="产线提前完成改造，试用目标已达成。")
    assert trial.status == "completed" and trial.early_finish_days == 28
    assert trial.early_finish_reason == "产线提前完成改造，试用目标已达成。"
    [event] = events(trial, "trial.complete")
    assert event.reason == "产线提前完成改造，试用目标已达成。" and event.after["early_finish_days"] == 28
    officer_notes = [n for n in db.session.scalars(select(Notification).where(Notification.user_id == flow.officer.id))
                     if n.params.get("reason")]
    assert officer_notes and officer_notes[-1].params["days"] == 28
    # Shown to the officer on the trial page.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.officer)
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "Finished early" in page and "28 days before the planned end" in page and "产线提前完成改造" in page


def test_a_final_report_within_the_tolerance_needs_no_reason(ctx, flow):
    day = services.applications.local_today()
    trial = _to_final_report(flow, day)
    # 27 days early is exactly 30% of 90: not more, so no reason.
    services.confirm_milestone(flow.sme_of(trial).actor(), trial.id, "final_report", today=day + timedelta(days=63))
    assert trial.status == "completed" and trial.early_finish_days is None and trial.early_finish_reason is None


def test_the_page_asks_for_the_early_reason_and_refuses_without_it(client, login, flow, ctx):
    trial = _to_final_report(flow, services.applications.local_today())
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.sme_of(trial))
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "confirm-early_reason" in page and "90 days early" in page
    url = f"/trials/{trial.id}/milestones/final_report/confirm"
    refused = client.post(url, data={"confirm-early_reason": ""})
    assert refused.status_code == 422 and "Give the reason for finishing early" in refused.get_data(as_text=True)
    assert trial.status == "running"
    assert client.post(url, data={"confirm-early_reason": "Delivered ahead of plan."}).status_code == 303


# --- the kick-off and what the enterprise sees next -------------------------------------------------

def test_the_kickoff_confirmation_says_it_releases_the_advance_with_the_amount(client, login, flow, ctx):
    trial = flow.approved(amount="200000.00")
    flow.report(trial, "kickoff")
    login(flow.sme_of(trial))
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)  # Chinese, the default
    assert f"确认启动后，试用开始，将向服务商{flow.provider_org.name}拨付30%预拨款 ¥60,000.00。" in page
    assert page.count("¥60,000.00") >= 2  # in the notice and in the confirmation dialog (data-confirm)
    assert 'data-confirm="确认启动后' in page
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.sme_of(trial))
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "releases the 30% advance of ¥60,000.00 to the provider" in page


def test_a_changed_advance_percentage_refuses_the_confirmation_the_page_showed(ctx, flow):
    trial = flow.approved(amount="200000.00")
    flow.report(trial, "kickoff")
    set_rule_parameters(flow.programme, advance_pct=D("40.00"))
    with pytest.raises(Conflict):
        services.confirm_milestone(flow.sme_of(trial).actor(), trial.id, "kickoff", expected_advance=D("60000.00"))
    services.confirm_milestone(flow.sme_of(trial).actor(), trial.id, "kickoff", expected_advance=D("80000.00"))
    assert trial.advance_amount == D("80000.00")


def test_the_enterprise_sees_what_happens_next_until_the_balance_is_paid(client, login, flow, ctx):
    trial = flow.completed(amount="100000.00")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.sme_of(trial))

    def next_step():
        page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
        assert "Nothing more to do" not in page
        return page

    assert "Accept the delivered scope" in next_step()
    flow.accept(trial, "sme")
    assert "Awaiting acceptance by the provider" in next_step()
    flow.accept(trial, "provider")
    assert "Awaiting the effect evaluation" in next_step()
    flow.evaluate(trial, "80")
    services.record_adoption(flow.sme_of(trial).actor(), trial.id, True, "Keeps working.")
    assert trial.status == "closed"
    page = next_step()
    assert "Awaiting the public notice" in page and "Closed" not in page.split("Next step:")[1][:200]
    listing = client.get("/trials/mine").get_data(as_text=True)
    assert "Balance:" in listing and "Awaiting the public notice" in listing


def test_the_start_page_counts_deliveries_waiting_for_each_partys_acceptance(ctx, flow):
    trial = flow.completed()
    failed = flow.completed()
    flow.evaluate(failed, "30")  # nothing to accept after a failed evaluation
    assert queries.sme_counts(trial.enterprise_id)["to_accept"] == 1
    assert queries.sme_counts(failed.enterprise_id)["to_accept"] == 0
    assert queries.provider_counts(flow.provider_org.id)["to_accept"] == 1
    flow.accept(trial, "provider")
    assert queries.provider_counts(flow.provider_org.id)["to_accept"] == 0
    assert queries.sme_counts(trial.enterprise_id)["to_accept"] == 1
    flow.accept(trial, "sme")
    assert queries.sme_counts(trial.enterprise_id)["to_accept"] == 0


# --- the timeline after the trial: acceptance, evaluation and the balance each finish on their own --

def _timeline(trial):
    from voucher.applications import services as applications
    from voucher.applications.models import TrialApplication
    from voucher.audit.queries import events_for
    from voucher.timeline import build

    application = db.session.get(TrialApplication, trial.application_id)
    return build("trial_application", applications.MACHINE, application,
                 events_for("trial_application", application.id))


def _steps(timeline):
    return [(s.code, s.step) for s in timeline.stages]


def test_the_timeline_is_not_finished_until_the_balance_is_paid(ctx, flow):
    from voucher.programmes import services as ledger

    trial = flow.completed(amount="100000.00")
    t = _timeline(trial)
    assert [c for c, _ in _steps(t)][-5:] == ["trial_completed", "acceptance", "evaluated", "balance_paid", "closed"]
    assert ("trial_completed", "done") in _steps(t) and t.current.code == "acceptance"
    assert t.next_actors == ("provider", "sme") and not t.finished
    flow.accept(trial, "sme")
    assert _timeline(trial).next_actors == ("provider",)  # the enterprise has accepted: the provider is next
    flow.accept(trial, "provider")
    t = _timeline(trial)
    assert ("acceptance", "done") in _steps(t) and t.current.code == "evaluated" and t.next_actors == ("evaluator",)
    flow.evaluate(trial, "80")
    t = _timeline(trial)
    assert t.current.code == "balance_paid" and t.next_actors == ("finance",) and not t.finished
    ledger.pay(flow.officer.actor(), "trial_application", trial.application_id, trial.balance_amount, "balance")
    t = _timeline(trial)
    # Paid, but the enterprise has not yet closed (its decision on keeping the solution): it acts next.
    assert ("balance_paid", "done") in _steps(t) and t.current.code == "closed" and t.next_actors == ("sme",)
    assert all(s.at is not None for s in t.stages if s.step == "done")


def test_an_evaluation_before_the_acceptance_leaves_the_acceptance_as_the_stage_now(ctx, flow):
    trial = flow.completed(amount="100000.00")
    flow.evaluate(trial, "80")
    t = _timeline(trial)
    assert ("evaluated", "done") in _steps(t) and t.current.code == "acceptance" and not t.finished
    assert [s.step for s in t.stages].count("current") == 1
