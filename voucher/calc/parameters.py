"""The programme's rule parameters and their domain defaults, written once.

The calculation parameter classes carry the defaults of what they use (``LoanParams``,
``RobotParams``, ``EvaluationParams``); ``TrialParams`` carries the trial-voucher parameters no
calculation here takes. :func:`programme_parameter_defaults` names every one as the programme's
column and is the source of ``voucher.programmes.models.PARAMETER_DEFAULTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .common import round_fen
from .evaluation import DEFAULT_WEIGHTS, RECOMMEND_MIN_PASSED, EvaluationParams
from .loan_discount import LoanParams
from .robot_subsidy import RobotParams


@dataclass(frozen=True)
class TrialParams:
    """Trial vouchers: cap per enterprise and per provider (yuan), the part paid in advance when the
    trial starts (%), passed evaluations needed for the recommendation catalogue, and the public
    notice period (working days)."""

    trial_cap_per_enterprise: Decimal = Decimal("200000.00")
    provider_cap: Decimal = Decimal("5000000.00")
    advance_pct: Decimal = Decimal("30")
    recommend_min_evaluations: int = RECOMMEND_MIN_PASSED
    publicity_working_days: int = 5


def programme_parameter_defaults() -> dict[str, Decimal | int]:
    """Every programme parameter with its default, keyed by the programme's column name, in the order
    the programme form shows them. Amounts in yuan are given to the fen."""
    trial, evaluation, loan, robot = TrialParams(), EvaluationParams(), LoanParams(), RobotParams()
    return {
        "trial_cap_per_enterprise": round_fen(trial.trial_cap_per_enterprise),
        "provider_cap": round_fen(trial.provider_cap),
        "advance_pct": trial.advance_pct,
        "pass_score": evaluation.pass_score,
        "remarkable_score": evaluation.remarkable_score,
        "recommend_min_evaluations": trial.recommend_min_evaluations,
        **{f"weight_{code}": weight for code, weight in DEFAULT_WEIGHTS.items()},
        "loan_rate_margin_pct": loan.rate_margin_pct,
        "loan_subsidy_points": loan.subsidy_points,
        "loan_principal_cap": round_fen(loan.principal_cap),
        "loan_day_basis": loan.day_basis,
        "robot_base_rate": robot.base_rate,
        "robot_domestic_rate": robot.domestic_rate,
        "robot_pilot_domestic_rate": robot.pilot_domestic_rate,
        "robot_enterprise_cap": round_fen(robot.enterprise_cap),
        "publicity_working_days": trial.publicity_working_days,
    }
