"""The rules of trial-voucher applications, through the services (domain section 2)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from tests.applications.conftest import build_programme, content, token
from tests.factories import attach_required_materials
from voucher.applications import services
from voucher.applications.models import TrialApplication
from voucher.audit.queries import events_for
from voucher.audit.services import verify_chain
from voucher.errors import BudgetExhausted, Forbidden, OverCap, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.programmes import services as ledger


def _count_apps() -> int:
    return db.session.scalar(select(func.count()).select_from(TrialApplication))


def test_request_over_200000_cap_is_refused_stating_cap_and_remaining(ctx, sme, programme, make_solution):
    pricey = make_solution(trial_price="300000.00")
    with pytest.raises(OverCap) as err:
        services.create_application(sme.actor(), token=token(), programme_id=programme.id, solution_id=pricey.id,
                                    content=content("200000.01"))
    text = err.value.render()
    assert "¥200,000.00" in text and "remains" in text
    assert err.value.params["remaining"] == "¥200,000.00"
    assert "requested_amount" in err.value.fields
    assert _count_apps() == 0
    # Exactly the cap is accepted.
    app, created = services.create_application(sme.actor(), token=token(), programme_id=programme.id,
                                               solution_id=pricey.id, content=content("200000.00"))
    assert created and app.requested_amount == Decimal("200000.00")


def test_request_over_trial_price_is_refused_stating_price_and_remaining(ctx, sme, programme, make_solution):
    cheap = make_solution(trial_price="80000.00")
    with pytest.raises(OverCap) as err:
        services.create_application(sme.actor(), token=token(), programme_id=programme.id, solution_id=cheap.id,
                                    content=content("80000.01"))
    text = err.value.render()
    assert "¥80,000.00" in text and "¥200,000.00" in text
    assert err.value.fields.keys() == {"requested_amount"}


def test_150000_approved_then_60000_asked_is_refused_with_cap_and_remaining_50000(ctx, sme, officer,
                                                                                  file_application):
    first = file_application(sme, "150000.00")
    services.approve(officer.actor(), first.id)
    with pytest.raises(OverCap) as err:
        file_application(sme, "60000.00", submit=False)
    text = err.value.render()
    assert "¥200,000.00" in text and "¥50,000.00" in text and "¥150,000.00" in text
    # 50,000 still fits.
    file_application(sme, "50000.00")


def test_quota_is_rechecked_at_submit_and_at_approval(ctx, sme, officer, file_application):
    a = file_application(sme, "150000.00")
    b = file_application(sme, "100000.00")  # filed while nothing was reserved yet
    draft = file_application(sme, "100000.00", submit=False)
    services.approve(officer.actor(), a.id)
    with pytest.raises(OverCap) as err:  # approval: the ledger's own check under the programme lock
        services.approve(officer.actor(), b.id)
    assert "¥50,000.00" in err.value.render()
    assert db.session.get(TrialApplication, b.id).status == "submitted"
    with pytest.raises(OverCap):  # submission re-checks the quota on the submission date
        attach_required_materials(draft)
        services.submit(sme.actor(), draft.id)


def test_withdrawn_and_rejected_applications_free_their_quota(ctx, sme, officer, file_application, programme):
    a = file_application(sme, "150000.00")
    services.withdraw(sme.actor(), a.id)
    b = file_application(sme, "150000.00")
    services.reject(officer.actor(), b.id, "Need statement does not match the solution.")
    assert services.quota(programme, sme.organisation_id).used == Decimal("0.00")
    # Neither counts: the whole cap is still available.
    c = file_application(sme, "200000.00")
    services.approve(officer.actor(), c.id)
    assert services.quota(programme, sme.organisation_id).used == Decimal("200000.00")


def test_cancelled_approval_releases_its_reservation_in_the_ledger(ctx, sme, officer, file_application, programme):
    a = file_application(sme, "120000.00")
    services.approve(officer.actor(), a.id)
    assert ledger.balances(programme).reserved == Decimal("120000.00")
    assert ledger.source_outstanding("trial_application", a.id) == Decimal("120000.00")
    with pytest.raises(ValidationFailed):  # a reason is required, and nothing is released without one
        services.cancel(officer.actor(), a.id, "  ")
    assert ledger.balances(programme).reserved == Decimal("120000.00")
    services.cancel(officer.actor(), a.id, "The enterprise closed the workshop.")
    assert db.session.get(TrialApplication, a.id).status == "cancelled"
    assert ledger.balances(programme).reserved == Decimal("0.00")
    assert ledger.source_outstanding("trial_application", a.id) == Decimal("0.00")
    assert ledger.enterprise_committed(programme.id, sme.organisation_id, "trial_voucher") == Decimal("0.00")
    assert ledger.recomputed_balances(programme) == ledger.balances(programme)
    b = file_application(sme, "200000.00")
    services.approve(officer.actor(), b.id)


def test_approval_refused_when_available_budget_is_short_with_the_figures(ctx, sme, make_org, make_user, officer,
                                                                          solution):
    small = build_programme(budget="150000.00")
    a = services.create_application(sme.actor(), token=token(), programme_id=small.id, solution_id=solution.id,
                                    content=content("100000.00"))[0]
    attach_required_materials(a)
    services.submit(sme.actor(), a.id)
    other = make_user("sme", make_org("enterprise"))
    b = services.create_application(other.actor(), token=token(), programme_id=small.id, solution_id=solution.id,
                                    content=content("60000.00"))[0]
    attach_required_materials(b)
    services.submit(other.actor(), b.id)
    services.approve(officer.actor(), a.id)
    with pytest.raises(BudgetExhausted) as err:
        services.approve(officer.actor(), b.id)
    text = err.value.render()
    assert "¥50,000.00" in text and "¥60,000.00" in text and "¥150,000.00" in text
    assert db.session.get(TrialApplication, b.id).status == "submitted"
    assert ledger.balances(small).reserved == Decimal("100000.00")


def test_approve_reserves_with_provider_and_source_and_is_not_repeatable(ctx, sme, officer, file_application,
                                                                         programme, solution):
    a = file_application(sme, "90000.00")
    services.approve(officer.actor(), a.id, "Good fit.")
    assert a.status == "approved" and a.decided_by == officer.id and a.decided_at is not None
    assert ledger.provider_committed(programme.id, solution.provider_id) == Decimal("90000.00")
    with pytest.raises(TransitionNotAllowed):
        services.approve(officer.actor(), a.id)
    assert ledger.balances(programme).reserved == Decimal("90000.00")
    actions = [e.action for e in events_for("trial_application", a.id)]
    assert actions == ["trial_application.create", "trial_application.submit", "trial_application.approve"]
    assert verify_chain().ok


def test_reject_and_return_require_a_reason(ctx, sme, officer, file_application):
    a = file_application(sme)
    with pytest.raises(ValidationFailed) as err:
        services.reject(officer.actor(), a.id, "")
    assert err.value.fields.keys() == {"reason"}
    with pytest.raises(ValidationFailed):
        services.return_for_revision(officer.actor(), a.id, "   ")
    services.return_for_revision(officer.actor(), a.id, "Attach the quotation.")
    assert a.status == "returned" and a.decision_reason == "Attach the quotation."


def test_returned_application_goes_back_to_draft_when_edited_and_can_be_resubmitted(ctx, sme, officer,
                                                                                   file_application):
    a = file_application(sme, "100000.00")
    services.return_for_revision(officer.actor(), a.id, "Lower the amount.")
    services.update_application(sme.actor(), a.id, content("80000.00"))
    assert a.status == "draft" and a.requested_amount == Decimal("80000.00")
    attach_required_materials(a)
    services.submit(sme.actor(), a.id)
    assert a.status == "submitted"
    actions = [e.action for e in events_for("trial_application", a.id)]
    assert actions[-4:] == ["trial_application.return", "trial_application.resume", "trial_application.update",
                            "trial_application.submit"]


def test_each_decision_notifies_the_enterprise_users_with_a_link(ctx, sme, make_user, officer, file_application):
    colleague = make_user("sme", sme.organisation)
    a = file_application(sme)
    services.approve(officer.actor(), a.id)
    for user in (sme, colleague):
        notes = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
        assert len(notes) == 1
        assert notes[0].link == f"/applications/{a.id}"
        assert "approved" in notes[0].message
        with force_locale("zh_Hans_CN"):  # stored as an English template, translated when shown
            shown = gettext(notes[0].message, **notes[0].params)
        assert "已获批准" in shown and a.solution.title in shown and "¥100,000.00" in shown
    # The officers learn of the submission.
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == officer.id)) == 1


def test_solution_must_be_listed_or_recommended(ctx, sme, programme, make_solution):
    for status in ("draft", "submitted", "screening", "rejected", "delisted"):
        with pytest.raises(ValidationFailed) as err:
            services.create_application(sme.actor(), token=token(), programme_id=programme.id,
                                        solution_id=make_solution(status=status).id, content=content())
        assert err.value.fields.keys() == {"solution_id"}
    services.create_application(sme.actor(), token=token(), programme_id=programme.id,
                                solution_id=make_solution(status="recommended").id, content=content())


def test_delisted_solution_cannot_be_approved(ctx, sme, officer, file_application, solution, programme):
    a = file_application(sme)
    solution.status = "delisted"
    with pytest.raises(ValidationFailed):
        services.approve(officer.actor(), a.id)
    assert ledger.balances(programme).reserved == Decimal("0.00")


def test_only_registered_small_and_medium_enterprises_may_apply(ctx, make_org, make_user, programme, solution):
    large = make_user("sme", make_org("enterprise", size_class="large", employees=2000,
                                      annual_revenue=Decimal("500000000.00")))
    with pytest.raises(ValidationFailed) as err:
        services.create_application(large.actor(), token=token(), programme_id=programme.id, solution_id=solution.id,
                                    content=content())
    assert "large" in err.value.render()
    unregistered = make_user("sme")  # an SME user who has not registered an enterprise yet
    with pytest.raises(ValidationFailed) as err:
        services.create_application(unregistered.actor(), token=token(), programme_id=programme.id,
                                    solution_id=solution.id, content=content())
    assert "Register" in err.value.render()


def test_programme_must_fund_trial_vouchers_and_be_open_on_the_submission_date(ctx, sme, solution):
    today = services.local_today()
    no_trials = build_programme(funds_trial_voucher=False)
    with pytest.raises(ValidationFailed) as err:
        services.create_application(sme.actor(), token=token(), programme_id=no_trials.id, solution_id=solution.id,
                                    content=content())
    assert "does not fund" in err.value.render()
    closed = build_programme(opens_on=today - timedelta(days=60), closes_on=today - timedelta(days=1))
    with pytest.raises(ValidationFailed) as err:
        services.create_application(sme.actor(), token=token(), programme_id=closed.id, solution_id=solution.id,
                                    content=content())
    assert (today - timedelta(days=1)).isoformat() in err.value.render()
    # A draft saved inside the window cannot be submitted after it closes.
    closing = build_programme(opens_on=today - timedelta(days=10), closes_on=today)
    app, _ = services.create_application(sme.actor(), token=token(), programme_id=closing.id,
                                         solution_id=solution.id, content=content())
    with pytest.raises(ValidationFailed) as err:
        attach_required_materials(app)
        services.submit(sme.actor(), app.id, today=today + timedelta(days=1))
    assert err.value.fields.keys() == {"programme_id"}


def test_dates_before_the_submission_date_are_refused(ctx, sme, programme, solution):
    yesterday = services.local_today() - timedelta(days=1)
    with pytest.raises(ValidationFailed) as err:
        services.create_application(sme.actor(), token=token(), programme_id=programme.id, solution_id=solution.id,
                                    content=content(contract_date=yesterday, trial_start_date=yesterday))
    assert set(err.value.fields) == {"contract_date", "trial_start_date"}
    assert "not eligible" in err.value.field_messages()["contract_date"]
    # A draft whose dates were fine when saved is refused at a later submission date.
    app, _ = services.create_application(sme.actor(), token=token(), programme_id=programme.id,
                                         solution_id=solution.id, content=content())
    with pytest.raises(ValidationFailed) as err:
        attach_required_materials(app)
        services.submit(sme.actor(), app.id, today=app.trial_start_date + timedelta(days=1))
    assert "trial_start_date" in err.value.fields and app.status == "draft"


def test_baselines_are_stored_exactly_and_at_least_one_is_required(ctx, sme, programme, solution):
    with pytest.raises(ValidationFailed):
        services.create_application(sme.actor(), token=token(), programme_id=programme.id, solution_id=solution.id,
                                    content=content(baselines={}))
    with pytest.raises(ValidationFailed):
        services.create_application(sme.actor(), token=token(), programme_id=programme.id, solution_id=solution.id,
                                    content=content(baselines={"defect_rate": Decimal("-1")}))
    app, _ = services.create_application(
        sme.actor(), token=token(), programme_id=programme.id, solution_id=solution.id,
        content=content(baselines={"labour_per_unit": Decimal("0.07"), "energy_per_unit": Decimal("99999999.99"),
                                   "order_lead_time": Decimal("0")}))
    db.session.expire_all()
    stored = db.session.get(TrialApplication, app.id).baselines
    assert stored == {"production_efficiency": None, "labour_per_unit": Decimal("0.07"), "defect_rate": None,
                      "order_lead_time": Decimal("0.00"), "energy_per_unit": Decimal("99999999.99")}


def test_same_token_twice_creates_one_application(ctx, sme, programme, solution):
    tok = token()
    first, created1 = services.create_application(sme.actor(), token=tok, programme_id=programme.id,
                                                  solution_id=solution.id, content=content())
    second, created2 = services.create_application(sme.actor(), token=tok, programme_id=programme.id,
                                                   solution_id=solution.id, content=content())
    assert created1 and not created2 and first.id == second.id
    assert _count_apps() == 1
    # Submitting twice is one submission.
    attach_required_materials(first)
    services.submit(sme.actor(), first.id)
    services.submit(sme.actor(), first.id)
    assert [e.action for e in events_for("trial_application", first.id)].count("trial_application.submit") == 1


def test_another_enterprise_cannot_reuse_a_token_or_touch_the_application(ctx, sme, make_org, make_user, programme,
                                                                          solution):
    tok = token()
    app, _ = services.create_application(sme.actor(), token=tok, programme_id=programme.id, solution_id=solution.id,
                                         content=content())
    stranger = make_user("sme", make_org("enterprise"))
    with pytest.raises(Forbidden):
        services.create_application(stranger.actor(), token=tok, programme_id=programme.id,
                                    solution_id=solution.id, content=content())
    for call in (lambda: services.get_application(stranger.actor(), app.id),
                 lambda: services.update_application(stranger.actor(), app.id, content()),
                 lambda: services.submit(stranger.actor(), app.id),
                 lambda: services.withdraw(stranger.actor(), app.id)):
        with pytest.raises(Forbidden):
            call()
    assert app.status == "draft"


def test_provider_and_officer_cannot_file_or_edit_and_sme_cannot_decide(ctx, sme, officer, make_user, provider_org,
                                                                         programme, solution, file_application):
    provider = make_user("provider", provider_org)
    with pytest.raises(Forbidden):
        services.create_application(provider.actor(), token=token(), programme_id=programme.id,
                                    solution_id=solution.id, content=content())
    a = file_application(sme, submit=False)
    for actor in (provider.actor(), officer.actor()):
        with pytest.raises(Forbidden):
            services.update_application(actor, a.id, content("1.00"))
        with pytest.raises(Forbidden):
            services.submit(actor, a.id)
    attach_required_materials(a)
    services.submit(sme.actor(), a.id)
    for decide in (services.approve, services.reject, services.return_for_revision):
        with pytest.raises(Forbidden):
            decide(sme.actor(), a.id, "x")
    assert a.status == "submitted" and a.requested_amount == Decimal("100000.00")


def test_machine_declares_the_later_states_for_the_trials_module():
    for state in ("trial_running", "trial_completed", "evaluated", "closed"):
        assert state in services.MACHINE.states
    assert services.MACHINE.available("approved", "officer") == ["cancel"]
    assert set(services.MACHINE.available("submitted", "sme")) == {"withdraw"}
