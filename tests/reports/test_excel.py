"""Excel workbooks: Chinese headers, frozen header, widths, number formats, notes, atomic writes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from linli import InputError
from linli.reports import write_workbook

HEADERS = {
    "name": "社区名称",
    "households": "户数",
    "walk_min_clinic": "至卫生服务站（分钟）",
    "deficit_m2": "面积缺口（m²）",
    "share_10min": "10 分钟覆盖率",
}


def communities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["七星岗社区", "两路口社区", "大坪社区"],
            "households": np.array([5210, 3120, 4400], dtype=np.int64),
            "walk_min_clinic": [7.25, np.nan, 12.5],
            "deficit_m2": [1234.0, 0.0, 56.7],
            "share_10min": [0.45, 0.92, 0.61],
            "score": [1.2345, 2.5, 3.0],
        }
    )


def test_workbook_opens_with_chinese_headers_and_formats(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        communities(), geometry=shapely.points(np.arange(3.0), np.zeros(3)), crs=32648
    )
    path = write_workbook(
        tmp_path / "out" / "audit.xlsx",
        {"社区": frame, "街道": pd.DataFrame({"name": ["解放碑街道"], "population": [61234]})},
        headers_zh=HEADERS,
        notes={"标准": "chongqing-2019", "数据": "© OpenStreetMap contributors, ODbL 1.0"},
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["社区", "街道", "说明"]
    ws = wb["社区"]
    header = [c.value for c in ws[1]]
    assert header == [*HEADERS.values(), "score"]  # geometry left out
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"
    assert ws["A1"].font.bold
    assert ws["A2"].value == "七星岗社区"
    assert ws["B2"].value == 5210
    assert ws["B2"].number_format == "#,##0"
    assert ws["C2"].value == 7.25
    assert ws["C2"].number_format == "0.0"  # minutes
    assert ws["C3"].value is None  # NaN: an empty cell
    assert ws["D2"].number_format == "#,##0"  # areas
    assert ws["E2"].number_format == "0%"  # shares
    assert ws["F2"].number_format == "#,##0.00"
    # widths fit the Chinese headers (2 units per character) and the values
    assert ws.column_dimensions["C"].width >= 2 * 8 + 2
    assert ws.column_dimensions["A"].width >= 2 * 5
    assert wb["街道"]["B2"].number_format == "#,##0"

    notes = wb["说明"]
    rows = [[c for c in r if c is not None] for r in notes.iter_rows(values_only=True)]
    assert ["标准", "chongqing-2019"] in rows
    assert ["工作表", "字段名", "表头", "数字格式"] in rows
    assert ["社区", "walk_min_clinic", "至卫生服务站（分钟）", "0.0"] in rows


def test_notes_as_lines_english_and_overrides(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "a.xlsx",
        {"Communities": communities()},
        notes=["Walking minutes along the network.", "© OpenStreetMap contributors"],
        number_formats={"score": "0.000"},
        lang="en",
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Communities", "Notes"]
    assert wb["Communities"]["A1"].value == "name"  # no Chinese header given
    assert wb["Communities"]["F2"].number_format == "0.000"
    assert wb["Notes"]["A2"].value == "Walking minutes along the network."


def test_bad_sheet_names_are_all_reported(tmp_path: Path) -> None:
    df = communities()
    with pytest.raises(InputError) as err:
        write_workbook(
            tmp_path / "a.xlsx",
            {"a/b": df, "x" * 40: df, "说明": df, "ok": [1, 2]},  # type: ignore[dict-item]
        )
    message = str(err.value)
    assert "4 problem(s)" in message
    assert "sheet 'a/b'" in message
    assert "40 characters" in message
    assert "the notes sheet is '说明'" in message
    assert "expected a pandas DataFrame; found list" in message
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "audit.xlsx"
    target.write_bytes(b"previous workbook")
    df = communities()
    df["name"] = ["七星岗社区", {"not": "a cell"}, "大坪社区"]  # Excel cannot store a dict
    with pytest.raises(InputError, match=r"sheet '社区2', row 3, column 'name'"):
        write_workbook(target, {"社区": communities(), "坏": communities(), "社区2": df})
    assert target.read_bytes() == b"previous workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.xlsx"]
