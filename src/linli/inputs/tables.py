"""Reading the tables and layers users give: CSV/TXT, Excel, GeoPackage, Shapefile, GeoJSON.

Chinese planning data arrive in many shapes. This module turns them into frames with
**canonical column names** (see :data:`COLUMN_ALIASES`) and **row labels a user can find**
(the row number Excel shows, or the feature number in a layer), so that the readers of
communities and facilities can check the values and report problems by file, row and field.

Text files
    UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark (Excel's
    "Unicode text"), and GBK/GB18030 are read. The encoding is detected: strict UTF-8 first,
    then GB18030 (a superset of GBK and GB2312). A file that decodes but shows typical
    garbled text (乱码) is refused with a message that says which mix-up it looks like and how
    to fix it: UTF-8 text read as GBK and saved again ('绀惧尯' for '社区'), UTF-8 read as
    Latin-1 ('ç¤¾åŒº'), or characters already lost ('�', '锟斤拷'). The delimiter is the one
    of ``, ; | tab`` that is most frequent in the first lines.
Excel
    ``.xlsx``/``.xlsm`` through openpyxl (cached values of formulas), ``.xls`` through xlrd if
    it is installed. The sheet is chosen by name or 0-based index (default: the first).
Header row
    Title rows above the header (often merged cells: "渝中区社区户数统计表") are skipped: the
    header is the row among the first 30 with the most recognised column names (the first
    non-empty row if none is recognised).
Cells
    Empty rows (e.g. trailing ones) are dropped, and so are footer rows whose first cell is
    合计, 总计 or 小计 (totals). Text is stripped. Numbers stored as text, with thousands
    separators ('1,234') or full-width digits ('１２３'), are numbers.
Row labels
    Table rows are labelled by the row number a user sees: Excel's row number, or the
    1-based record number of a CSV file (the header is row 1 when it is the first line).
    Layer features are numbered from 1 in file order.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import math
import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj

from linli._errors import CRSError, InputError, Problem
from linli.inputs.crs import (
    CHINA_LAT_MAX,
    CHINA_LAT_MIN,
    CHINA_LON_MAX,
    CHINA_LON_MIN,
    CRSLike,
    OffsetCRS,
    geometries_to_wgs84,
    parse_crs,
    to_wgs84,
)

__all__ = [
    "COLUMN_ALIASES",
    "LAYER_SUFFIXES",
    "TABLE_SUFFIXES",
    "canonical_column",
    "parse_number",
    "read_layer",
    "read_table",
]

log = logging.getLogger(__name__)

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "社区", "社区名称", "社区名", "名称", "居委会", "社区居委会", "community_name", "name",
    ),
    "street": ("街道", "街道名称", "镇街", "街镇", "所属街道", "street_name", "street"),
    "district": ("区", "区县", "行政区", "区县名称", "所属区县", "district_name", "district"),
    "households": ("户数", "住户数", "总户数", "居民户数", "households"),
    "population": ("人口", "常住人口", "人数", "总人口", "population"),
    "lon": ("经度", "lng", "lon", "long", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "type": ("类型", "设施类型", "设施名称", "type"),
    "floor_area_m2": (
        "面积", "建筑面积", "建筑面积(㎡)", "面积(平方米)", "floor_area", "area_m2",
        "floor_area_m2",
    ),
    "floor": ("楼层", "所在楼层", "floor"),
    "lift": ("电梯", "有无电梯", "是否有电梯", "lift", "elevator"),
    "basement": ("地下室", "是否地下", "是否地下室", "basement"),
    "code": ("代码", "统计用区划代码", "区划代码", "社区代码", "community_code", "code"),
}  # fmt: skip
"""Canonical column name → the headers that mean it.

