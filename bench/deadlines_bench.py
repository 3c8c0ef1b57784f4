"""Working-day deadline benchmark.

A queue shows one deadline per row (the payment queue computes every item's, to sort by urgency),
so the cost of one deadline matters.  This prints, for N deadlines spread over 2025-2026 (start
date + 5 or 10 working days, and how far today stands from the due day):

- the cost per deadline with ``voucher.workdays`` (each year read once into running totals);
- the reference: the same deadline walked day by day asking ``chinese_calendar.is_workday``
  (what the module did before), measured in the same run on fewer deadlines;
- the one-off cost of reading a year into the table.

    .venv/bin/python bench/deadlines_bench.py [--n 20000]

Timing is printed, never asserted.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import chinese_calendar  # noqa: E402

from voucher import workdays  # noqa: E402

TODAY = date(2026, 11, 20)


def walked(start: date, days: int, today: date) -> tuple[date, int]:
    """The deadline as a walk through the days (the reference)."""
    due, left = start, days
    while left:
        due += timedelta(days=1)
        left -= chinese_calendar.is_workday(due)
    a, b = (today, due) if today <= due else (due, today)
    count = 0
    while a < b:
        a += timedelta(days=1)
        count += chinese_calendar.is_workday(a)
    return due, count


def tabled(start: date, days: int, today: date) -> tuple[date, int]:
    due = workdays.add_working_days(start, days)
    count = (workdays.working_days_between(today, due) if today <= due
             else workdays.working_days_between(due, today))
    return due, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    rng = random.Random(7)
    cases = [(date(2025, 1, 1) + timedelta(days=rng.randrange(0, 700)), rng.choice((5, 10))) for _ in range(args.n)]

    started = time.perf_counter()
    workdays._package_year.cache_clear()
    workdays._year(2026)
    year_ms = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    results = [tabled(s, d, TODAY) for s, d in cases]
    per_tabled = (time.perf_counter() - started) / len(cases) * 1e6

    sample = cases[: max(len(cases) // 50, 50)]
    started = time.perf_counter()
    reference = [walked(s, d, TODAY) for s, d in sample]
    per_walked = (time.perf_counter() - started) / len(sample) * 1e6
    assert reference == results[: len(sample)], "the two ways disagree"

    print(f"deadlines computed: {len(cases)} (reference on {len(sample)})")
    print(f"one year read into running totals: {year_ms:.1f} ms (once per process)")
    print(f"per deadline, running totals:      {per_tabled:.1f} µs")
    print(f"per deadline, walking the days:    {per_walked:.1f} µs (reference)")
    print(f"speed-up: {per_walked / per_tabled:.0f}×; a queue of 1,000 items: "
          f"{per_tabled * 1000 / 1000:.1f} ms against {per_walked * 1000 / 1000:.0f} ms")


if __name__ == "__main__":
    main()
