"""One colour per meaning, the same in every chart (the dashboards' ECharts options in
``voucher.dashboard.charts`` and the PDF charts in ``voucher.documents.pdf``).

Green means money paid, a trial passed, a solution kept: never "not passed", never "reserved".
Red means failed / not passed.  Categories without a good or bad meaning (kinds of support,
districts, industries, statuses in progress) take :data:`NEUTRAL`, which has neither green nor red,
so a chart never says "good" or "bad" by the accident of a series' position.
"""
from __future__ import annotations

GREEN = "#198754"
RED = "#dc3545"

COLOURS = {
    "paid": GREEN,          # money paid out
    "passed": GREEN,        # a trial that passed its effect evaluation
    "adopted": GREEN,       # the enterprise kept using the solution
    "reserved": "#0d6efd",  # committed, not yet paid
    "released": "#6c757d",  # money back to the fund
    "pending": "#ffc107",   # running, waiting for a result
    "waiting": "#adb5bd",   # not started yet / no decision yet
    "declined": "#fd7e14",  # did not keep the solution (a choice, not a failure)
    "failed": RED,          # not passed
    "queue": "#fd7e14",     # waiting in a queue (age)
}

NEUTRAL = ["#0d6efd", "#6f42c1", "#0dcaf0", "#fd7e14", "#d63384", "#6c757d", "#ffc107", "#495057"]

# Words that name a failure: a series or slice so named never gets GREEN (tests/dashboard).
assert GREEN not in NEUTRAL and RED not in NEUTRAL


def colour(meaning: str) -> str:
    return COLOURS[meaning]