Headers are compared after Unicode NFKC normalisation (full-width letters, digits and brackets
become half-width; '㎡' becomes 'm2'), case folding and removal of white space, a leading '*'
(a "required" mark in templates) and a trailing colon. A unit in brackets after a known header
is accepted when it is the unit linli expects (see :data:`COLUMN_UNITS`): '户数(户)',
'建筑面积(平方米)', '经度(°)'. Any other unit ('面积(万㎡)') leaves the column unrecognised.
"""

COLUMN_UNITS: dict[str, tuple[str, ...]] = {
    "households": ("户",),
    "population": ("人",),
    "floor_area_m2": ("m2", "㎡", "平方米", "平米"),
    "lon": ("°", "度"),
    "lat": ("°", "度"),
}
"""Units accepted in brackets after a header of each canonical column."""

TEXT_COLUMNS = frozenset(
    {"name", "street", "district", "type", "code", "floor", "lift", "basement"}
)
"""Canonical columns always kept as text (codes keep their leading zeros)."""

NUMBER_COLUMNS = frozenset({"households", "population", "lon", "lat", "floor_area_m2"})
"""Canonical columns converted to numbers when every value is one."""

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
"""File name endings read as tables by :func:`read_table`."""

LAYER_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml", ".zip")
"""File name endings read as layers by :func:`read_layer`."""

_HEADER_SEARCH_ROWS = 30
_FOOTERS = frozenset({"合计", "总计", "小计", "total"})
_DELIMITERS = (",", "\t", ";", "|")


# --------------------------------------------------------------------------------------------
# Column names
# --------------------------------------------------------------------------------------------


def text_key(text: object) -> str:
    """The form in which headers, aliases and names are compared.

    NFKC (full-width to half-width), case-folded, without white space, a leading '*' or a
    trailing colon.

    Examples
    --------
    >>> text_key(" *社区名称（全称）： ")
    '社区名称(全称)'
    """
    key = unicodedata.normalize("NFKC", str(text)).casefold()
    key = re.sub(r"\s+", "", key)
    return key.lstrip("*").rstrip(":")


_ALIAS_KEYS: dict[str, str] = {
    text_key(alias): canonical for canonical, aliases in COLUMN_ALIASES.items() for alias in aliases
}
_UNIT_KEYS: dict[str, frozenset[str]] = {
    canonical: frozenset(text_key(u) for u in units) for canonical, units in COLUMN_UNITS.items()
}
_UNIT_SUFFIX = re.compile(r"^(.+?)\(([^()]*)\)$")


def canonical_column(header: object) -> str | None:
    """The canonical name of a column header, or None if the header is not recognised.

    Parameters
    ----------
    header : str
        A column header as written in a file.

    Returns
    -------
    str or None
        One of the keys of :data:`COLUMN_ALIASES`.

    Examples
    --------
    >>> canonical_column(" 总户数 "), canonical_column("建筑面积（㎡）"), canonical_column("Lng")
    ('households', 'floor_area_m2', 'lon')
    >>> canonical_column("面积(万㎡)") is None
    True
    """
    key = text_key(header)
    found = _ALIAS_KEYS.get(key)
    if found is not None:
        return found
    match = _UNIT_SUFFIX.match(key)
    if match:
        base = _ALIAS_KEYS.get(match.group(1))
        if base is not None and match.group(2) in _UNIT_KEYS.get(base, frozenset()):
            return base
    return None


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+|(?=\.\d))(?:\.\d+)?(?:e[+-]?\d+)?")


def _blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def parse_number(value: object) -> float:
    """Read a number from a table cell.

    Native numbers pass; text may have thousands separators ('1,234') and full-width digits
    ('１２３'); blanks give NaN. Booleans are not numbers.

    Parameters
    ----------
    value : object
        The cell.

    Returns
    -------
    float
        NaN for a blank cell.

    Raises
    ------
    ValueError
        If the cell holds something else.

    Examples
    --------
    >>> parse_number("1,234"), parse_number("１２３"), parse_number(" -2.5 ")
    (1234.0, 123.0, -2.5)
    >>> parse_number("")
    nan
    """
    if _blank(value):
        return math.nan
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace("\u2212", "-").casefold()
        if _NUMBER.fullmatch(text):
            return float(text.replace(",", ""))
    raise ValueError(f"{value!r} is not a number")


def _text(value: object) -> str | None:
    """A cell as stripped text; None if blank. Integral floats lose their '.0' (codes)."""
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


@dataclass
class ProblemList:
    """Problems found in one input, collected and raised once.

    For the readers in :mod:`linli.inputs`; ``crs`` records whether any problem is about
    coordinates, which makes the error a :class:`~linli._errors.CRSError`.
    """

    source: str
    items: list[Problem] = field(default_factory=list)
    crs: bool = False

    def add(self, where: str, *, expected: str, found: str, crs: bool = False) -> None:
        """Add one problem at ``where`` (e.g. ``"row 5, field '户数'"``)."""
        self.items.append(Problem(self.source, expected=expected, found=found, where=where))
        self.crs = self.crs or crs

    def extend(self, problems: Iterable[Problem], *, crs: bool = False) -> None:
        """Add problems found elsewhere (e.g. by :func:`linli.inputs.crs.to_wgs84`)."""
        self.items.extend(problems)
        self.crs = self.crs or crs

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, what: str) -> None:
        """Raise one InputError (CRSError if about coordinates) listing every problem."""
        if not self.items:
            return
        cls = CRSError if self.crs else InputError
        raise cls(f"{self.source}: cannot read {what}; nothing was read.", problems=self.items)


def field_label(frame: pd.DataFrame, column: str) -> str:
    """How a column is named in messages: the file's header, with the canonical name."""
    headers: Mapping[str, str] = frame.attrs.get("headers", {})
    header = headers.get(column, column)
    return f"field '{header}'" if header == column else f"field '{header}' ({column})"


def row_label(frame: pd.DataFrame, label: Hashable) -> str:
    """``"row 12"`` for tables (Excel's row number), ``"feature 3"`` for layers."""
    return f"{frame.index.name or 'row'} {label}"


def numbers(
    frame: pd.DataFrame,
    column: str,
    *,
    problems: ProblemList,
    expected: str = "a number ≥ 0",
    minimum: float | None = 0.0,
    required: bool = False,
) -> pd.Series[float]:
    """Parse a column of numbers, adding a problem for each bad cell.

    Returns float64 indexed like ``frame``; NaN where blank (blank cells are a problem when
    ``required``) or bad.
    """
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    values: dict[Hashable, float] = {}
    for label, raw in frame[column].items():
        where = f"{row_label(frame, label)}, {field_label(frame, column)}"
        try:
            value = parse_number(raw)
        except ValueError:
            problems.add(where, expected=expected, found=repr(raw))
            continue
        if math.isnan(value):
            if required:
                problems.add(where, expected=expected, found="an empty cell")
            continue
        if not math.isfinite(value) or (minimum is not None and value < minimum):
            problems.add(where, expected=expected, found=_show_number(raw, value))
            continue
        values[label] = value
    return pd.Series(values, dtype="float64").reindex(frame.index)


