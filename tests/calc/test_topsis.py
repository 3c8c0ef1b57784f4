"""Entropy-weight TOPSIS, checked against a worked example derived by hand below."""

from decimal import Decimal
from math import log, sqrt

import pytest

from voucher.calc import CalcInputError, Criterion, entropy_topsis

CRITERIA = [
    Criterion("mean_score", benefit=True),
    Criterion("mean_improvement", benefit=True),
    Criterion("adoption_rate", benefit=True),
    Criterion("cost_per_trial", benefit=False),
]
ALTERNATIVES = ["A", "B", "C"]
#            mean score  mean improvement %  adoption %  cost per trial (thousand yuan)
MATRIX = [
    [Decimal(90), Decimal(30), Decimal(60), Decimal(180)],  # A
    [Decimal(70), Decimal(10), Decimal(90), Decimal(100)],  # B
    [Decimal(85), Decimal(20), Decimal(40), Decimal(130)],  # C
]


def hand_derivation():
    """The worked example, step by step, without the module under test."""
    # Step 1, min-max normalisation y (benefit: (x − min)/(max − min); cost: (max − x)/(max − min)):
    #   mean score  70..90:  A (90−70)/20 = 1,    B 0,  C (85−70)/20 = 0.75
    #   improvement 10..30:  A 1,                 B 0,  C (20−10)/20 = 0.5
    #   adoption    40..90:  A (60−40)/50 = 0.4,  B 1,  C 0
    #   cost      100..180:  A 0,  B (180−100)/80 = 1,  C (180−130)/80 = 0.625
    # Step 2, p = y / column sum (sums 1.75, 1.5, 1.4, 1.625):
    p = [
        (4 / 7, 0, 3 / 7),
        (2 / 3, 0, 1 / 3),
        (2 / 7, 5 / 7, 0),
        (0, 8 / 13, 5 / 13),
    ]
    # e_j = −(1/ln 3) Σ p ln p, skipping p = 0:
    #   e = 0.621610, 0.579380, 0.544568, 0.606473
    e = [-sum(q * log(q) for q in col if q > 0) / log(3) for col in p]
    # d = 1 − e = 0.378390, 0.420620, 0.455432, 0.393527; Σd = 1.647969
    d = [1 - x for x in e]
    # w = d / Σd = 0.229610, 0.255235, 0.276359, 0.238795
    w = [x / sum(d) for x in d]
    # Step 3, vector norms: sqrt(90²+70²+85²) = sqrt(20225), sqrt(30²+10²+20²) = sqrt(1400),
    #   sqrt(60²+90²+40²) = sqrt(13300), sqrt(180²+100²+130²) = sqrt(59300)
    norms = [sqrt(20225), sqrt(1400), sqrt(13300), sqrt(59300)]
    x = [[90, 30, 60, 180], [70, 10, 90, 100], [85, 20, 40, 130]]
    v = [[w[j] * x[i][j] / norms[j] for j in range(4)] for i in range(3)]
    #   v_A = 0.145308, 0.204644, 0.143780, 0.176511
    #   v_B = 0.113017, 0.068215, 0.215671, 0.098061
    #   v_C = 0.137235, 0.136429, 0.095854, 0.127480
    # ideal best: A, A, B (benefit maxima), B (cost minimum); ideal worst: B, B, C, A
    best = [v[0][0], v[0][1], v[1][2], v[1][3]]
    worst = [v[1][0], v[1][1], v[2][2], v[0][3]]
    closeness = []
    for i in range(3):
        d_plus = sqrt(sum((v[i][j] - best[j]) ** 2 for j in range(4)))
        d_minus = sqrt(sum((v[i][j] - worst[j]) ** 2 for j in range(4)))
        closeness.append(d_minus / (d_plus + d_minus))
    #   A: D+ 0.106407, D− 0.148164, C 0.582014
    #   B: D+ 0.140198, D− 0.143214, C 0.505321
    #   C: D+ 0.141209, D− 0.087428, C 0.382389
    return w, closeness


EXPECTED_WEIGHTS = {"mean_score": 0.2296, "mean_improvement": 0.2552, "adoption_rate": 0.2764, "cost_per_trial": 0.2388}
EXPECTED_CLOSENESS = {"A": 0.5820, "B": 0.5053, "C": 0.3824}


def test_hand_derivation_matches_the_recorded_figures():
    w, closeness = hand_derivation()
    assert [round(x, 4) for x in w] == list(EXPECTED_WEIGHTS.values())
    assert [round(x, 4) for x in closeness] == list(EXPECTED_CLOSENESS.values())


def test_worked_example():
    result = entropy_topsis(ALTERNATIVES, MATRIX, CRITERIA)
    assert {k: round(v, 4) for k, v in result.weights.items()} == EXPECTED_WEIGHTS
    assert {k: round(v, 4) for k, v in result.closeness.items()} == EXPECTED_CLOSENESS
    assert result.ranking == ["A", "B", "C"]
    assert sum(result.weights.values()) == pytest.approx(1.0)
    assert [s.code for s in result.working] == ["topsis.weight"] * 4 + ["topsis.closeness"] * 3 + ["topsis.rank"] * 3
    assert result.working[-3].render() == "Rank 1: A (closeness 0.5820)"


def test_floats_accepted_and_order_of_rows_irrelevant():
    floats = [[float(x) for x in row] for row in MATRIX]
    result = entropy_topsis(["C", "B", "A"], floats[::-1], CRITERIA)
    assert result.ranking == ["A", "B", "C"]
    assert round(result.closeness["B"], 4) == EXPECTED_CLOSENESS["B"]


def test_constant_column_carries_no_weight():
    matrix = [[80, 1], [80, 3], [80, 2]]
    result = entropy_topsis(["X", "Y", "Z"], matrix, [Criterion("a", True), Criterion("b", True)])
    assert result.weights["a"] == pytest.approx(0.0, abs=1e-12)
    assert result.weights["b"] == pytest.approx(1.0)
    assert result.ranking == ["Y", "Z", "X"]
    assert result.closeness["Y"] == pytest.approx(1.0) and result.closeness["X"] == pytest.approx(0.0)


def test_all_constant_gives_equal_weights_and_name_order():
    result = entropy_topsis(["b", "a"], [[5, 7], [5, 7]], [Criterion("x", True), Criterion("y", False)])
    assert result.weights == {"x": pytest.approx(0.5), "y": pytest.approx(0.5)}
    assert result.closeness == {"b": 0.0, "a": 0.0}
    assert result.ranking == ["a", "b"]


def test_cost_criterion_prefers_the_smaller_value():
    result = entropy_topsis(["cheap", "dear"], [[100], [200]], [Criterion("cost", False)])
    assert result.ranking == ["cheap", "dear"]
    assert result.closeness["cheap"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("alternatives", "matrix", "field"),
    [
        (["only"], [[1, 2, 3, 4]], "alternatives"),
        (["A", "A"], [[1, 2, 3, 4], [1, 2, 3, 4]], "alternatives"),
        (["A", "B"], [[1, 2, 3, 4]], "matrix"),
        (["A", "B"], [[1, 2, 3, 4], [1, 2, 3]], "matrix.1"),
        (["A", "B"], [[1, 2, 3, 4], [1, 2, float("nan"), 4]], "matrix.1.2"),
    ],
)
def test_invalid_input(alternatives, matrix, field):
    with pytest.raises(CalcInputError) as exc:
        entropy_topsis(alternatives, matrix, CRITERIA)
    assert exc.value.field == field
