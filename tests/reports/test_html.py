"""The HTML report: one self-contained offline file of generic blocks, written atomically."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from report_fixtures import sample_report

from linli import InputError
from linli.reports import (
    OSM_SOURCE,
    BarChart,
    ColourBy,
    Figure,
    Figures,
    MapSpec,
    PolygonLayer,
    Section,
    Table,
    Text,
    render_report,
    write_report,
)

# Any reference the browser would fetch: src/href attributes, CSS url(), @import.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import)""",
    re.IGNORECASE,
)


def small_sections() -> list[Section]:
    zones = gpd.GeoDataFrame(
        {"name": ["七星岗社区", "两路口社区"], "share_10min": [0.45, 0.92]},
        geometry=[
            shapely.box(106.56, 29.55, 106.57, 29.56),
            shapely.box(106.57, 29.55, 106.58, 29.56),
        ],
        crs=4326,
    )
    table = pd.DataFrame(
        {
            "name": ["七星岗社区", "两路口社区", "大坪社区"],
            "households": [5210, 3120, 4400],
            "deficit_m2": [420.6, 0.0, float("nan")],
            "share_10min": [0.45, 0.92, 0.61],
        }
    )
    return [
        Section(
            title="覆盖情况",
            blocks=[
                Text(text="第一段。\n\n第二段 <script>alert(1)</script>"),
                Figures(figures=[Figure(label="缺口社区", value=1, unit="个")]),
                MapSpec(
                    title="十分钟覆盖率",
                    layers=[
                        PolygonLayer(
                            data=zones,
                            name="社区",
                            fill=ColourBy(column="share_10min", breaks=[0.5], fmt="{:.0%}"),
                            label="name",
                        )
                    ],
                ),
                BarChart(
                    title="各类设施",
                    categories=["卫生服务站", "养老服务站"],
                    series={"10 分钟": [0.5, 0.4]},
                    value_fmt="{:.0%}",
                ),
                Table(data=table, caption="社区", headers={"name": "社区", "households": "户数"}),
            ],
        )
    ]


def test_report_is_one_offline_file(tmp_path: Path) -> None:
    path = write_report(
        tmp_path / "out" / "report.html",
        title="渝中区评估",
        sections=small_sections(),
        sources=[OSM_SOURCE],
        figures=[Figure(label="社区覆盖率", value=0.62, fmt="{:.0%}", note="目标 100%")],
        method_notes=["步行时间沿步行网络计算。"],
        date="2026-04-30",
    )
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert EXTERNAL.findall(html) == []
    assert "<link" not in html
    assert not re.search(r"<script[^>]*\bsrc", html)
    assert not re.search(r"<img[^>]*\bsrc\s*=\s*[\"'](?!data:)", html)
    assert "default-src 'none'" in html  # the browser itself refuses to fetch anything
    # the only http(s) strings are XML namespaces, which no browser fetches
    leftovers = re.findall(r"https?://[^\s\"'<>)]+", html)
    assert set(leftovers) <= {"http://www.w3.org/2000/svg"}


def test_report_content(tmp_path: Path) -> None:
    html = render_report(
        title="渝中区评估",
        subtitle="重庆市渝中区",
        sections=small_sections(),
        sources=[OSM_SOURCE],
        figures=[Figure(label="社区覆盖率", value=0.62, fmt="{:.0%}", tone="bad")],
        method_notes=["步行时间沿步行网络计算。"],
        date="2026-04-30",
    )
    assert '<html lang="zh-CN">' in html
    assert "<title>渝中区评估</title>" in html
    assert '<time datetime="2026-04-30">' in html
    assert re.search(
        r'class="card tone-bad"><div class="label">社区覆盖率</div>'
        r'<div class="value">62%</div>',
        html,
    )
    assert '<div class="value">1<span class="unit">个</span>' in html
    assert "<p>第一段。</p><p>第二段 &lt;script&gt;alert(1)&lt;/script&gt;</p>" in html
    assert "alert(1)</script>" not in html
    # numbered figures and tables, the map with its layer group, chart bars
    assert "图 1　十分钟覆盖率" in html
    assert "图 2　各类设施" in html
    assert "表 1　社区" in html
    assert 'id="map-1-layer-0"' in html
    assert html.count('class="bar"') == 2
    # table: Chinese headers, units from the names, numeric sort keys, missing as a dash
    assert '<button type="button">户数</button>' in html
    assert '<td class="num" data-v="420.6">421</td>' in html
    assert '<td class="num" data-v="0.45">45%</td>' in html
    assert '<td class="num" data-v="">–</td>' in html
    # contents, method notes, sources and licences
    for anchor in ('href="#s1"', 'href="#method"', 'href="#sources"'):
        assert anchor in html
    assert "方法说明" in html
    assert "步行时间沿步行网络计算。" in html
    assert "© OpenStreetMap contributors" in html
    assert "ODbL 1.0" in html
    # fonts: a stack that finds CJK fonts on Windows, macOS and Linux
    for family in ("Microsoft YaHei", "SimSun", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi"):
        assert family in html


def test_english_report_uses_english_words() -> None:
    html = render_report(title="Audit", sections=small_sections(), lang="en", date="2026-04-30")
    assert '<html lang="en">' in html
    assert "Data sources and licences" in html
    assert "Figure 1. 十分钟覆盖率" in html
    assert "Table 1. 社区" in html
    assert "数据来源与许可" not in html
    with pytest.raises(InputError, match="'zh' or 'en'"):
        render_report(title="x", sections=[], lang="fr")  # type: ignore[arg-type]


def test_long_tables_are_cut_with_a_note() -> None:
    df = pd.DataFrame({"id": range(30), "walk_min": [i / 3 for i in range(30)]})
    html = render_report(
        title="t", sections=[Section(title="s", blocks=[Table(data=df, max_rows=10)])]
    )
    assert html.count("<tr><td") == 10
    assert "显示前 10 行，共 30 行" in html
    assert '<td class="num" data-v="0.3333333333333333">0.3</td>' in html  # minutes: 0.0


def test_sample_report_of_yuzhong_is_small(tmp_path: Path) -> None:
    path = write_report(tmp_path / "report.html", **sample_report("zh"))
    html = path.read_text(encoding="utf-8")
    assert EXTERNAL.findall(html) == []
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="linli-map"') == 2
    assert path.stat().st_size < 3_000_000


def test_failed_report_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous report", encoding="utf-8")
    broken = Section(title="坏的部分", blocks=[Text(text="ok"), "not a block"])  # type: ignore[list-item]
    with pytest.raises(InputError, match=r"section '坏的部分'.*found str"):
        write_report(target, title="t", sections=[broken])
    assert target.read_text(encoding="utf-8") == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]

    # a failure while writing (here: the disk "fills up") leaves no temporary file either
    fresh = tmp_path / "new" / "report.html"

    def full_disk(self: Path, *args: object, **kwargs: object) -> int:
        self.open("w").write("half")  # a half-written file
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "write_text", full_disk)
        with pytest.raises(OSError, match="No space"):
            write_report(fresh, title="t", sections=[])
    assert list(fresh.parent.iterdir()) == []
