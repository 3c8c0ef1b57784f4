"""The evaluator sees the server's weighted total before the irreversible submit (issue 16 §5)."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.trials.conftest import AFTERS
from voucher.audit.models import AuditEvent
from voucher.calc import overall_score
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.trials import services
from voucher.trials.models import Evaluation, EvaluatorAssignment, Trial

D = Decimal
SCORES = {"effect": "91.5", "quality": "62", "service": "77.3", "cost_effectiveness": "48", "replicability": "85.1"}


def _form(action=None, **overrides):
    data = {f"after_{c}": str(v) for c, v in AFTERS.items()}
    data.update({f"score_{c}": v for c, v in SCORES.items()})
    data.update(comments="Good results.", recommendation="continue")
    if action:
        data["action"] = action
    data.update(overrides)
    return data


def _shown_total(page: str) -> str:
    return re.search(r'data-figure="preview_total" data-value="([0-9.]+)"', page).group(1)


def _counts():
    return (db.session.query(Evaluation).count(), db.session.query(AuditEvent).count())


@pytest.mark.parametrize("lang,words", [("en", "Weighted total computed by the system"), ("zh-CN", "系统计算的加权总分")])
def test_preview_shows_the_server_total_saves_nothing_and_equals_what_submit_stores(client, login, flow, ctx, lang, words):
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    login(ev)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    before = _counts()
    r = client.post(f"/trials/{trial.id}/evaluation", data=_form("preview"))
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert words in page
    shown = _shown_total(page)
    expected = overall_score({c: D(v) for c, v in SCORES.items()}, services.evaluation_params(trial.programme)).overall
    assert D(shown) == expected
    assert f'name="previewed_total" value="{shown}"' in page
    working = re.search(r'<ol class="small working">(.*?)</ol>', page, re.S).group(1)
    assert working.count("<li>") == 6
    assert ("Effect: score 91.5" if lang == "en" else "得分 91.5") in working
    if lang != "en":
        assert not re.search(r"[A-Za-z]{3,}", working), working
    # Nothing saved: no evaluation, no audit event, the assignment and trial unchanged.
    db.session.expire_all()
    assert _counts() == before
    assert db.session.query(EvaluatorAssignment).filter_by(trial_id=trial.id).one().status == "cleared"
    assert db.session.get(Trial, trial.id).status == "completed"
    # Confirm: the stored overall is the previewed total.
    r = client.post(f"/trials/{trial.id}/evaluation", data=_form("submit", previewed_total=shown))
    assert r.status_code == 303
    db.session.expire_all()
    stored = db.session.query(Evaluation).filter_by(trial_id=trial.id).one()
    assert stored.overall == D(shown)
    assert db.session.get(Trial, trial.id).score == D(shown)


def test_the_form_asks_for_the_preview_before_any_submit_button(client, login, flow, ctx):
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    login(ev)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/trials/{trial.id}/evaluation").get_data(as_text=True)
    assert 'value="preview"' in page and 'value="submit"' not in page
    assert "Check the weighted total" in page


def test_scores_changed_after_the_preview_show_the_new_total_instead_of_submitting(client, login, flow, ctx):
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    login(ev)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    shown = _shown_total(client.post(f"/trials/{trial.id}/evaluation", data=_form("preview")).get_data(as_text=True))
    r = client.post(f"/trials/{trial.id}/evaluation",
                    data=_form("submit", previewed_total=shown, score_effect="20"))
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "nothing was submitted" in page
    assert D(_shown_total(page)) < D(shown)
    assert db.session.query(Evaluation).count() == 0


def test_preview_reports_every_bad_field_at_once_and_saves_nothing(client, login, flow, ctx):
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    login(ev)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = client.post(f"/trials/{trial.id}/evaluation", data=_form("preview", score_effect="101", score_service="x"))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'id="score_effect-err"' in page and 'id="score_service-err"' in page
    assert 'data-figure="preview_total"' not in page
    assert db.session.query(Evaluation).count() == 0


def test_preview_service_uses_the_submit_calculation_and_its_checks(ctx, flow):
    trial = flow.completed()
    ev = flow.assign(trial, "e1")[0]
    data = services.EvaluationInput(afters=dict(AFTERS), scores={c: D(v) for c, v in SCORES.items()},
                                    comments="Fine.", recommendation="continue")
    preview = services.preview_evaluation(ev.actor(), trial.id, data)
    assert db.session.query(Evaluation).count() == 0
    submitted = services.submit_evaluation(ev.actor(), trial.id, data)
    assert submitted.evaluation.overall == preview.overall
    # A correction previews with the stored weights and needs its reason, as the submit does.
    with pytest.raises(ValidationFailed) as err:
        services.preview_evaluation(ev.actor(), trial.id, data)
    assert "correction_reason" in err.value.fields or err.value.field == "correction_reason"
