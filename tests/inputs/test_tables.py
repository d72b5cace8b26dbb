"""Reading tables and layers: encodings, garbled text, Excel quirks, column aliases."""

from __future__ import annotations

import codecs
import importlib.util
import logging
import math
import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from conftest import require_shared
from linli._errors import InputError
from linli.inputs.tables import (
    COLUMN_ALIASES,
    canonical_column,
    garbled,
    parse_number,
    read_layer,
    read_table,
)

COMMUNITIES_NBS = "chongqing/admin/chongqing_main_urban_communities_villages_nbs2023.csv"

# Real Yuzhong community names (NBS 2023); the household numbers are made up.
TEXT = (
    "社区名称,街道,区县,总户数,常住人口\n"
    '华一坡社区,七星岗街道,渝中区,"1,234",３０２１\n'
    "临华路社区,七星岗街道,渝中区,987,2418\n"
    "领事巷社区,七星岗街道,渝中区,,\n"
)


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_read_alike(tmp_path: Path, encoding: str) -> None:
    table = read_table(_write(tmp_path / f"communities-{encoding}.csv", TEXT, encoding))
    assert table.columns.tolist() == ["name", "street", "district", "households", "population"]
    assert table["name"].tolist() == ["华一坡社区", "临华路社区", "领事巷社区"]
    # Thousands separators and full-width digits are numbers; blanks are missing.
    assert table["households"].tolist()[:2] == [1234, 987]
    assert table.loc[2, "population"] == 3021
    assert pd.isna(table.loc[4, "households"])
    assert str(table["households"].dtype) == "Int64"
    # Rows are labelled as Excel shows them: header on row 1, data from row 2.
    assert table.index.name == "row"
    assert table.index.tolist() == [2, 3, 4]
    assert table.attrs["headers"]["households"] == "总户数"


def test_tab_separated_text(tmp_path: Path) -> None:
    text = TEXT.replace(',"1,234",', "\t1234\t").replace(",", "\t")
    table = read_table(_write(tmp_path / "communities.txt", text, "utf-16"))
    assert table.attrs["delimiter"] == "\t"
    assert table.loc[2, "households"] == 1234


def test_gbk_is_detected(tmp_path: Path) -> None:
    table = read_table(_write(tmp_path / "gbk.csv", TEXT, "gbk"))
    assert table.attrs["encoding"] == "GBK/GB18030"
    table = read_table(_write(tmp_path / "utf8.csv", TEXT, "utf-8"))
    assert table.attrs["encoding"] == "UTF-8"


def test_utf8_read_as_gbk_and_saved_again_is_refused(tmp_path: Path) -> None:
    # A UTF-8 file opened as GBK (Excel on a Chinese Windows) and saved again as UTF-8.
    garbled_text = TEXT.encode("utf-8").decode("gbk", errors="replace")
    path = _write(tmp_path / "乱码.csv", garbled_text, "utf-8")
    with pytest.raises(InputError, match=r"乱码\.csv") as info:
        read_table(path)
    message = str(info.value)
    assert "UTF-8 that was once read as GBK" in message
    assert re.search(
        r"row 1, column A: .*found '绀惧尯鍚嶇О', which looks like '社区名称'", message
    )
    assert "row 3, column A" in message  # every garbled row is listed


def test_gbk_read_as_utf8_and_saved_again_is_refused(tmp_path: Path) -> None:
    # A GBK file opened as UTF-8 and saved: the Chinese text became replacement characters.
    lost = TEXT.encode("gbk").decode("utf-8", errors="replace")
    path = _write(tmp_path / "lost.csv", lost, "utf-8")
    with pytest.raises(InputError, match=r"lost\.csv.*cannot be recovered") as info:
        read_table(path)
    assert re.search(r"lost\.csv, row 2, column A: .*characters replaced", str(info.value))


def test_lost_characters_shown_as_kun_jin_kao_are_refused(tmp_path: Path) -> None:
    text = TEXT.replace("临华路", "锟斤拷")
    with pytest.raises(InputError, match=r"row 3, column A: .*'锟斤拷社区'"):
        read_table(_write(tmp_path / "kun.csv", text, "gbk"))


