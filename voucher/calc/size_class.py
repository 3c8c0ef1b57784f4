"""Enterprise size class (MIIT 2011 standard for industry, programme defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .common import CalcInputError, Step, fmt_money, step, to_decimal

SizeClass = Literal["large", "medium", "small", "micro"]


@dataclass(frozen=True)
class SizeThresholds:
    """Minimum employees and annual revenue (yuan) for each size class; both must be met."""

    large_employees: int = 1000
    large_revenue: Decimal = Decimal("400000000")
    medium_employees: int = 300
    medium_revenue: Decimal = Decimal("20000000")
    small_employees: int = 20
    small_revenue: Decimal = Decimal("3000000")


@dataclass(frozen=True)
class SizeResult:
    size_class: SizeClass
    is_sme: bool
    working: tuple[Step, ...]


_TIERS: tuple[tuple[SizeClass, str, str, str], ...] = (
    (
        "large",
        "size.large",
        "Large requires at least {min_employees} employees and revenue of at least {min_revenue}: "
        "{employees} employees, revenue {revenue} — met",
        "Large requires at least {min_employees} employees and revenue of at least {min_revenue}: "
        "{employees} employees, revenue {revenue} — not met",
    ),
    (
        "medium",
        "size.medium",
        "Medium requires at least {min_employees} employees and revenue of at least {min_revenue}: "
        "{employees} employees, revenue {revenue} — met",
        "Medium requires at least {min_employees} employees and revenue of at least {min_revenue}: "
        "{employees} employees, revenue {revenue} — not met",
    ),
    (
        "small",
        "size.small",
        "Small requires at least {min_employees} employees and revenue of at least {min_revenue}: "
        "{employees} employees, revenue {revenue} — met",
        "Small requires at least {min_employees} employees and revenue of at least {min_revenue}: "
        "{employees} employees, revenue {revenue} — not met",
    ),
)

_RESULT_TEXT: dict[SizeClass, str] = {
    "large": "Size class: large — not an SME, may not apply",
    "medium": "Size class: medium — an SME",
    "small": "Size class: small — an SME",
    "micro": "Size class: micro — an SME",
}


def classify_enterprise(
    employees: int, annual_revenue: Decimal, thresholds: SizeThresholds = SizeThresholds()
) -> SizeResult:
    """Classify an enterprise: large if employees >= 1000 and revenue >= 400M; otherwise medium if
    >= 300 and >= 20M; small if >= 20 and >= 3M; else micro. Only large is not an SME."""
    if isinstance(employees, bool) or not isinstance(employees, int):
        raise CalcInputError("employees", "must be a whole number")
    if employees < 0:
        raise CalcInputError("employees", "must not be negative", limit=0)
    revenue = to_decimal(annual_revenue, "annual_revenue")
    if revenue < 0:
        raise CalcInputError("annual_revenue", "must not be negative", limit=Decimal(0))

    working: list[Step] = []
    size_class: SizeClass = "micro"
    for tier, code, met_text, not_met_text in _TIERS:
        min_employees: int = getattr(thresholds, f"{tier}_employees")
        min_revenue: Decimal = getattr(thresholds, f"{tier}_revenue")
        met = employees >= min_employees and revenue >= min_revenue
        working.append(
            step(
                code,
                met_text if met else not_met_text,
                min_employees=min_employees,
                min_revenue=fmt_money(min_revenue),
                employees=employees,
                revenue=fmt_money(revenue),
            )
        )
        if met:
            size_class = tier
            break
    working.append(step("size.result", _RESULT_TEXT[size_class], size_class=size_class))
    return SizeResult(size_class=size_class, is_sme=size_class != "large", working=tuple(working))
