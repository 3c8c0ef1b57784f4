"""Pure calculations for the voucher programme: Decimal in, result plus itemized working out.

No Flask, no database; programme parameters are passed in as frozen dataclasses whose defaults are
the domain defaults.
"""

from .common import FEN, CalcInputError, Step, round_fen, round_to
from .evaluation import (
    CRITERIA_LABELS,
    DEFAULT_WEIGHTS,
    INDICATORS,
    RECOMMEND_MIN_PASSED,
    EvaluationParams,
    Indicator,
    IndicatorResult,
    RecommendationResult,
    ScoreResult,
    TrialScoreResult,
    improvement_pct,
    indicator_improvements,
    overall_score,
    recommendation_eligible,
    trial_score,
)
from .loan_discount import (
    InterestPeriod,
    LoanDiscountResult,
    LoanParams,
    PeriodResult,
    PrincipalUse,
    Segment,
    loan_discount,
    rate_ceiling,
)
from .parameters import TrialParams, programme_parameter_defaults
from .recovery import RecoveryResult, recovery_amount
from .robot_subsidy import (
    LineResult,
    RobotLine,
    RobotParams,
    RobotSubsidyResult,
    invoice_key,
    line_rate,
    robot_subsidy,
)
from .size_class import SizeClass, SizeResult, SizeThresholds, classify_enterprise
from .topsis import Criterion, TopsisResult, entropy_topsis

__all__ = [
    "CRITERIA_LABELS",
    "DEFAULT_WEIGHTS",
    "FEN",
    "INDICATORS",
    "CalcInputError",
    "Criterion",
    "EvaluationParams",
    "Indicator",
    "IndicatorResult",
    "InterestPeriod",
    "LineResult",
    "LoanDiscountResult",
    "LoanParams",
    "PeriodResult",
    "RECOMMEND_MIN_PASSED",
    "RecommendationResult",
    "RecoveryResult",
    "RobotLine",
    "RobotParams",
    "PrincipalUse",
    "RobotSubsidyResult",
    "Segment",
    "ScoreResult",
    "SizeClass",
    "SizeResult",
    "SizeThresholds",
    "Step",
    "TopsisResult",
    "TrialParams",
    "TrialScoreResult",
    "classify_enterprise",
    "entropy_topsis",
    "improvement_pct",
    "recovery_amount",
    "indicator_improvements",
    "invoice_key",
    "line_rate",
    "loan_discount",
    "overall_score",
    "programme_parameter_defaults",
    "rate_ceiling",
    "recommendation_eligible",
    "robot_subsidy",
    "round_fen",
    "round_to",
    "trial_score",
]
