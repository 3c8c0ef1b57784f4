"""The trial pages for each role: access, lists, panels, the detail page in every state."""
from __future__ import annotations

from tests.trials.conftest import evaluation_input
from voucher.i18n import untranslated
from voucher.trials import services


def test_trial_page_access_by_role_and_organisation(client, login, flow, ctx, make_org, make_user):
    trial = flow.approved()
    allowed = [flow.officer, make_user("finance"), make_user("auditor"), flow.provider, flow.sme_of(trial)]
    refused = [make_user("sme", make_org("enterprise")), make_user("provider", make_org("provider")),
               make_user("evaluator"), make_user("admin")]
    for user in allowed:
        login(user)
        assert client.get(f"/trials/{trial.id}").status_code == 200, user.role
        client.post("/logout")
    for user in refused:
        login(user)
        assert client.get(f"/trials/{trial.id}").status_code == 403, user.role
        client.post("/logout")


def test_lists_show_only_the_own_organisations_trials(client, login, flow, ctx, make_org, make_user):
    mine = flow.approved()
    other_provider = make_org("provider")
    theirs = flow.approved(solution=flow.new_solution("Other provider's", provider_org=other_provider))
    login(flow.provider)
    page = client.get("/trials/mine").get_data(as_text=True)
    assert f"/trials/{mine.id}\"" in page and f"/trials/{theirs.id}\"" not in page
    client.post("/logout")
    login(flow.sme_of(theirs))
    page = client.get("/trials/mine").get_data(as_text=True)
    assert f"/trials/{theirs.id}\"" in page and f"/trials/{mine.id}\"" not in page
    client.post("/logout")
    login(flow.officer)
    page = client.get(f"/trials/?provider_id={other_provider.id}").get_data(as_text=True)
    assert f"/trials/{theirs.id}\"" in page and f"/trials/{mine.id}\"" not in page
    assert client.get("/trials/mine").status_code == 403


def test_bureau_list_filters_by_status_and_paginates(client, login, flow, ctx, app):
    waiting = [flow.approved() for _ in range(3)]
    started = flow.started()
    login(flow.officer)
    page = client.get("/trials/?status=running").get_data(as_text=True)
    assert f"/trials/{started.id}\"" in page
    assert not any(f"/trials/{t.id}\"" in page for t in waiting)
    old = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 2
    try:
        page = client.get("/trials/").get_data(as_text=True)
        assert "page=2" in page
    finally:
        app.config["PAGE_SIZE"] = old


def test_detail_page_renders_in_every_state_for_every_party(client, login, flow, ctx):
    trial = flow.completed()
    ev = flow.assign(trial, "a")[0]
    parties = [flow.officer, flow.provider, flow.sme_of(trial)]
    for user in parties + [ev]:
        login(user)
        assert client.get(f"/trials/{trial.id}").status_code == 200
        client.post("/logout")
    services.submit_evaluation(ev.actor(), trial.id, evaluation_input("75"))
    for user in parties + [ev]:
        login(user)
        r = client.get(f"/trials/{trial.id}")
        assert r.status_code == 200 and "75.0" in r.get_data(as_text=True)
        client.post("/logout")
    services.record_adoption(flow.sme_of(trial).actor(), trial.id, True, "Keeps defects down")
    login(flow.provider)
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "Keeps defects down" in page


def test_the_provider_sees_the_report_form_only_for_the_next_milestone(client, login, flow, ctx):
    trial = flow.approved()
    login(flow.provider)
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert f"/trials/{trial.id}/milestones/kickoff/report" in page
    assert f"/trials/{trial.id}/milestones/deployed/report" not in page
    client.post("/logout")
    login(flow.sme_of(trial))
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "/report" not in page and "/confirm" not in page
    flow.report(trial, "kickoff")
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert f"/trials/{trial.id}/milestones/kickoff/confirm" in page and "data-confirm" in page


def test_start_page_panels_for_each_role(client, login, flow, ctx):
    trial = flow.completed()
    reported = flow.approved()
    flow.report(reported, "kickoff")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.officer)
    page = client.get("/").get_data(as_text=True)
    assert "Completed trials needing evaluators" in page and "1 completed trial(s) need evaluators." in page
    client.post("/logout")
    login(flow.provider)
    page = client.get("/").get_data(as_text=True)
    assert "Trials of my solutions" in page and "Milestones to report" in page
    client.post("/logout")
    login(flow.sme_of(reported))
    page = client.get("/").get_data(as_text=True)
    assert "The provider reported 1 milestone(s)" in page
    client.post("/logout")
    ev = flow.assign(trial, "a", declare=False)[0]
    login(ev)
    page = client.get("/").get_data(as_text=True)
    assert "1 assigned evaluation(s) are waiting for you." in page
    page = client.get("/trials/evaluations").get_data(as_text=True)
    assert f"/trials/{trial.id}/declaration" in page


def test_navigation_lists_the_trial_pages_per_role(client, login, flow, ctx):
    login(flow.officer)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/trials/"' in page and 'href="/trials/candidates"' in page and 'href="/trials/ranking"' in page
    client.post("/logout")
    login(flow.provider)
    assert 'href="/trials/mine"' in client.get("/").get_data(as_text=True)


def test_pages_render_in_chinese_by_default(client, login, flow, ctx):
    trial = flow.completed()
    login(flow.officer)
    page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
    assert "里程碑" in page and "指派评价专家" in page
    assert "试用" in client.get("/trials/").get_data(as_text=True)


def test_every_trials_string_is_translated():
    missing = {m: where for m, where in untranslated().items()
               if any("trials" in w for w in where)}
    assert not missing, list(missing)[:10]
