"""Small charts as inline SVG: horizontal (grouped) bars and histograms.

Drawn by hand, without a plotting library, so that a report stays one small offline file and its
charts use the page's fonts (Chinese category names render with the same CJK font as the text).
The charts only draw the numbers they are given; a histogram bins the values it is given
(``numpy.histogram``), nothing more.

Examples
--------
>>> svg = render_chart(BarChart(categories=["卫生服务站", "养老服务站"],
...     series={"10 分钟": [0.62, 0.35], "20 分钟": [0.91, 0.70]},
...     value_fmt="{:.0%}", max_value=1.0))
>>> svg.count('class="bar"')
4
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from linli._errors import InputError, Problem
from linli.reports._text import (
    FONT_STACK,
    Formatter,
    Lang,
    check_lang,
    esc,
    finite_or_none,
    format_value,
    text_width_em,
    ui,
)
from linli.reports.palettes import categorical_colours

__all__ = ["BarChart", "Chart", "Histogram", "render_chart"]

_FONT_PX = 12.0
_AXIS = "#6b6b6b"
_GRID = "#e4e4e4"


@dataclass(frozen=True, kw_only=True)
class BarChart:
    """Horizontal bars: one row per category, one bar per series (e.g. 10 and 20 minutes).

    Parameters
    ----------
    categories : sequence of str
        Row labels, top to bottom (e.g. facility names, communities).
    series : mapping of str to sequence of float
        Series name -> one value per category (missing values: None or NaN, drawn as "–").
    title, caption : str
        Shown above and below the chart by the HTML report.
    value_fmt : str or callable
        Format of the value labels and axis ticks, e.g. ``"{:.0%}"`` for shares.
    max_value : float, optional
        The axis end (e.g. 1.0 for shares); default the largest value.
    target : float, optional
        A reference line (e.g. a policy target of 100 %), labelled ``target_label``.
    target_label : str, optional
        Default: "目标" / "Target".
    colours : sequence of str, optional
        One colour per series; default the Okabe-Ito palette.
    width_px : int
        Width of the SVG in CSS pixels.
    """

    categories: Sequence[str]
    series: Mapping[str, Sequence[float | None]]
    title: str = ""
    caption: str = ""
    value_fmt: Formatter = "{:,.4g}"
    max_value: float | None = None
    target: float | None = None
    target_label: str | None = None
    colours: Sequence[str] | None = None
    width_px: int = 720


@dataclass(frozen=True, kw_only=True)
class Histogram:
    """Vertical bars of how many values fall in each bin (e.g. walking minutes of homes).

    Parameters
    ----------
    values : sequence of float
        The values; missing and infinite ones are left out.
    bins : int or sequence of float
        Number of equal bins, or bin edges (increasing), as for ``numpy.histogram``.
    title, caption : str
    x_label, y_label : str
        Axis titles with units, e.g. ``"步行时间（分钟）"``; ``y_label`` defaults to "数量".
    markers : mapping of str to float
        Vertical reference lines, label -> x (e.g. ``{"10 分钟": 10}``).
    colour : str
    value_fmt : str or callable
        Format of the bin edges on the x axis.
    width_px, height_px : int
    """

    values: Sequence[float] | Any
    bins: int | Sequence[float] = 10
    title: str = ""
    caption: str = ""
    x_label: str = ""
    y_label: str | None = None
    markers: Mapping[str, float] | None = None
    colour: str = "#0072B2"
    value_fmt: Formatter = "{:,.4g}"
    width_px: int = 720
    height_px: int = 300


Chart = BarChart | Histogram


def render_chart(chart: Chart, *, lang: Lang = "zh") -> str:
    """Draw a chart as one ``<svg>`` element.

    Parameters
    ----------
    chart : BarChart or Histogram
    lang : {"zh", "en"}, keyword-only
        Language of the chart's own words (default axis title, target label).

    Returns
    -------
    str
        SVG markup, sized ``width_px`` wide, with a ``<title>`` (the chart's title).

    Raises
    ------
    InputError
        If the data do not fit the chart (series of the wrong length, no categories, bad bins).
    """
    lang = check_lang(lang)
    if isinstance(chart, BarChart):
        return _bar_chart(chart, lang)
    return _histogram(chart, lang)


def _bar_chart(chart: BarChart, lang: Lang) -> str:
    categories = [str(c) for c in chart.categories]
    names = list(chart.series)
    problems = []
    if not categories:
        problems.append(Problem("BarChart", expected="at least one category", found="none"))
    if not names:
        problems.append(Problem("BarChart", expected="at least one series", found="none"))
    problems.extend(
        Problem(
            "BarChart",
            where=f"series {name!r}",
            expected=f"{len(categories)} values (one per category)",
            found=f"{len(chart.series[name])}",
        )
        for name in names
        if len(chart.series[name]) != len(categories)
    )
    if problems:
        raise InputError("cannot draw the bar chart", problems=problems)
    values = [[finite_or_none(v) for v in chart.series[n]] for n in names]
    colours = list(chart.colours) if chart.colours else categorical_colours("okabe_ito", len(names))
    finite = [v for row in values for v in row if v is not None]
    vmax = chart.max_value if chart.max_value is not None else max([0.0, *finite])
    if chart.target is not None:
        vmax = max(vmax, chart.target)
    vmax = vmax if vmax > 0 else 1.0
    vmin = min([0.0, *finite])

    label_w = min(max(text_width_em(c) for c in categories) * _FONT_PX + 12, chart.width_px * 0.4)
    value_w = 48.0
    left = label_w
    plot_w = chart.width_px - left - value_w - 8
    bar_h = 14.0 if len(names) > 1 else 18.0
    group_h = bar_h * len(names) + 10
    legend_h = 26.0 if len(names) > 1 else 0.0
    top = legend_h + 10
    plot_h = group_h * len(categories)
    height = top + plot_h + 28

    def x_of(v: float) -> float:
        return left + (v - vmin) / (vmax - vmin) * plot_w

    out = [_svg_open(chart.width_px, height, chart.title)]
    # legend
    x = left
    for name, colour in zip(names, colours, strict=True):
        if len(names) == 1:
            break
        out.append(
            f'<rect x="{x:.1f}" y="4" width="12" height="12" fill="{esc(colour)}"/>'
            f'<text x="{x + 17:.1f}" y="14">{esc(name)}</text>'
        )
        x += 17 + text_width_em(name) * _FONT_PX + 20
    # grid and ticks
    for tick in _ticks(vmin, vmax):
        tx = x_of(tick)
        out.append(
            f'<line x1="{tx:.1f}" y1="{top:.1f}" x2="{tx:.1f}" y2="{top + plot_h:.1f}" '
            f'stroke="{_GRID}"/><text x="{tx:.1f}" y="{top + plot_h + 16:.1f}" '
            f'text-anchor="middle" fill="{_AXIS}">{esc(format_value(tick, chart.value_fmt))}</text>'
        )
    # bars
    for i, category in enumerate(categories):
        gy = top + i * group_h + 5
        out.append(
            f'<text x="{left - 8:.1f}" y="{gy + group_h / 2 - 1:.1f}" text-anchor="end" '
            f'dominant-baseline="middle">{esc(category)}</text>'
        )
        for j, name in enumerate(names):
            v = values[j][i]
            y = gy + j * bar_h
            text = format_value(v, chart.value_fmt)
            tip = f"<title>{esc(category)} · {esc(name)}: {esc(text)}</title>"
            if v is None:
                out.append(
                    f'<text x="{left + 4:.1f}" y="{y + bar_h - 3:.1f}" fill="{_AXIS}">–</text>'
                )
                continue
            x0, x1 = sorted((x_of(0.0), x_of(v)))
            out.append(
                f'<rect class="bar" x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
                f'height="{bar_h - 2:.1f}" fill="{esc(colours[j])}">{tip}</rect>'
                f'<text x="{x1 + 4:.1f}" y="{y + bar_h - 4:.1f}" font-size="11" fill="#333">'
                f"{esc(text)}</text>"
            )
    # axis and target
    out.append(
        f'<line x1="{x_of(0.0):.1f}" y1="{top:.1f}" x2="{x_of(0.0):.1f}" '
        f'y2="{top + plot_h:.1f}" stroke="{_AXIS}"/>'
    )
    if chart.target is not None:
        tx = x_of(chart.target)
        label = chart.target_label or ui(lang, "target")
        out.append(
            f'<g class="target"><line x1="{tx:.1f}" y1="{top - 4:.1f}" x2="{tx:.1f}" '
            f'y2="{top + plot_h:.1f}" stroke="#D55E00" stroke-width="1.5" '
            f'stroke-dasharray="5 3"/><text x="{tx:.1f}" y="{top - 6:.1f}" text-anchor="end" '
            f'fill="#D55E00" font-size="11">{esc(label)} '
            f"{esc(format_value(chart.target, chart.value_fmt))}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def _histogram(chart: Histogram, lang: Lang) -> str:
    raw = np.asarray(chart.values, dtype=float).ravel()
    values = raw[np.isfinite(raw)]
    try:
        counts, edges = np.histogram(values, bins=chart.bins)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InputError(
            problems=[
                Problem(
                    "Histogram",
                    where="bins",
                    expected="a positive number of bins or increasing bin edges",
                    found=f"{chart.bins!r} ({exc})",
                )
            ]
        ) from exc
    left, right, top, bottom = 56.0, 16.0, 28.0, 46.0
    plot_w = chart.width_px - left - right
    plot_h = chart.height_px - top - bottom
    cmax = int(counts.max()) if counts.size and counts.max() > 0 else 1
    lo, hi = float(edges[0]), float(edges[-1])
    span = hi - lo if hi > lo else 1.0

    def x_of(v: float) -> float:
        return left + (v - lo) / span * plot_w

    def y_of(c: float) -> float:
        return top + plot_h - c / cmax * plot_h

    out = [_svg_open(chart.width_px, chart.height_px, chart.title)]
    for tick in _ticks(0.0, float(cmax), integer=True):
        ty = y_of(tick)
        out.append(
            f'<line x1="{left:.1f}" y1="{ty:.1f}" x2="{left + plot_w:.1f}" y2="{ty:.1f}" '
            f'stroke="{_GRID}"/><text x="{left - 6:.1f}" y="{ty + 4:.1f}" text-anchor="end" '
            f'fill="{_AXIS}">{tick:,.0f}</text>'
        )
    for c, a, b in zip(counts.tolist(), edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        x0, x1 = x_of(a), x_of(b)
        tip = (
            f"<title>{esc(format_value(a, chart.value_fmt))} – "
            f"{esc(format_value(b, chart.value_fmt))}: {c:,}</title>"
        )
        out.append(
            f'<rect class="bar" x="{x0 + 0.5:.1f}" y="{y_of(c):.1f}" '
            f'width="{max(x1 - x0 - 1, 0.5):.1f}" height="{plot_h - (y_of(c) - top):.1f}" '
            f'fill="{esc(chart.colour)}">{tip}</rect>'
        )
    step = max(1, math.ceil(len(edges) / max(plot_w // 48, 1)))
    out.extend(
        f'<text x="{x_of(e):.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle" '
        f'fill="{_AXIS}">{esc(format_value(e, chart.value_fmt))}</text>'
        for e in edges[::step].tolist()
    )
    out.append(
        f'<line x1="{left:.1f}" y1="{top + plot_h:.1f}" x2="{left + plot_w:.1f}" '
        f'y2="{top + plot_h:.1f}" stroke="{_AXIS}"/>'
    )
    for label, xv in (chart.markers or {}).items():
        if lo <= xv <= hi:
            mx = x_of(xv)
            out.append(
                f'<g class="marker"><line x1="{mx:.1f}" y1="{top - 6:.1f}" x2="{mx:.1f}" '
                f'y2="{top + plot_h:.1f}" stroke="#D55E00" stroke-width="1.5" '
                f'stroke-dasharray="5 3"/><text x="{mx + 4:.1f}" y="{top - 8:.1f}" '
                f'fill="#D55E00" font-size="11">{esc(label)}</text></g>'
            )
    if chart.x_label:
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{chart.height_px - 6:.1f}" '
            f'text-anchor="middle" fill="#333">{esc(chart.x_label)}</text>'
        )
    y_label = chart.y_label if chart.y_label is not None else ui(lang, "count")
    out.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="#333" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{esc(y_label)}</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _svg_open(width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="linli-chart" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" role="img" '
        f'font-family="{esc(FONT_STACK)}" font-size="{_FONT_PX:.0f}" fill="#222">'
        f"<title>{esc(title or 'chart')}</title>"
    )


def _ticks(lo: float, hi: float, *, integer: bool = False) -> list[float]:
    """About five round tick values from ``lo`` to ``hi``."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / 5
    p = 10.0 ** math.floor(math.log10(raw))
    step = next(m * p for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * p >= raw)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = first
    while v <= hi + 1e-9 * max(1.0, abs(hi)):
        ticks.append(round(v, 12))
        v += step
    return ticks
