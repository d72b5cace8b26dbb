"""Excel workbooks for planners: Chinese headers, frozen header row, widths and number formats.

Each DataFrame becomes a sheet. Column names stay linli's (``walk_min_clinic``,
``deficit_m2``) in the data and in a glossary on the notes sheet, while the header row shows
the Chinese names given in ``headers_zh``. Number formats follow the unit in the column name
(see :func:`linli.reports._text.column_formats`): minutes ``0.0``, areas and lengths
``#,##0``, shares ``0%``, households and population ``#,##0``; other decimals ``#,##0.00``.

Written with openpyxl in write-only mode (rows are streamed, so a sheet of every building of
a city fits in memory) and atomically: on any error nothing is left at the target path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linli._errors import InputError, Problem
from linli._io import atomic_path
from linli.reports._text import Lang, check_lang, column_formats, display_width, is_missing

__all__ = ["write_workbook"]

logger = logging.getLogger(__name__)

_FORBIDDEN = set("[]:*?/\\")
_MAX_WIDTH = 60
_MIN_WIDTH = 6
_WIDTH_SAMPLE_ROWS = 2000


@dataclass(frozen=True)
class _NotesText:
    sheet: str
    notes: str
    columns: str
    glossary: tuple[str, str, str, str]


_NOTES_TEXT = {
    "zh": _NotesText("说明", "说明", "字段说明", ("工作表", "字段名", "表头", "数字格式")),
    "en": _NotesText("Notes", "Notes", "Columns", ("Sheet", "Field", "Header", "Number format")),
}


def write_workbook(
    path: str | Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    headers_zh: Mapping[str, str] | None = None,
    notes: Sequence[str] | Mapping[str, str] | None = None,
    number_formats: Mapping[str, str] | None = None,
    lang: Lang = "zh",
    index: bool = False,
) -> Path:
    """Write DataFrames to an ``.xlsx`` workbook, one sheet each, plus a notes sheet.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file to write; its folder is created. Written atomically.
    sheets : mapping of str to DataFrame
        Sheet name (at most 31 characters, none of ``[]:*?/\\``) -> table, in order.
        Geometry columns are left out (the GeoPackage carries the geometries).
    headers_zh : mapping of str to str, optional
        Column name -> header text (e.g. ``{"deficit_m2": "面积缺口（m²）"}``), for every sheet;
        columns without one show their name.
    notes : sequence of str or mapping of str to str, optional
        Lines of the notes sheet (method, sources, licences), or ``label: text`` pairs
        (e.g. ``{"标准": "chongqing-2019", "人口": "七普 2020"}``). The notes sheet also lists
        every sheet's columns with their headers and number formats.
    number_formats : mapping of str to str, optional
        Column name -> Excel number format, overriding the one implied by the name.
    lang : {"zh", "en"}
        Language of the notes sheet's name and headings ("说明" / "Notes").
    index : bool
        Write each DataFrame's index as the first column(s).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        If a sheet name is invalid or repeated, a sheet is not a DataFrame, or a cell holds a
        value Excel cannot store (the message names the sheet, the row and the column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "audit.xlsx"
    >>> df = pd.DataFrame({"name": ["七星岗社区"], "walk_min_clinic": [7.25],
    ...                    "deficit_m2": [1234.0], "share_10min": [0.8]})
    >>> _ = write_workbook(out, {"社区": df}, headers_zh={"name": "社区名称"},
    ...                    notes=["数据：© OpenStreetMap contributors, ODbL 1.0"])
    >>> import openpyxl
    >>> ws = openpyxl.load_workbook(out)["社区"]
    >>> ws["A1"].value, ws["B2"].number_format, ws["D2"].number_format, ws.freeze_panes
    ('社区名称', '0.0', '0%', 'A2')
    """
    import openpyxl  # type: ignore[import-untyped,unused-ignore]

    lang = check_lang(lang)
    texts = _NOTES_TEXT[lang]
    _check_sheets(sheets, notes_sheet=texts.sheet)
    headers = dict(headers_zh or {})
    overrides = dict(number_formats or {})

    wb = openpyxl.Workbook(write_only=True)
    glossary: list[tuple[str, str, str, str]] = []
    target = Path(path)
    with atomic_path(target) as tmp:
        try:
            for name, frame in sheets.items():
                df = _prepared(frame, index=index)
                formats = [_number_format(df[c], str(c), overrides) for c in df.columns]
                _write_sheet(wb, name, df, headers, formats)
                glossary.extend(
                    (name, str(c), headers.get(str(c), str(c)), fmt)
                    for c, fmt in zip(df.columns, formats, strict=True)
                )
            _write_notes(wb, texts, notes, glossary)
            wb.save(tmp)
        except BaseException:
            _discard(wb)
            raise
    logger.info("wrote %s (%d sheets)", target, len(sheets) + 1)
    return target


def _discard(wb: Any) -> None:
    """Close the streamed sheets of a workbook that will not be saved, and drop their
    temporary files (write-only sheets stream rows to a temporary file each)."""
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):
            ws.close()
        writer = getattr(ws, "_writer", None)
        with contextlib.suppress(Exception):
            writer.cleanup()  # type: ignore[union-attr]


def _check_sheets(sheets: Mapping[str, Any], *, notes_sheet: str) -> None:
    problems: list[Problem] = []
    seen: set[str] = {notes_sheet.lower()}
    if not isinstance(sheets, Mapping):
        raise InputError(
            problems=[
                Problem(
                    "workbook",
                    expected="a mapping sheet name -> DataFrame",
                    found=type(sheets).__name__,
                )
            ]
        )
    for name, frame in sheets.items():
        where = f"sheet {name!r}"
        if not isinstance(name, str) or not name.strip():
            problems.append(
                Problem("workbook", where=where, expected="a non-empty name", found=repr(name))
            )
            continue
        bad = sorted(set(name) & _FORBIDDEN)
        if len(name) > 31 or bad or name.startswith("'") or name.endswith("'"):
            found = f"{len(name)} characters" if len(name) > 31 else f"characters {bad!r}"
            if not bad and len(name) <= 31:
                found = "a leading or trailing apostrophe"
            problems.append(
                Problem(
                    "workbook",
                    where=where,
                    expected="at most 31 characters, none of [ ] : * ? / \\ (Excel's rules)",
                    found=found,
                )
            )
        if name.lower() in seen:
            problems.append(
                Problem(
                    "workbook",
                    where=where,
                    expected="a name used once (Excel ignores case; the notes sheet is "
                    f"{notes_sheet!r})",
                    found="a repeated name",
                )
            )
        seen.add(name.lower())
        if not isinstance(frame, pd.DataFrame):
            problems.append(
                Problem(
                    "workbook",
                    where=where,
                    expected="a pandas DataFrame",
                    found=type(frame).__name__,
                )
            )
    if problems:
        raise InputError("cannot write the workbook", problems=problems)


def _prepared(frame: pd.DataFrame, *, index: bool) -> pd.DataFrame:
    geometry = [c for c in frame.columns if str(frame[c].dtype) == "geometry"]
    df = pd.DataFrame(frame.drop(columns=geometry))
    return df.reset_index() if index else df


def _number_format(series: pd.Series, column: str, overrides: Mapping[str, str]) -> str:
    if column in overrides:
        return overrides[column]
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return "General"
    implied = column_formats(column)
    if implied is not None:
        return implied[0]
    if pd.api.types.is_integer_dtype(series):
        return "#,##0"
    return "#,##0.00"


def _write_sheet(
    wb: Any, name: str, df: pd.DataFrame, headers: Mapping[str, str], formats: list[str]
) -> None:
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped,unused-ignore]
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # type: ignore[import-untyped,unused-ignore]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped,unused-ignore]

    ws = wb.create_sheet(title=name)
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    labels = [headers.get(str(c), str(c)) for c in df.columns]

    # Widths must be set before the first row is streamed.
    for j, (column, label) in enumerate(zip(df.columns, labels, strict=True), start=1):
        sample = df[column].iloc[:_WIDTH_SAMPLE_ROWS]
        widest = max([display_width(label), *(_shown_width(v) for v in sample)])
        ws.column_dimensions[get_column_letter(j)].width = min(
            max(widest + 2, _MIN_WIDTH), _MAX_WIDTH
        )

    bold = Font(bold=True)
    fill = PatternFill("solid", start_color="FFE8EEF4")
    border = Border(bottom=Side(style="thin", color="FF8C959F"))
    wrap = Alignment(wrap_text=True, vertical="center")
    header = []
    for label in labels:
        cell = WriteOnlyCell(ws, value=label)
        cell.font, cell.fill, cell.border, cell.alignment = bold, fill, border, wrap
        header.append(cell)
    ws.append(header)

    for i, values in enumerate(df.itertuples(index=False, name=None), start=2):
        row = []
        for j, (value, fmt) in enumerate(zip(values, formats, strict=True)):
            try:
                cell = WriteOnlyCell(ws, value=_excel_value(value))
            except (TypeError, ValueError) as exc:
                raise InputError(
                    problems=[
                        Problem(
                            f"sheet {name!r}",
                            where=f"row {i}, column {df.columns[j]!r}",
                            expected="a number, text, date or empty cell",
                            found=f"{type(value).__name__} {value!r:.60} ({exc})",
                        )
                    ]
                ) from exc
            if fmt != "General":
                cell.number_format = fmt
            row.append(cell)
        ws.append(row)
    if len(df.columns):
        last = get_column_letter(len(df.columns))
        ws.auto_filter.ref = f"A1:{last}{len(df) + 1}"


def _excel_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # Excel has no time zones; keep the wall time
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _shown_width(value: Any) -> int:
    if is_missing(value):
        return 0
    if isinstance(value, float | np.floating):
        return len(f"{float(value):,.2f}")
    if isinstance(value, int | np.integer):
        return len(f"{int(value):,}")
    return display_width(str(value))


def _write_notes(
    wb: Any,
    texts: _NotesText,
    notes: Sequence[str] | Mapping[str, str] | None,
    glossary: list[tuple[str, str, str, str]],
) -> None:
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped,unused-ignore]
    from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]

    ws = wb.create_sheet(title=texts.sheet)
    for letter, width in zip("ABCD", (20, 30, 30, 14), strict=True):
        ws.column_dimensions[letter].width = width
    bold = Font(bold=True)

    def heading(text: str) -> list[Any]:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = Font(bold=True, size=12)
        return [cell]

    # Note texts are not wrapped: Excel lets them run on over the empty cells to the right.
    ws.append(heading(texts.notes))
    if isinstance(notes, Mapping):
        for key, text in notes.items():
            k = WriteOnlyCell(ws, value=str(key))
            k.font = bold
            ws.append([k, str(text)])
    else:
        for line in notes or ():
            ws.append([str(line)])
    ws.append([])
    ws.append(heading(texts.columns))
    head = []
    for label in texts.glossary:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for row in glossary:
        ws.append(list(row))
