"""Entropy-weight TOPSIS ranking of alternatives (e.g. solutions) over several criteria.

Method, for n >= 2 alternatives (rows i) and m criteria (columns j) of the matrix x_ij:

1. Min-max normalise each column: benefit y_ij = (x_ij − min_j) / (max_j − min_j),
   cost y_ij = (max_j − x_ij) / (max_j − min_j); a constant column gives y_ij = 1 for all i.
2. Entropy weights: p_ij = y_ij / Σ_i y_ij; e_j = −(1 / ln n) Σ_i p_ij ln p_ij (with 0·ln 0 = 0);
   divergence d_j = 1 − e_j; weight w_j = d_j / Σ_j d_j (all d_j zero → equal weights 1/m).
3. TOPSIS on the original matrix: vector-normalise r_ij = x_ij / sqrt(Σ_i x_ij²) (a zero column gives 0);
   v_ij = w_j r_ij; ideal best v+_j = max_i v_ij for benefit, min for cost; ideal worst the opposite;
   D+_i = sqrt(Σ_j (v_ij − v+_j)²), D−_i = sqrt(Σ_j (v_ij − v−_j)²);
   closeness C_i = D−_i / (D+_i + D−_i) (0 when both are 0).
4. Rank by C descending; ties broken by alternative name.

Floats are used: these are scores for ranking, not money.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .common import CalcInputError, Step, step


@dataclass(frozen=True)
class Criterion:
    code: str
    benefit: bool  # True: larger is better; False: a cost, smaller is better


@dataclass(frozen=True)
class TopsisResult:
    weights: dict[str, float]
    entropy: dict[str, float]
    closeness: dict[str, float]
    d_plus: dict[str, float]
    d_minus: dict[str, float]
    ranking: list[str]
    working: tuple[Step, ...]


def _f4(x: float) -> str:
    return f"{x:.4f}"


def _validate(
    alternatives: Sequence[str], matrix: Sequence[Sequence[Decimal | float]], criteria: Sequence[Criterion]
) -> list[list[float]]:
    if len(alternatives) < 2:
        raise CalcInputError("alternatives", "at least two alternatives are required", limit=2)
    if len(set(alternatives)) != len(alternatives):
        raise CalcInputError("alternatives", "alternative names must be unique")
    if len(criteria) == 0:
        raise CalcInputError("criteria", "at least one criterion is required", limit=1)
    if len({c.code for c in criteria}) != len(criteria):
        raise CalcInputError("criteria", "criterion codes must be unique")
    if len(matrix) != len(alternatives):
        raise CalcInputError("matrix", "needs one row per alternative", limit=len(alternatives))
    rows = []
    for i, row in enumerate(matrix):
        if len(row) != len(criteria):
            raise CalcInputError(f"matrix.{i}", "needs one value per criterion", limit=len(criteria))
        values = []
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
                raise CalcInputError(f"matrix.{i}.{j}", "must be a number")
            number = float(value)
            if not math.isfinite(number):
                raise CalcInputError(f"matrix.{i}.{j}", "must be a finite number")
            values.append(number)
        rows.append(values)
    return rows


def entropy_weights(columns: Sequence[Sequence[float]], criteria: Sequence[Criterion]) -> tuple[list[float], list[float]]:
    """Steps 1–2: entropy e_j of each min-max-normalised column and the weights w_j = (1 − e_j) / Σ(1 − e)."""
    n = len(columns[0])
    entropies = []
    for column, criterion in zip(columns, criteria):
        low, high = min(column), max(column)
        if high == low:
            y = [1.0] * n
        elif criterion.benefit:
            y = [(x - low) / (high - low) for x in column]
        else:
            y = [(high - x) / (high - low) for x in column]
        total = sum(y)  # > 0: a non-constant column has a 1 at its best value
        p = [v / total for v in y]
        entropies.append(-sum(q * math.log(q) for q in p if q > 0) / math.log(n))
    divergences = [1 - e for e in entropies]
    d_total = sum(divergences)
    # Rounding can leave d_j a hair below zero for a uniform column; treat that as no information.
    if d_total <= 1e-12:
        weights = [1 / len(criteria)] * len(criteria)
    else:
        weights = [max(d, 0.0) / d_total for d in divergences]
        s = sum(weights)
        weights = [w / s for w in weights]
    return entropies, weights


def entropy_topsis(
    alternatives: Sequence[str],
    matrix: Sequence[Sequence[Decimal | float]],
    criteria: Sequence[Criterion],
) -> TopsisResult:
    """Rank alternatives by entropy-weight TOPSIS closeness (method in the module docstring)."""
    rows = _validate(alternatives, matrix, criteria)
    n, m = len(rows), len(criteria)
    columns = [[rows[i][j] for i in range(n)] for j in range(m)]

    entropies, weights = entropy_weights(columns, criteria)
    working = [
        step(
            "topsis.weight",
            "Criterion {criterion}: entropy {entropy}, weight {weight}",
            criterion=c.code,
            entropy=_f4(e),
            weight=_f4(w),
        )
        for c, e, w in zip(criteria, entropies, weights)
    ]

    weighted_columns = []
    for column, w in zip(columns, weights):
        norm = math.sqrt(sum(x * x for x in column))
        weighted_columns.append([w * x / norm if norm > 0 else 0.0 for x in column])
    best = [max(col) if c.benefit else min(col) for col, c in zip(weighted_columns, criteria)]
    worst = [min(col) if c.benefit else max(col) for col, c in zip(weighted_columns, criteria)]

    closeness: dict[str, float] = {}
    d_plus: dict[str, float] = {}
    d_minus: dict[str, float] = {}
    for i, name in enumerate(alternatives):
        v = [weighted_columns[j][i] for j in range(m)]
        dp = math.sqrt(sum((v[j] - best[j]) ** 2 for j in range(m)))
        dm = math.sqrt(sum((v[j] - worst[j]) ** 2 for j in range(m)))
        c = dm / (dp + dm) if dp + dm > 0 else 0.0
        d_plus[name], d_minus[name], closeness[name] = dp, dm, c
        working.append(
            step(
                "topsis.closeness",
                "{alternative}: distance to best {d_plus}, to worst {d_minus}, closeness {closeness}",
                alternative=name,
                d_plus=_f4(dp),
                d_minus=_f4(dm),
                closeness=_f4(c),
            )
        )

    # Rounded key so float noise cannot split what is arithmetically a tie.
    ranking = sorted(alternatives, key=lambda a: (-round(closeness[a], 12), a))
    working.extend(
        step("topsis.rank", "Rank {rank}: {alternative} (closeness {closeness})", rank=k, alternative=a, closeness=_f4(closeness[a]))
        for k, a in enumerate(ranking, start=1)
    )
    return TopsisResult(
        weights={c.code: w for c, w in zip(criteria, weights)},
        entropy={c.code: e for c, e in zip(criteria, entropies)},
        closeness=closeness,
        d_plus=d_plus,
        d_minus=d_minus,
        ranking=ranking,
        working=tuple(working),
    )