def _show_number(raw: object, value: float) -> str:
    return repr(raw) if isinstance(raw, str) else f"{value:g}"


# --------------------------------------------------------------------------------------------
# Text files: encodings and garbled text
# --------------------------------------------------------------------------------------------

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_REPLACEMENT = ("\ufffd", "锟斤拷")


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _common_share(text: str) -> float:
    """Share of Chinese characters among the 3,755 most common (GB2312 level 1)."""
    chars = [c for c in text if _is_cjk(c)]
    if not chars:
        return 0.0
    common = 0
    for char in chars:
        try:
            lead = char.encode("gb2312")[0]
        except UnicodeEncodeError:
            continue
        common += 0xB0 <= lead <= 0xD7
    return common / len(chars)


def _latin1_bytes(text: str) -> bytes | None:
    out = bytearray()
    for char in text:
        if ord(char) < 256:
            out.append(ord(char))
            continue
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            return None
    return bytes(out)


def garbled(text: str) -> tuple[str, str] | None:
    """Whether text looks garbled by an encoding mix-up, and what it was.

    Returns ``(kind, original)`` or None. ``kind`` is ``"lost"`` (replacement characters: the
    original is gone), ``"utf8-as-gbk"`` (UTF-8 bytes read as GBK), ``"utf8-as-latin1"`` or
    ``"gbk-as-latin1"``. A run of non-ASCII characters counts as garbled when re-reading its
    bytes gives Chinese text made of clearly more common characters than the run itself
    (garbled text is made of rare ones: '绀惧尯' for '社区').

    Examples
    --------
    >>> "社区名称".encode("utf-8").decode("gbk")
    '绀惧尯鍚嶇О'
    >>> garbled("绀惧尯鍚嶇О"), garbled("社区名称")
    (('utf8-as-gbk', '社区名称'), None)
    """
    lost = any(mark in text for mark in _REPLACEMENT)
    for run in _NON_ASCII_RUN.findall(text.replace("\ufffd", " ")):
        try:
            as_gbk = run.encode("gb18030")
        except UnicodeEncodeError:
            as_gbk = b""
        candidate = as_gbk.decode("utf-8", errors="replace")
        if (
            candidate.count("\ufffd") <= 1
            and _common_share(candidate) >= 0.8
            and _common_share(candidate) > _common_share(run) + 0.2
        ):
            return ("utf8-as-gbk", candidate.replace("\ufffd", ""))
        raw = _latin1_bytes(run)
        if raw is None:
            continue
        try:
            return ("utf8-as-latin1", raw.decode("utf-8"))
        except UnicodeDecodeError:
            pass
        candidate = raw.decode("gb18030", errors="replace")
        if candidate.count("\ufffd") == 0 and _common_share(candidate) >= 0.8:
            return ("gbk-as-latin1", candidate)
    return ("lost", "") if lost else None


_GARBLED_ADVICE = {
    "lost": (
        "Some characters were replaced by '�' or '锟斤拷': they were lost when the file was "
        "converted between encodings earlier (typically GBK read as UTF-8 and saved), and "
        "cannot be recovered from this file. Export the table again from its original source."
    ),
    "utf8-as-gbk": (
        "Some text is UTF-8 that was once read as GBK and saved again, e.g. a UTF-8 CSV "
        "opened in Excel on a Chinese Windows (which assumes GBK) and saved, or rows pasted "
        "from another file. Export the table again from its source; to open a UTF-8 CSV in "
        "Excel use 数据 > 从文本/CSV with 文件原始格式 65001: Unicode (UTF-8), and save as "
        "'CSV UTF-8(逗号分隔)'."
    ),
    "utf8-as-latin1": (
        "Some text is UTF-8 that was read as Latin-1/Windows-1252 (Western European) and "
        "saved again. Export the table again from its source, or open it as UTF-8."
    ),
    "gbk-as-latin1": (
        "Some text is GBK that was read as Latin-1/Windows-1252 (Western European) and saved "
        "again. Export the table again from its source, or open it as GBK (code page 936)."
    ),
}


_READS = {
    "lost": " (characters replaced: the original text is lost)",
    "utf8-as-gbk": ", which looks like {original!r} in UTF-8 read as GBK",
    "utf8-as-latin1": ", which looks like {original!r} in UTF-8 read as Latin-1",
    "gbk-as-latin1": ", which looks like {original!r} in GBK read as Latin-1",
}