def test_utf8_read_as_latin1_is_refused(tmp_path: Path) -> None:
    latin = TEXT.encode("utf-8").decode("latin-1")
    with pytest.raises(InputError, match=r"latin1\.csv.*Latin-1") as info:
        read_table(_write(tmp_path / "latin1.csv", latin, "utf-8"))
    assert "which looks like '华一坡社区' in UTF-8 read as Latin-1" in str(info.value)


def test_mixed_utf8_and_gbk_lines_are_refused(tmp_path: Path) -> None:
    lines = TEXT.splitlines(keepends=True)
    data = "".join(lines[:3]).encode("gbk") + lines[3].encode("utf-8")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=r"mixed\.csv mixes two encodings") as info:
        read_table(path)
    assert "mixed.csv, line 4: expected GBK text like the other lines" in str(info.value)
    assert "found UTF-8 text" in str(info.value)


def test_garbled_has_no_false_alarms_on_real_names() -> None:
    frame = pd.read_csv(require_shared(COMMUNITIES_NBS), dtype=str)
    names = [*frame["community_name"], *frame["street_name"].unique()]
    assert [n for n in names if garbled(n) is not None] == []
    # ...and catches nearly all of them garbled (a lone odd character may hide).
    caught = sum(
        garbled(n.encode("utf-8").decode("gbk", errors="replace")) is not None for n in names
    )
    assert caught / len(names) > 0.95


def test_shared_nbs_table_reads_with_english_aliases() -> None:
    table = read_table(require_shared(COMMUNITIES_NBS))
    assert {"name", "street", "district", "code"} <= set(table.columns)
    yuzhong = table[table["district"] == "渝中区"]
    assert len(yuzhong) == 80
    assert yuzhong["code"].str.len().eq(12).all()  # codes stay text
    assert yuzhong["street"].nunique() == 11


# --------------------------------------------------------------------------------------------
# Column names
# --------------------------------------------------------------------------------------------


def test_every_alias_maps_to_its_column() -> None:
    for canonical, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            assert canonical_column(alias) == canonical, alias
            assert canonical_column(f" {alias.upper()} ") == canonical, alias


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("户数（户）", "households"),
        ("常住人口(人)", "population"),
        ("建筑面积（平方米）", "floor_area_m2"),
        ("建筑面积(m²)", "floor_area_m2"),
        ("ＬＮＧ", "lon"),
        ("*社区名称", "name"),
        ("纬度：", "lat"),
        ("经度(°)", "lon"),
        ("面积(万㎡)", None),  # a unit linli does not expect
        ("户数(万户)", None),
        ("备注", None),
    ],
)
def test_header_normalisation(header: str, canonical: str | None) -> None:
    assert canonical_column(header) == canonical


def test_explicit_column_mapping_wins(tmp_path: Path) -> None:
    text = "社区名,名称,居民户数(户)\n华一坡社区,甲,10\n"
    path = _write(tmp_path / "t.csv", text, "utf-8")
    table = read_table(path, columns={"社区名": "name"})
    assert table.columns.tolist() == ["name", "名称", "households"]
    assert table.loc[2, "name"] == "华一坡社区"


def test_two_columns_with_one_meaning_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "dup.csv", "社区,社区名称,户数\n甲,乙,1\n", "utf-8")
    with pytest.raises(
        InputError,
        match=r"dup\.csv, header row 1: expected one column for 'name'; found "
        r"columns '社区' and '社区名称'",
    ):
        read_table(path)


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "户数"
    sheet.append(["渝中区社区户数统计表（示例数据，户数为虚构）"])
    sheet.merge_cells("A1:E1")
    sheet.append([None, None, None, None, "单位：户"])
    sheet.append(["社区名称", "街道", "总户数", "常住人口", "备注"])
    sheet.append(["华一坡社区", "七星岗街道", "1,234", 3021, None])
    sheet.append(["临华路社区", "七星岗街道", 987, "２，４１８", "新建小区"])
    sheet.append([None] * 5)
    sheet.append(["领事巷社区", "七星岗街道", 1500.0, None, None])
    sheet.append(["合计", None, 3721, 5439, None])
    for _ in range(5):
        sheet.append([None] * 5)  # trailing empty rows
    other = book.create_sheet("说明")
    other.append(["数据为虚构"])
    book.save(path)
    return path


