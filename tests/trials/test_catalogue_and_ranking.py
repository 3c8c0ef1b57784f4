"""The recommendation catalogue's figures and eligibility through the real data path, the
officer's promotion page, and the entropy-weight TOPSIS ranking."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.trials.conftest import AFTERS
from voucher.calc import Criterion, entropy_topsis
from voucher.catalogue import queries as catalogue_queries
from voucher.catalogue import services as catalogue
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.trials import recommendation, services

D = Decimal


def _adopt(flow, trial, adopted=True):
    services.record_adoption(flow.sme_of(trial).actor(), trial.id, adopted, "Decision")


def test_eligibility_needs_the_minimum_number_of_passed_evaluations(ctx, flow):
    two = flow.new_solution("Two passed")
    for _ in range(2):
        flow.evaluated("90", solution=two)
    check = catalogue.recommendation_check(two.id)
    assert (check.eligible, check.count, check.mean) == (False, 2, D("90.0"))
    with pytest.raises(ValidationFailed):
        catalogue.promote_to_recommended(flow.officer.actor(), two.id)
    flow.evaluated("90", solution=two)
    assert catalogue.recommendation_check(two.id).eligible
    catalogue.promote_to_recommended(flow.officer.actor(), two.id)
    assert two.status == "recommended"


def test_eligibility_boundary_on_the_mean_score_84_9_vs_85_0(ctx, flow):
    low = flow.new_solution("Mean 84.9")
    high = flow.new_solution("Mean 85.0")
    for score in ("84.9", "84.9", "84.9"):
        flow.evaluated(score, solution=low)
    for score in ("80", "85", "90"):
        flow.evaluated(score, solution=high)
    flow.evaluated("40", solution=high)  # a failed trial does not count towards the rule
    assert sorted(catalogue_queries.passed_evaluation_scores(high.id)) == [D("80.00"), D("85.00"), D("90.00")]
    low_check, high_check = catalogue.recommendation_check(low.id), catalogue.recommendation_check(high.id)
    assert (low_check.eligible, low_check.mean) == (False, D("84.9"))
    assert (high_check.eligible, high_check.mean) == (True, D("85.0"))


def test_solution_stats_trials_run_mean_score_and_adoption_rate(ctx, flow):
    s = flow.new_solution("Stats")
    t1 = flow.evaluated("80", solution=s)
    t2 = flow.evaluated("55", solution=s)
    t3 = flow.evaluated("90", solution=s)
    flow.started(solution=s)  # running: counts as run, not evaluated
    flow.approved(solution=s)  # not started: not counted
    _adopt(flow, t1, True)
    _adopt(flow, t2, False)
    _adopt(flow, t3, True)
    other = flow.new_solution("No trials")
    stats = catalogue_queries.solution_stats([s.id, other.id])
    assert stats[s.id] == catalogue_queries.Stats(4, D("75.0"), D("66.7"))  # (80+55+90)/3; 2 of 3 adopted
    assert stats[other.id] == catalogue_queries.Stats()


def test_public_catalogue_shows_the_trial_figures(client, flow, ctx):
    s = flow.new_solution("Shown publicly")
    t = flow.evaluated("88", solution=s)
    _adopt(flow, t, True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/catalogue/{s.id}").get_data(as_text=True)
    assert "No trials yet" not in page and "88.0" in page and "100.0%" in page


def test_officer_promotes_an_eligible_solution_from_the_candidates_page(client, login, flow, ctx):
    eligible = flow.new_solution("Eligible one")
    not_yet = flow.new_solution("Not yet one")
    for _ in range(3):
        flow.evaluated("92", solution=eligible)
    flow.evaluated("92", solution=not_yet)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.officer)
    page = client.get("/trials/candidates").get_data(as_text=True)
    assert "Eligible one" in page and "Not yet one" in page
    assert page.count('/promote"') == 1 and f"/trials/candidates/{eligible.id}/promote" in page
    page = client.get("/trials/candidates?eligible=1").get_data(as_text=True)
    assert "Not yet one" not in page
    assert client.post(f"/trials/candidates/{not_yet.id}/promote").status_code == 422
    r = client.post(f"/trials/candidates/{eligible.id}/promote")
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(type(eligible), eligible.id).status == "recommended"


def test_candidates_page_is_for_the_bureau_only(client, login, flow, ctx):
    login(flow.provider)
    assert client.get("/trials/candidates").status_code == 403
    assert client.get("/trials/ranking").status_code == 403


# --- ranking ----------------------------------------------------------------------------------

# Hand-checked example (entropy weights, then TOPSIS), 3 solutions × 4 criteria:
#   X: mean score 90, mean improvement 19%, adoption 100%, cost 150,000
#   Y: mean score 75, mean improvement 10%, adoption   0%, cost 100,000
#   Z: mean score 60, mean improvement  0%, adoption 100%, cost  50,000
# Min-max normalised score column (1, .5, 0) → p (2/3, 1/3, 0) → e = 0.6365/ln 3 = 0.5794; the cost
# column is the same reversed; improvement p (.6552, .3448, 0) → e 0.5864; adoption p (.5, 0, .5) →
# e = ln 2 / ln 3 = 0.6309.  Weights (1 − e) / Σ(1 − e) = 0.2590, 0.2547, 0.2273, 0.2590.
HAND_WEIGHTS = {"mean_score": "0.2590", "mean_improvement": "0.2547", "adoption_rate": "0.2273",
                "cost_per_trial": "0.2590"}
HAND_CLOSENESS = {"X": "0.6715", "Y": "0.4042", "Z": "0.4765"}
Y_AFTERS = {"production_efficiency": D("44"), "labour_per_unit": D("1.8"), "defect_rate": D("3.6"),
            "order_lead_time": D("9"), "energy_per_unit": D("4.5")}
Z_AFTERS = {"production_efficiency": D("40"), "labour_per_unit": D("2"), "defect_rate": D("4"),
            "order_lead_time": D("10"), "energy_per_unit": D("5")}


def test_calc_matches_the_hand_example():
    result = entropy_topsis(["X", "Y", "Z"], [[90, 19, 100, 150000], [75, 10, 0, 100000], [60, 0, 100, 50000]],
                            [Criterion("mean_score", True), Criterion("mean_improvement", True),
                             Criterion("adoption_rate", True), Criterion("cost_per_trial", False)])
    assert {k: f"{v:.4f}" for k, v in result.weights.items()} == HAND_WEIGHTS
    assert {k: f"{v:.4f}" for k, v in result.closeness.items()} == HAND_CLOSENESS
    assert result.ranking == ["X", "Z", "Y"]


def _hand_example(flow):
    x, y, z = flow.new_solution("Sol X"), flow.new_solution("Sol Y"), flow.new_solution("Sol Z")
    for sol, amount, score, afters, adopted in ((x, "150000.00", "90", AFTERS, True),
                                                (y, "100000.00", "75", Y_AFTERS, False),
                                                (z, "50000.00", "60", Z_AFTERS, True)):
        trial = flow.completed(amount=amount, solution=sol)
        flow.evaluate(trial, score, afters=afters)
        _adopt(flow, trial, adopted)
    return x, y, z


def test_ranking_figures_come_from_the_trials(ctx, flow):
    x, y, z = _hand_example(flow)
    ranking = recommendation.ranking()
    rows = {r.solution.id: r for r in ranking.rows}
    assert rows[x.id].values == {"mean_score": D("90.0"), "mean_improvement": D("19.00"),
                                 "adoption_rate": D("100.0"), "cost_per_trial": D("150000.00")}
    assert rows[y.id].values["mean_improvement"] == D("10.00") and rows[y.id].values["adoption_rate"] == D("0.0")
    assert [r.solution.id for r in ranking.rows] == [x.id, z.id, y.id]
    assert {k: f"{v:.4f}" for k, v in ranking.weights.items()} == HAND_WEIGHTS
    assert f"{rows[x.id].closeness:.4f}" == HAND_CLOSENESS["X"]
    assert f"{rows[y.id].closeness:.4f}" == HAND_CLOSENESS["Y"]
    assert f"{rows[z.id].closeness:.4f}" == HAND_CLOSENESS["Z"]


def test_ranking_page_shows_the_weights_and_closeness_to_four_decimals(client, login, flow, ctx):
    x, y, z = _hand_example(flow)
    login(flow.officer)
    page = client.get("/trials/ranking").get_data(as_text=True)
    for code, weight in HAND_WEIGHTS.items():
        assert f'data-weight="{code}">{weight}<' in page
    for sol, name in ((x, "X"), (y, "Y"), (z, "Z")):
        assert f'data-closeness="{sol.id}">{HAND_CLOSENESS[name]}<' in page
    assert page.index("Sol X") < page.index("Sol Z") < page.index("Sol Y")


def test_ranking_needs_at_least_two_solutions(client, login, flow, ctx):
    flow.evaluated("80", solution=flow.new_solution("Alone"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(flow.officer)
    page = client.get("/trials/ranking").get_data(as_text=True)
    assert "At least two solutions with an evaluated trial are needed" in page and "there are 1" in page
    assert recommendation.ranking().rows == []
