"""Bar charts as plain geometry for an SVG template (templates/reports_charts.html draws them).

No chart library: the page works without internet and without JavaScript. A chart is a list
of bars with their position and size in the SVG's coordinates, computed here so the template
only places rectangles and (escaped) text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 640
BAR_GAP = 4
LABEL_W = 150  # horizontal charts: room for the labels on the left
ROW_H = 22
MIN_LABELLED_BAR_W = 14  # narrower bars carry their value in a tooltip only
MAX_LABELS = 13  # group labels under a column chart, at most


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown ("" where bars are too narrow to carry it)
    x: float
    y: float
    w: float
    h: float
    series: int = 0
    href: str | None = None
    show_label: bool = True  # crowded charts label every few groups only


@dataclass(frozen=True)
class Chart:
    title: str
    kind: str  # "columns" (vertical) | "rows" (horizontal)
    width: int
    height: int
    bars: list[Bar]
    series_names: list[str] = field(default_factory=list)
    empty: bool = False


def _scale(values: Sequence[float], room: float, top: float | None) -> float:
    biggest = top if top is not None else max([v for v in values if v is not None] or [0])
    return room / biggest if biggest else 0.0


def columns(
    title: str,
    labels: Sequence[str],
    series: Sequence[Sequence[float | None]],
    series_names: Sequence[str] = (),
    unit: str = "",
    top: float | None = None,
    height: int = 220,
) -> Chart:
    """Vertical bars, one group per label with one bar per series (e.g. response and restore
    compliance per week); ``top`` fixes the scale (100 for percentages)."""
    plot_h = height - 40  # room for the labels below
    values = [v for s in series for v in s if v is not None]
    per_unit = _scale(values, plot_h - 14, top)
    group_w = (WIDTH - 10) / max(len(labels), 1)
    bar_w = max((group_w - BAR_GAP * 2) / max(len(series), 1), 1)
    show_values = bar_w >= MIN_LABELLED_BAR_W
    label_every = math.ceil(len(labels) / MAX_LABELS) if labels else 1
    bars = []
    for i, label in enumerate(labels):
        for j, values_of in enumerate(series):
            value = values_of[i]
            h = 0.0 if value is None else value * per_unit
            x = 5 + i * group_w + BAR_GAP + j * bar_w
            text = ("–" if value is None else f"{value:g}{unit}") if show_values else ""
            bars.append(
                Bar(
                    label,
                    value or 0,
                    text,
                    round(x, 1),
                    round(plot_h - h, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    j,
                    show_label=i % label_every == 0,
                )
            )
    return Chart(title, "columns", WIDTH, height, bars, list(series_names), empty=not values)


def rows(
    title: str,
    items: Sequence[tuple[str, float | None, str | None]],
    unit: str = "",
    top: float | None = None,
) -> Chart:
    """Horizontal bars, one per (label, value, link) item (breaches by district, a technician's
    median time); the bar links to the orders behind it when a link is given."""
    values = [v for _label, v, _href in items if v is not None]
    room = WIDTH - LABEL_W - 60
    per_unit = _scale(values, room, top)
    bars = []
    for i, (label, value, href) in enumerate(items):
        w = 0.0 if value is None else value * per_unit
        text = "–" if value is None else f"{value:g}{unit}"
        bars.append(Bar(label, value or 0, text, LABEL_W, i * ROW_H + 4, round(w, 1), ROW_H - 6, 0, href))
    return Chart(title, "rows", WIDTH, max(len(items), 1) * ROW_H + 8, bars, empty=not values)


def stacked_rows(
    title: str,
    items: Sequence[tuple[str, Sequence[float | None], str | None]],
    series_names: Sequence[str],
    unit: str = "",
) -> Chart:
    """Horizontal bars, one per (label, values, link) item, each split into one segment per
    series laid end to end (a technician's work, travel, waiting and idle hours); every bar on
    one scale, the total written after it. Kind "stacked": the first segment carries the label
    and the link, each segment its own value in a tooltip."""
    totals = [sum(v or 0 for v in values) for _label, values, _href in items]
    room = WIDTH - LABEL_W - 60
    per_unit = _scale(totals, room, None)
    bars = []
    for i, ((label, values, href), total) in enumerate(zip(items, totals, strict=True)):
        x = float(LABEL_W)
        last = max((j for j, v in enumerate(values) if v), default=0)
        for j, value in enumerate(values):
            w = (value or 0) * per_unit
            text = f"{total:g}{unit}" if j == last else ""
            bars.append(
                Bar(
                    label,
                    value or 0,
                    text,
                    round(x, 1),
                    i * ROW_H + 4,
                    round(w, 1),
                    ROW_H - 6,
                    j,
                    href,
                    show_label=j == 0,
                )
            )
            x += w
    return Chart(
        title,
        "stacked",
        WIDTH,
        max(len(items), 1) * ROW_H + 8,
        bars,
        list(series_names),
        empty=not any(totals),
    )