def test_xlsx_with_title_rows_and_text_numbers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _workbook(tmp_path / "户数.xlsx")
    with caplog.at_level(logging.INFO, logger="linli.inputs.tables"):
        table = read_table(path)
    assert table.attrs["header_row"] == 3
    assert table.attrs["sheet"] == "户数"
    # Excel row numbers; the empty row 6 and the total row 8 are gone.
    assert table.index.tolist() == [4, 5, 7]
    assert table["households"].tolist() == [1234, 987, 1500]
    assert table.loc[5, "population"] == 2418
    assert table.loc[5, "备注"] == "新建小区"
    assert "total row 8" in caplog.text


def test_xlsx_sheets_by_name_and_position(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    assert read_table(path, sheet="户数").attrs["sheet"] == "户数"
    assert read_table(path, sheet=1).attrs["sheet"] == "说明"
    with pytest.raises(
        InputError,
        match=r"book\.xlsx: expected a sheet .*0: '户数', 1: '说明'.*"
        r"found sheet='人口'",
    ):
        read_table(path, sheet="人口")


@pytest.mark.skipif(importlib.util.find_spec("xlrd") is not None, reason="xlrd is installed")
def test_xls_without_xlrd_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(
        InputError, match=r"(?s)pip install xlrd.*old\.xls: expected an installed xlrd"
    ):
        read_table(path)


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [(3, 3.0), (2.5, 2.5), ("1,234", 1234.0), ("１２３", 123.0), (" -1,234.5 ", -1234.5),
     ("1e3", 1000.0), (".5", 0.5), ("", math.nan), (None, math.nan)],
)  # fmt: skip
def test_parse_number(cell: object, value: float) -> None:
    got = parse_number(cell)
    assert (math.isnan(got) and math.isnan(value)) or got == value


@pytest.mark.parametrize("cell", ["abc", "1,23", "12户", "约1200", True, "1.2.3"])
def test_parse_number_refuses(cell: object) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number(cell)


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"社区名称": ["华一坡社区", "临华路社区"], "总户数": [1234, 987]},
        geometry=[shapely.Point(106.57, 29.55), shapely.Point(106.58, 29.56)],
        crs="EPSG:4326",
    )


def test_layer_columns_and_feature_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.gpkg"
    _points().to_file(path, layer="communities")
    _points().to_file(path, layer="other")
    layer = read_layer(path, layer="communities")
    assert layer.columns.tolist() == ["name", "households", "geometry"]
    assert layer.index.name == "feature"
    assert layer.index.tolist() == [1, 2]
    with pytest.raises(InputError, match=r"c\.gpkg: expected a layer, one of 0: 'communities'"):
        read_layer(path, layer="nope")


def test_shapefile_without_cpg_is_read_as_gbk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.shp"
    _points().to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    with caplog.at_level(logging.WARNING, logger="linli.inputs.tables"):
        layer = read_layer(path)
    assert layer["name"].tolist() == ["华一坡社区", "临华路社区"]
    assert "no .cpg file" in caplog.text


def test_tables_and_layers_are_not_confused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"read layers with read_layer"):
        read_table(tmp_path / "c.gpkg")
    with pytest.raises(InputError, match=r"read tables with read_table"):
        read_layer(tmp_path / "c.csv")


def test_utf8_bom_does_not_leak_into_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    assert read_table(path).columns[0] == "name"


def test_codes_with_leading_zeros_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("社区,编号,序号\n甲,007,1\n乙,012,2\n", encoding="utf-8")
    table = read_table(path)
    assert table["编号"].tolist() == ["007", "012"]
    assert table["序号"].tolist() == [1, 2]


def test_layer_without_geometry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "attributes.gpkg"
    pyogrio.write_dataframe(pd.DataFrame(_points().drop(columns="geometry")), path)
    with pytest.raises(InputError, match=r"attributes\.gpkg: expected a layer with geometries"):
        read_layer(path)