def _garbled_problems(
    rows: Sequence[tuple[Hashable, Sequence[object]]], problems: ProblemList, *, encoding: str
) -> set[str]:
    """Add a problem for each row with garbled text; return the kinds found."""
    kinds: set[str] = set()
    for label, cells in rows:
        for position, cell in enumerate(cells):
            if not isinstance(cell, str):
                continue
            found = garbled(cell)
            if found is None:
                continue
            kind, original = found
            kinds.add(kind)
            reads = _READS[kind].format(original=original)
            problems.add(
                f"{label}, column {_column_letter(position)}",
                expected=f"readable text (the file was read as {encoding})",
                found=f"{_clip(cell)!r}{reads}",
            )
            break
    return kinds


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _column_letter(position: int) -> str:
    letters = ""
    n = position + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _decode(data: bytes, source: str) -> tuple[str, str]:
    """Decode a text file: BOM, else strict UTF-8, else GB18030. Returns (text, encoding)."""
    for bom, encoding, name in (
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), name
            except UnicodeDecodeError as exc:
                raise InputError(
                    problems=[
                        Problem(
                            source,
                            expected=f"{name} text (the file starts with the {name} byte-order "
                            "mark)",
                            found=f"bytes that are not {name} {_where_bytes(data, exc)}",
                        )
                    ]
                ) from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as utf8_error:
        _check_mixed(data, source)
        try:
            return data.decode("gb18030"), "GBK/GB18030"
        except UnicodeDecodeError as exc:
            raise InputError(
                "The file is neither UTF-8 nor GBK: save it again as 'CSV UTF-8(逗号分隔)'.",
                problems=[
                    Problem(
                        source,
                        expected="text in UTF-8 or GBK/GB18030",
                        found=f"bytes that are not UTF-8 {_where_bytes(data, utf8_error)} and "
                        f"not GBK {_where_bytes(data, exc)}",
                    )
                ],
            ) from exc


def _check_mixed(data: bytes, source: str) -> None:
    """Refuse a file whose lines are partly UTF-8 and partly GBK (e.g. rows pasted in)."""
    utf8: list[int] = []
    other: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other.append(number)
        else:
            utf8.append(number)
    if not utf8 or not other:
        return
    names = {"UTF-8": utf8, "GBK": other}
    majority, minority = sorted(names, key=lambda k: len(names[k]), reverse=True)
    raise InputError(
        f"{source} mixes two encodings: {len(names[majority])} lines are {majority} and "
        f"{len(names[minority])} are {minority} (rows pasted from another file?). Save the "
        "table again in one encoding, e.g. in Excel as 'CSV UTF-8(逗号分隔)'.",
        problems=[
            Problem(
                source,
                expected=f"{majority} text like the other lines with Chinese text",
                found=f"{minority} text",
                where=f"line {number}",
            )
            for number in names[minority]
        ],
    )


def _where_bytes(data: bytes, exc: UnicodeDecodeError) -> str:
    line = data[: exc.start].count(b"\n") + 1
    return f"(line {line}: {data[exc.start : exc.start + 4]!r})"


def _delimiter(text: str) -> str:
    sample = [line for line in text.splitlines()[:_HEADER_SEARCH_ROWS] if line.strip()]
    counts = {d: sum(line.count(d) for line in sample) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _text_rows(path: Path, source: str) -> tuple[list[list[object]], dict[str, Any]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            problems=[Problem(source, expected="a readable file", found=str(exc))]
        ) from exc
    text, encoding = _decode(data, source)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[object]] = [list(r) for r in reader]
    return rows, {"encoding": encoding, "delimiter": delimiter}


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------


