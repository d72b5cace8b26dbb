"""Bar charts and histograms drawn to SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from linli import InputError
from linli.reports.charts import BarChart, Histogram, render_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_grouped_bars_with_target() -> None:
    chart = BarChart(
        categories=["卫生服务站", "养老服务站", "文化活动室"],
        series={"10 分钟": [0.5, None, 1.0], "20 分钟": [0.75, 0.8, 1.0]},
        value_fmt="{:.0%}",
        max_value=1.0,
        target=1.0,
    )
    root = ET.fromstring(render_chart(chart))
    bars = root.findall(f".//{SVG}rect[@class='bar']")
    assert len(bars) == 5  # the missing value draws no bar
    widths = [float(b.get("width", 0)) for b in bars]
    # bars in order: 0.5, 0.75 | (none), 0.8 | 1.0, 1.0 -- widths proportional to the values
    assert np.array(widths) / widths[3] == pytest.approx([0.5, 0.75, 0.8, 1.0, 1.0], abs=0.002)
    titles = [b.find(f"{SVG}title").text for b in bars]  # type: ignore[union-attr]
    assert titles[0] == "卫生服务站 · 10 分钟: 50%"
    text = "".join(root.itertext())
    assert "目标 100%" in text
    assert "卫生服务站" in text


def test_bar_chart_checks_lengths() -> None:
    with pytest.raises(InputError, match=r"series 'b'.*2 values"):
        render_chart(BarChart(categories=["x", "y"], series={"a": [1, 2], "b": [1]}))


def test_histogram_counts_every_finite_value() -> None:
    values = np.r_[np.arange(0, 30, 0.5), np.nan, np.inf]
    root = ET.fromstring(
        render_chart(Histogram(values=values, bins=[0, 10, 20, 30], markers={"10 分钟": 10}))
    )
    counts = [
        b.find(f"{SVG}title").text.rsplit(": ", 1)[1]
        for b in root.findall(f".//{SVG}rect[@class='bar']")
    ]  # type: ignore[union-attr]
    assert counts == ["20", "20", "20"]
    assert "10 分钟" in "".join(root.itertext())
    assert "数量" in "".join(root.itertext())
    with pytest.raises(InputError, match="bins"):
        render_chart(Histogram(values=values, bins=[3, 2, 1]))
