"""Improvement % per indicator direction, zero or missing baselines, through the form and its page."""
from __future__ import annotations

from decimal import Decimal

from tests.trials.conftest import evaluation_input
from voucher.calc import indicator_improvements
from voucher.trials import services

D = Decimal


def test_improvement_for_higher_is_better_and_lower_is_better_indicators():
    results = {r.code: r for r in indicator_improvements(
        {"production_efficiency": D("40"), "defect_rate": D("4"), "order_lead_time": D("10")},
        {"production_efficiency": D("50"), "defect_rate": D("3"), "order_lead_time": D("12")})}
    assert results["production_efficiency"].improvement == D("25.00")  # 40 → 50 units/hour: +25%
    assert results["defect_rate"].improvement == D("25.00")  # 4% → 3% defects: lower is better, +25%
    assert results["order_lead_time"].improvement == D("-20.00")  # 10 → 12 days: worse, −20%


def test_evaluation_stores_the_mean_of_the_computable_improvements(ctx, flow):
    trial = flow.completed(baselines={"production_efficiency": D("40.00"), "defect_rate": D("4.00"),
                                      "energy_per_unit": D("0.00")})
    ev = flow.assign(trial, "a")[0]
    afters = {"production_efficiency": D("50"), "labour_per_unit": D("1.2"), "defect_rate": D("2"),
              "order_lead_time": None, "energy_per_unit": D("3")}
    submitted = services.submit_evaluation(ev.actor(), trial.id, evaluation_input(afters=afters))
    # Computable: +25% and +50%; zero and missing baselines are left out (no division by zero).
    assert submitted.evaluation.mean_improvement == D("37.50")
    assert trial.mean_improvement == D("37.50")
    by_code = {r.code: r for r in services.improvements_for(trial, submitted.evaluation.afters)}
    assert by_code["energy_per_unit"].improvement is None and by_code["labour_per_unit"].improvement is None


def test_zero_or_missing_baseline_is_shown_with_its_reason_on_the_form_page(client, login, flow, ctx):
    trial = flow.completed(baselines={"production_efficiency": D("40.00"), "defect_rate": D("4.00"),
                                      "energy_per_unit": D("0.00")})
    ev = flow.assign(trial, "a")[0]
    afters = {"production_efficiency": D("50"), "labour_per_unit": D("1.2"), "defect_rate": D("3"),
              "order_lead_time": None, "energy_per_unit": D("3")}
    e = services.submit_evaluation(ev.actor(), trial.id, evaluation_input(afters=afters)).evaluation
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(ev)
    page = client.get(f"/trials/{trial.id}/evaluations/{e.id}").get_data(as_text=True)
    assert "The baseline is zero: the improvement cannot be expressed as a percentage." in page
    assert "No baseline in the application: the improvement is not computed." in page
    assert "25.00%" in page
    zh = client.get(f"/trials/{trial.id}/evaluations/{e.id}", headers={"Accept-Language": "zh-CN"})
    assert "基线为零" in zh.get_data(as_text=True)


def test_a_post_trial_value_is_required_where_the_application_has_a_baseline(ctx, flow):
    import pytest

    from voucher.errors import ValidationFailed

    trial = flow.completed()
    ev = flow.assign(trial, "a")[0]
    afters = {"production_efficiency": None}
    with pytest.raises(ValidationFailed) as err:
        services.submit_evaluation(ev.actor(), trial.id, evaluation_input(afters=afters))
    assert "after_production_efficiency" in err.value.fields
