# SPDX-License-Identifier: AGPL-3.0-or-later
"""Trend charts for the public pages, drawn on the server as inline SVG (issue 14 item 2).

No script and no chart library: the chart is part of the page, so it shows without
JavaScript, prints, and weighs a few kilobytes. Each chart carries a text title for screen
readers, and the page shows the same figures as a table beside it. Colours meet WCAG AA
contrast on white (income #0b6e4f, spending #a13d00, text #1f2328) and the two series also
differ by position and by their legend, never by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

INCOME_COLOUR = "#0b6e4f"
SPENDING_COLOUR = "#a13d00"
TEXT_COLOUR = "#1f2328"
GRID_COLOUR = "#c9ced4"


@dataclass(frozen=True)
class Point:
    label: str  # the period as the axis shows it
    income: int  # fen
    spending: int  # fen


def short_label(label: str) -> str:
    """``2026-09`` → ``09``; a year or quarter label as it is."""
    if len(label) == 7 and label[4] == "-" and label[:4].isdigit():
        return label[5:]
    return label


def _nice_max(value: int) -> int:
    """A round top for the axis (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × a power of ten), at
    least ``value``, so the tallest bar fills most of the chart."""
    if value <= 0:
        return 100
    step = 10
    while True:
        for m in (10, 12, 15, 20, 25, 30, 40, 50, 60, 80):
            if m * step // 10 >= value:
                return m * step // 10
        step *= 10


def _yuan_short(fen: int) -> str:
    yuan = fen / 100
    if abs(yuan) >= 10_000:
        return f"{yuan / 10_000:.0f}万" if abs(yuan) >= 100_000 else f"{yuan / 10_000:.1f}万"
    return f"{yuan:,.0f}"


def bars(
    points: list[Point], *, title: str, legend: tuple[str, str], small: bool = False
) -> Markup:
    """Income and spending side by side for each period, oldest on the left."""
    width, height = (240, 90) if small else (360, 200)
    left, right, top, bottom = (4, 4, 4, 16) if small else (44, 8, 24, 22)
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max([p.income for p in points] + [p.spending for p in points] + [0]))
    n = max(len(points), 1)
    slot = plot_w / n
    bar_w = max(min(slot * 0.36, 22), 2)
    parts = [
        f'<svg class="pub-chart{" pub-chart-small" if small else ""}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" font-size="{10 if small else 13}">',
        f"<title>{escape(title)}</title>",
    ]
    if not small:
        for frac in (0, 0.5, 1):
            y = top + plot_h * (1 - frac)
            parts.append(
                f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
                f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT_COLOUR}">'
                f"{escape(_yuan_short(int(top_value * frac)))}</text>"
            )
        parts.append(
            f'<rect x="{left}" y="4" width="10" height="10" fill="{INCOME_COLOUR}"/>'
            f'<text x="{left + 14}" y="13" fill="{TEXT_COLOUR}">{escape(legend[0])}</text>'
            f'<rect x="{left + 130}" y="4" width="10" height="10" fill="{SPENDING_COLOUR}"/>'
            f'<text x="{left + 144}" y="13" fill="{TEXT_COLOUR}">{escape(legend[1])}</text>'
        )
    else:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
    for i, p in enumerate(points):
        x0 = left + slot * i + slot / 2
        for value, colour, dx in (
            (p.income, INCOME_COLOUR, -bar_w),
            (p.spending, SPENDING_COLOUR, 0),
        ):
            h = plot_h * max(value, 0) / top_value
            parts.append(
                f'<rect x="{x0 + dx:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{x0:.1f}" y="{height - 4}" text-anchor="middle" fill="{TEXT_COLOUR}">'
            f"{escape(short_label(p.label))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