def _pick_sheet(names: Sequence[str], sheet: str | int | None, source: str) -> str:
    if not names:
        raise InputError(problems=[Problem(source, expected="a sheet", found="no sheets")])
    if sheet is None:
        if len(names) > 1:
            log.info("%s: reading the first sheet %r of %s", source, names[0], list(names))
        return names[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if -len(names) <= sheet < len(names):
            return names[sheet]
    elif isinstance(sheet, str):
        if sheet in names:
            return sheet
        by_key = {text_key(n): n for n in names}
        if text_key(sheet) in by_key:
            return by_key[text_key(sheet)]
    listed = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
    raise InputError(
        problems=[
            Problem(
                source,
                expected=f"a sheet named or numbered from 0 as one of {listed}",
                found=f"sheet={sheet!r}",
            )
        ]
    )


def _xlsx_rows(
    path: Path, sheet: str | int | None, source: str
) -> tuple[list[list[object]], dict[str, Any]]:
    import openpyxl  # type: ignore[import-untyped,unused-ignore]

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException, ...
        raise InputError(
            problems=[Problem(source, expected="an Excel .xlsx workbook", found=f"{exc}")]
        ) from exc
    try:
        name = _pick_sheet(book.sheetnames, sheet, source)
        rows = [list(r) for r in book[name].iter_rows(min_row=1, values_only=True)]
    finally:
        book.close()
    return rows, {"sheet": name}


def _xls_rows(
    path: Path, sheet: str | int | None, source: str
) -> tuple[list[list[object]], dict[str, Any]]:
    try:
        import xlrd  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise InputError(
            "Reading old .xls workbooks needs the xlrd package (pip install xlrd); or save the "
            "workbook as .xlsx (Excel: 文件 > 另存为 > Excel 工作簿).",
            problems=[Problem(source, expected="an installed xlrd", found="none")],
        ) from exc
    try:
        book: Any = xlrd.open_workbook(str(path))
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, OSError, ...
        raise InputError(
            problems=[Problem(source, expected="an Excel .xls workbook", found=f"{exc}")]
        ) from exc
    name = _pick_sheet(book.sheet_names(), sheet, source)
    sh = book.sheet_by_name(name)
    rows: list[list[object]] = []
    for r in range(sh.nrows):
        cells: list[object] = []
        for c in range(sh.ncols):
            cell = sh.cell(r, c)
            empty = cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
            boolean = cell.ctype == xlrd.XL_CELL_BOOLEAN
            cells.append(None if empty else (bool(cell.value) if boolean else cell.value))
        rows.append(cells)
    return rows, {"sheet": name}


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _header_row(rows: Sequence[Sequence[object]], columns: Mapping[str, str]) -> int | None:
    explicit = {text_key(k) for k in columns}
    best, best_score = None, 0
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        cells = [c for c in row if isinstance(c, str) and c.strip()]
        if not cells and all(_blank(c) for c in row):
            continue
        if best is None:
            best = i  # the first non-empty row, unless a later one is clearly a header
        recognised = {canonical_column(c) for c in cells} - {None}
        score = len(recognised) + sum(text_key(c) in explicit for c in cells)
        if score > max(best_score, 1 if i > best else 0):
            best, best_score = i, score
    return best


def _rename(
    headers: Sequence[object], columns: Mapping[str, str], problems: ProblemList, where: str
) -> tuple[list[str], dict[str, str]]:
    """Canonical names for headers; (names, {name: header as written})."""
    explicit = {text_key(k): v for k, v in columns.items()}
    claimed = set(explicit.values())
    names: list[str] = []
    written: dict[str, str] = {}
    for position, raw in enumerate(headers):
        header = _text(raw) or f"column {_column_letter(position)}"
        canonical = explicit.get(text_key(header))
        if canonical is None:
            canonical = canonical_column(header)
            if canonical in claimed:  # an explicit mapping took this meaning
                canonical = None
        name = canonical or unicodedata.normalize("NFKC", header)
        if name in written:
            problems.add(
                where,
                expected=f"one column for {name!r}",
                found=f"columns {written[name]!r} and {header!r} (rename or delete one)",
            )
            continue
        names.append(name)
        written[name] = header
    return names, written


def _frame(
    rows: list[list[object]],
    *,
    columns: Mapping[str, str],
    problems: ProblemList,
    meta: dict[str, Any],
) -> pd.DataFrame:
    header_at = _header_row(rows, columns)
    if header_at is None:
        problems.add("", expected="a header row and data rows", found="an empty table")
        return pd.DataFrame()
    if header_at:
        skipped = [_clip(" ".join(str(c) for c in r if not _blank(c))) for r in rows[:header_at]]
        log.info(
            "%s: header on row %d; skipped rows above it: %s",
            problems.source,
            header_at + 1,
            [s for s in skipped if s],
        )
    header = list(rows[header_at])
    width = max(len(r) for r in rows[header_at:])
    header += [None] * (width - len(header))
    data: list[tuple[int, list[object]]] = []
    for i in range(header_at + 1, len(rows)):
        cells = list(rows[i]) + [None] * (width - len(rows[i]))
        filled = [c for c in cells if not _blank(c)]
        if not filled:
            continue
        if text_key(filled[0]) in _FOOTERS:
            log.info("%s: dropped a total row %d: %s", problems.source, i + 1, cells)
            continue
        data.append((i + 1, cells))
    # Columns with neither a header nor any value (Excel's ragged right edge) go.
    keep = [
        c for c in range(width) if not _blank(header[c]) or any(not _blank(r[c]) for _, r in data)
    ]
    names, written = _rename(
        [header[c] for c in keep], columns, problems, f"header row {header_at + 1}"
    )
    if len(names) != len(keep):  # a duplicate column; already reported
        return pd.DataFrame()
    labels = pd.Index([r for r, _ in data], name="row")
    frame = pd.DataFrame(
        {name: [cells[c] for _, cells in data] for name, c in zip(names, keep, strict=True)},
        index=labels,
        dtype=object,
    )
    for name in frame.columns:
        frame[name] = _convert(frame[name], name)
    frame.attrs.update(meta, headers=written, header_row=header_at + 1, source=problems.source)
    return frame


_LEADING_ZERO = re.compile(r"\s*0\d")


def _convert(values: pd.Series[Any], name: str) -> pd.Series[Any]:
    if name in TEXT_COLUMNS or (
        name not in NUMBER_COLUMNS
        and any(isinstance(v, str) and _LEADING_ZERO.match(v) for v in values)
    ):  # codes such as '0012' keep their zeros
        return values.map(_text).astype(object)
    try:
        parsed = values.map(parse_number).astype("float64")
    except ValueError:
        return values.map(lambda v: v.strip() if isinstance(v, str) else v).astype(object)
    if name not in NUMBER_COLUMNS and parsed.isna().all():
        return values.map(_text).astype(object)
    finite = parsed.dropna()
    if len(finite) and bool(np.isfinite(finite).all()) and bool((finite % 1 == 0).all()):
        return parsed.astype("Int64")
    return parsed


def read_table(
    path: str | PathLike[str],
    *,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a CSV/TXT or Excel table, with canonical column names and Excel row labels.

    See the module documentation for encodings, header detection and cell clean-up.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.txt`` or ``.tsv`` file (delimiter detected), or a ``.xlsx``/``.xlsm``
        (or, with xlrd installed, ``.xls``) workbook.
    sheet : str or int, optional, keyword-only
        Sheet name, or 0-based position; default the first sheet. Ignored for text files.
    columns : mapping of str to str, optional, keyword-only
        Extra header → canonical name mappings for headers :data:`COLUMN_ALIASES` does not
        know (e.g. ``{"社区名": "name"}``); they take precedence over the aliases.

    Returns
    -------
    pandas.DataFrame
        Columns renamed to canonical names where recognised (others keep their header, NFKC
        normalised). Canonical text columns (``name``, ``street``, ``district``, ``type``,
        ``code``, ``floor``, ``lift``, ``basement``) hold stripped text or None. Other columns
        are numbers (``Int64`` when whole, else ``float64``) when every cell is one, else
        left as read. The index, named ``row``, is the row number a user sees in Excel (for
        CSV: the 1-based record number). ``attrs`` holds ``source``, ``headers`` (canonical
        name → header as written), ``header_row`` and ``encoding`` or ``sheet``.

    Raises
    ------
    InputError
        The file cannot be read, is not UTF-8/GBK, shows garbled text (乱码), two columns
        mean the same thing, or the sheet does not exist (the message lists the sheets).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "社区.csv"
    >>> _ = path.write_text("社区名称,总户数\\n华一坡社区,\\"1,234\\"\\n", encoding="gbk")
    >>> table = read_table(path)
    >>> table.columns.tolist(), table.loc[2, "households"]
    (['name', 'households'], np.int64(1234))
    """
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows, meta = _xlsx_rows(path, sheet, source)
    elif suffix == ".xls":
        rows, meta = _xls_rows(path, sheet, source)
    elif suffix in LAYER_SUFFIXES:
        raise InputError(
            problems=[
                Problem(
                    source,
                    expected=f"a table ({', '.join(TABLE_SUFFIXES)})",
                    found=f"a {suffix} file: read layers with read_layer",
                )
            ]
        )
    else:
        rows, meta = _text_rows(path, source)
    problems = ProblemList(source)
    kinds = _garbled_problems(
        [(f"row {i + 1}", r) for i, r in enumerate(rows)],
        problems,
        encoding=meta.get("encoding", "Excel"),
    )
    if kinds:
        advice = " ".join(_GARBLED_ADVICE[k] for k in sorted(kinds))
        raise InputError(f"{source}: the text is garbled (乱码). {advice}", problems=problems.items)
    frame = _frame(rows, columns=columns or {}, problems=problems, meta=meta)
    problems.raise_if_any("the table")
    return frame


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------


def _shapefile_encoding(path: Path, frame: pd.DataFrame) -> str | None:
    """The encoding a shapefile without a .cpg file really has, if GDAL guessed Latin-1."""
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
        return None
    texts = [str(c) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object:
            texts += [v for v in frame[column].head(200) if isinstance(v, str)]
    for text in texts:
        found = garbled(text)
        if found is not None and found[0] == "utf8-as-latin1":
            return "UTF-8"
        if found is not None and found[0] == "gbk-as-latin1":
            return "GB18030"
    return None


def read_layer(
    path: str | PathLike[str],
    *,
    layer: str | int | None = None,
    columns: Mapping[str, str] | None = None,
) -> Any:
    """Read a vector layer with canonical column names and 1-based feature labels.

    Parameters
    ----------
    path : str or path-like
        GeoPackage, Shapefile, GeoJSON or anything else GDAL reads. A Shapefile without a
        ``.cpg`` file whose text GDAL decoded as Latin-1 is read again as UTF-8 or GBK,
        whichever its text is (with a warning in the log).
    layer : str or int, optional, keyword-only
        Layer name or 0-based position; default the first (the log names the others).
    columns : mapping of str to str, optional, keyword-only
        Extra header → canonical name mappings (see :func:`read_table`).

    Returns
    -------
    geopandas.GeoDataFrame
        Attribute columns renamed as in :func:`read_table`, geometry and CRS as in the file.
        The index, named ``feature``, numbers the features from 1 in file order.

    Raises
    ------
    InputError
        The file cannot be read, the layer does not exist (the message lists the layers), or
        two columns mean the same thing.
    """
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    source = str(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        raise InputError(
            problems=[
                Problem(
                    source,
                    expected=f"a layer ({', '.join(LAYER_SUFFIXES)})",
                    found=f"a {path.suffix} file: read tables with read_table",
                )
            ]
        )
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError, OSError, ...
        raise InputError(
            problems=[Problem(source, expected="a vector layer GDAL can read", found=f"{exc}")]
        ) from exc
    chosen = _pick_layer(layers, layer, source)
    try:
        frame = gpd.read_file(path, layer=chosen)
        encoding = _shapefile_encoding(path, frame)
        if encoding is not None:
            log.warning(
                "%s has no .cpg file and GDAL read its text as Latin-1; it is %s and was read "
                "again as such. Add a %s file containing '%s' to say so.",
                source,
                encoding,
                path.with_suffix(".cpg").name,
                "GBK" if encoding == "GB18030" else encoding,
            )
            frame = gpd.read_file(path, layer=chosen, encoding=encoding)
    except Exception as exc:  # pyogrio/GDAL errors of many kinds
        raise InputError(
            problems=[Problem(source, expected="a vector layer GDAL can read", found=f"{exc}")]
        ) from exc
    out = layer_frame(frame, source=source, columns=columns)
    out.attrs["layer"] = chosen
    return out


def layer_frame(frame: Any, *, source: str, columns: Mapping[str, str] | None = None) -> Any:
    """A copy of a GeoDataFrame with canonical column names, as :func:`read_layer` gives.

    The index becomes the 1-based feature number (``feature``); ``attrs`` gets ``source`` and
    ``headers``.

    Raises
    ------
    InputError
        If the frame has no geometry, or two columns mean the same thing.
    """
    import geopandas as gpd

    problems = ProblemList(source)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(
            problems=[
                Problem(source, expected="a layer with geometries", found="a table without any")
            ]
        )
    geometry = frame.geometry.name
    attributes = [c for c in frame.columns if c != geometry]
    names, written = _rename(attributes, columns or {}, problems, "attribute table")
    problems.raise_if_any("the layer")
    frame = frame.rename(columns=dict(zip(attributes, names, strict=True)))
    if geometry != "geometry" and "geometry" not in names:
        frame = frame.rename_geometry("geometry")
    for name in names:
        if name in TEXT_COLUMNS:
            frame[name] = frame[name].map(_text).astype(object)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="feature")
    frame.attrs = {"source": source, "headers": written}
    return frame


def is_table(path: str | PathLike[str]) -> bool:
    """Whether ``path`` is read as a table (:data:`TABLE_SUFFIXES`), not a layer."""
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def read_table_or_layer(
    path: str | PathLike[str],
    *,
    sheet: str | int | None = None,
    layer: str | int | None = None,
    columns: Mapping[str, str] | None = None,
) -> Any:
    """:func:`read_table` for a table file, :func:`read_layer` for anything else."""
    if is_table(path):
        return read_table(path, sheet=sheet, columns=columns)
    return read_layer(path, layer=layer, columns=columns)


def _pick_layer(layers: Sequence[str], layer: str | int | None, source: str) -> str | None:
    if layer is None:
        if len(layers) > 1:
            log.warning("%s: reading the first layer %r of %s", source, layers[0], list(layers))
        return layers[0] if layers else None
    if (
        isinstance(layer, int)
        and not isinstance(layer, bool)
        and -len(layers) <= layer < len(layers)
    ):
        return layers[layer]
    if isinstance(layer, str) and layer in layers:
        return layer
    listed = ", ".join(f"{i}: {n!r}" for i, n in enumerate(layers))
    raise InputError(
        problems=[Problem(source, expected=f"a layer, one of {listed}", found=f"layer={layer!r}")]
    )


# --------------------------------------------------------------------------------------------
# Locations: lon/lat columns and layer geometries to WGS-84, checked feature by feature
# --------------------------------------------------------------------------------------------

POINT = "point"
POLYGON = "polygon"
_KINDS = {"Point": POINT, "Polygon": POLYGON, "MultiPolygon": POLYGON}


def _coordinate_problems(
    frame: pd.DataFrame,
    labels: Sequence[Hashable],
    bounds: npt.NDArray[np.float64],
    parsed: pyproj.CRS | OffsetCRS,
    problems: ProblemList,
    what: str,
) -> npt.NDArray[np.bool_]:
    """Check each row's extent (minx, miny, maxx, maxy) against what the CRS allows."""
    if isinstance(parsed, OffsetCRS):
        ok: npt.NDArray[np.bool_] = np.asarray(
            (bounds[:, 0] >= CHINA_LON_MIN)
            & (bounds[:, 2] <= CHINA_LON_MAX)
            & (bounds[:, 1] >= CHINA_LAT_MIN)
            & (bounds[:, 3] <= CHINA_LAT_MAX),
            dtype=bool,
        )
        expected = (
            f"{parsed.value} coordinates inside China (lon {CHINA_LON_MIN} to {CHINA_LON_MAX}, "
            f"lat {CHINA_LAT_MIN} to {CHINA_LAT_MAX}; {parsed.value} exists only there, so check "
            "the CRS)"
        )
    elif parsed.is_geographic:
        ok = np.asarray(
            (np.abs(bounds[:, [0, 2]]) <= 180.0).all(axis=1)
            & (np.abs(bounds[:, [1, 3]]) <= 90.0).all(axis=1),
            dtype=bool,
        )
        expected = (
            f"longitude within ±180 and latitude within ±90 degrees ({parsed.name} is in "
            "degrees; projected metres need their projected CRS, e.g. crs='EPSG:32648')"
        )
    else:
        return np.asarray(np.isfinite(bounds).all(axis=1), dtype=bool)
    for i in np.flatnonzero(~ok).tolist():
        b = bounds[i]
        found = (
            f"(lon, lat) = ({b[0]:.6g}, {b[1]:.6g})"
            if b[0] == b[2] and b[1] == b[3]
            else f"{what} spanning lon {b[0]:.6g} to {b[2]:.6g}, lat {b[1]:.6g} to {b[3]:.6g}"
        )
        problems.add(row_label(frame, labels[i]), expected=expected, found=found, crs=True)
    return ok


def _parse_declared(crs: CRSLike | None, problems: ProblemList, *, missing: str) -> Any:
    if crs is None:
        problems.add(
            "",
            expected="a declared coordinate system: crs='GCJ02' for Amap/Tencent coordinates, "
            "'BD09' for Baidu, 'WGS84' for GPS or OpenStreetMap, 'CGCS2000', or an EPSG code",
            found=missing,
            crs=True,
        )
        return None
    try:
        return parse_crs(crs, source=problems.source)
    except CRSError as exc:
        problems.extend(exc.problems, crs=True)
        return None


def points_from_lonlat(frame: pd.DataFrame, *, crs: CRSLike | None, problems: ProblemList) -> Any:
    """WGS-84 points from a table's ``lon``/``lat`` columns declared in ``crs``.

    Tables carry no CRS, so ``crs`` must be given (Chinese tables hold GCJ-02 from Amap as
    often as WGS-84: guessing would shift points by about 500 m). Returns a GeoSeries indexed
    like ``frame``, None where a row has a problem (added to ``problems``).
    """
    import geopandas as gpd
    import shapely

    out = gpd.GeoSeries([None] * len(frame), index=frame.index, crs="EPSG:4326")
    parsed = _parse_declared(crs, problems, missing="no crs= (a table does not say)")
    expected = "a coordinate (number)"
    lon = numbers(frame, "lon", problems=problems, expected=expected, minimum=None, required=True)
    lat = numbers(frame, "lat", problems=problems, expected=expected, minimum=None, required=True)
    if parsed is None:
        return out
    given = (lon.notna() & lat.notna()).to_numpy()
    x = lon.to_numpy()[given]
    y = lat.to_numpy()[given]
    labels = frame.index[given].tolist()
    ok = _coordinate_problems(
        frame, labels, np.column_stack([x, y, x, y]), parsed, problems, "point"
    )
    try:
        wx, wy = to_wgs84(x[ok], y[ok], crs=parsed, source=problems.source)
    except CRSError as exc:
        problems.extend(exc.problems, crs=True)
        return out
    keep = np.flatnonzero(given)[ok]
    out.iloc[keep] = shapely.points(wx, wy)
    return out


def layer_to_wgs84(
    frame: Any,
    *,
    crs: CRSLike | None,
    problems: ProblemList,
    warnings: list[str],
    kinds: tuple[str, ...] = (POINT, POLYGON),
) -> Any:
    """A layer's geometries in WGS-84, checked feature by feature.

    ``crs`` overrides the layer's own CRS (e.g. GCJ-02 data that calls itself EPSG:4326).
    Missing, empty or wrongly typed geometries and coordinates that cannot be right for the
    CRS are problems; invalid polygons are repaired (``make_valid``, keeping polygons) with a
    warning appended to ``warnings``, or are problems if nothing is left. Returns a GeoSeries
    indexed like ``frame`` (CRS EPSG:4326), None where a feature has a problem.
    """
    import geopandas as gpd
    import shapely

    out = gpd.GeoSeries([None] * len(frame), index=frame.index, crs="EPSG:4326")
    if crs is not None and frame.crs is not None:
        log.info("%s: the layer says %s; read as %s (crs=)", problems.source, frame.crs, crs)
    parsed = _parse_declared(
        crs if crs is not None else frame.crs,
        problems,
        missing="no CRS in the file (a Shapefile needs its .prj) and no crs=",
    )
    allowed = " or ".join(k for k in kinds)
    values = frame.geometry.to_numpy()
    labels = frame.index.tolist()
    good = np.ones(len(values), dtype=bool)
    for i, geom in enumerate(values):
        where = row_label(frame, labels[i])
        if geom is None:
            problems.add(where, expected=f"a {allowed} geometry", found="no geometry")
        elif geom.is_empty:
            problems.add(where, expected=f"a {allowed} geometry", found="an empty geometry")
        elif _KINDS.get(geom.geom_type) not in kinds:
            problems.add(where, expected=f"a {allowed} geometry", found=geom.geom_type)
        else:
            continue
        good[i] = False
    if parsed is None or not good.any():
        return out
    idx = np.flatnonzero(good)
    ok = _coordinate_problems(
        frame, [labels[i] for i in idx], shapely.bounds(values[idx]), parsed, problems, "a shape"
    )
    idx = idx[ok]
    try:
        converted = geometries_to_wgs84(
            frame.geometry.iloc[idx], crs=parsed, source=problems.source
        ).to_numpy()
    except CRSError as exc:
        problems.extend(exc.problems, crs=True)
        return out
    invalid = ~shapely.is_valid(converted)
    for j in np.flatnonzero(invalid).tolist():
        where = row_label(frame, labels[idx[j]])
        reason = shapely.is_valid_reason(converted[j])
        fixed = shapely.make_valid(converted[j], method="structure", keep_collapsed=False)
        if fixed.is_empty or _KINDS.get(fixed.geom_type) != _KINDS[converted[j].geom_type]:
            problems.add(
                where,
                expected=f"a valid {allowed} geometry",
                found=f"an invalid geometry ({reason}) that make_valid cannot repair",
            )
            converted[j] = None
            continue
        converted[j] = fixed
        warnings.append(
            f"{problems.source}, {where}: invalid geometry ({reason}) repaired with "
            "shapely.make_valid; check it in a GIS"
        )
    out.iloc[idx] = converted
    return out


def geometry_kinds(geometries: Any) -> pd.Series[Any]:
    """``"point"`` or ``"polygon"`` for each geometry (None where missing)."""
    return pd.Series(
        [None if g is None else _KINDS.get(g.geom_type) for g in geometries],
        index=geometries.index,
        dtype=object,
    )
