"""The radar chart's geometry (a server-rendered SVG: no script needed): one axis per dimension,
rings for levels 1–5, a polygon per assessment.  Pure: numbers in, coordinates out."""
from __future__ import annotations

import math
from dataclasses import dataclass

from voucher.chart_colours import NEUTRAL

SIZE = 320
CENTRE = SIZE / 2
RADIUS = 110
MAX_LEVEL = 5
# First and latest have no good or bad meaning: neutral colours (voucher.chart_colours).
SERIES_COLOURS = (NEUTRAL[5], NEUTRAL[0])


def _point(index: int, count: int, value: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * index / count
    r = RADIUS * value / MAX_LEVEL
    return round(CENTRE + r * math.cos(angle), 1), round(CENTRE + r * math.sin(angle), 1)


def _points(values) -> str:
    return " ".join(f"{x},{y}" for x, y in (_point(i, len(values), v) for i, v in enumerate(values)))


@dataclass(frozen=True)
class Radar:
    size: int
    rings: list[str]
    axes: list[tuple]  # x1, y1, x2, y2, label, text-anchor, label x, label y
    series: list[tuple[str, str, str]]  # points, colour, label


def radar(labels: list[str], series: list[tuple[str, list[int]]]) -> Radar:
    """``labels``: one per axis; ``series``: (label, a level per axis) — at most two (first, latest)."""
    n = len(labels)
    rings = [_points([lv] * n) for lv in range(1, MAX_LEVEL + 1)]
    axes = []
    for i, label in enumerate(labels):
        x, y = _point(i, n, MAX_LEVEL)
        lx, ly = _point(i, n, MAX_LEVEL + 0.9)
        anchor = "middle" if abs(lx - CENTRE) < 5 else ("start" if lx > CENTRE else "end")
        axes.append((CENTRE, CENTRE, x, y, label, anchor, lx, ly))
    return Radar(SIZE, rings, axes, [(_points(values), SERIES_COLOURS[i % 2], label)
                                     for i, (label, values) in enumerate(series)])
