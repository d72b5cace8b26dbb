"""The HTML report: one self-contained file that opens offline.

Planners read linli's reports on government intranets, often with no Internet at all, so the
report is **one file** with everything inline: CSS, a few lines of vanilla JavaScript (sortable
tables, map layer toggles), maps and charts as inline SVG. It references no URL: no CDN, no
online tiles, no web fonts. Text uses fonts already on the reader's machine, through a font
stack that finds a Chinese font on Windows (Microsoft YaHei, SimSun), macOS (PingFang SC) and
Linux (Noto Sans CJK SC, WenQuanYi). A Content-Security-Policy in the page forbids the browser
to load anything from elsewhere, so a reference slipped in by mistake fails visibly, offline
and online alike.

A report is built from generic blocks, so the audit and the planning report share them:

- :class:`Figure` -- a headline number with its unit (the summary cards under the title);
- :class:`Section` -- a titled part holding blocks in order: :class:`Text`, :class:`Figures`
  (a row of cards), :class:`~linli.reports.maps.MapSpec`, :class:`~linli.reports.charts.BarChart`,
  :class:`~linli.reports.charts.Histogram`, :class:`Table`;
- :class:`Source` -- a data source and its licence, listed at the end with the method notes.

The report layer only draws what the analysis hands it: it computes nothing.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
>>> path = write_report(out, title="渝中区邻里中心评估",
...     figures=[Figure(label="社区覆盖率", value=0.62, fmt="{:.0%}")],
...     sections=[Section(title="社区", blocks=[
...         Text(text="各社区的服务面积缺口。"),
...         Table(data=pd.DataFrame({"name": ["七星岗社区"], "deficit_m2": [120.0]}),
...               headers={"name": "社区", "deficit_m2": "缺口（m²）"})])],
...     sources=[OSM_SOURCE])
>>> "七星岗社区" in path.read_text(encoding="utf-8")
True
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from linli._errors import InputError, Problem
from linli._io import atomic_path
from linli.reports._text import (
    FONT_STACK,
    Formatter,
    Lang,
    check_lang,
    column_formats,
    esc,
    finite_or_none,
    format_value,
    is_missing,
    ui,
)
from linli.reports.charts import BarChart, Histogram, render_chart
from linli.reports.maps import MapSpec, layer_id, render_map

__all__ = [
    "OSM_SOURCE",
    "Block",
    "Figure",
    "Figures",
    "Section",
    "Source",
    "Table",
    "Text",
    "render_report",
    "write_report",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Text:
    """Plain text (escaped, never HTML); blank lines separate paragraphs.

    ``kind`` ``"note"`` draws a grey box (a remark on method or data), ``"warning"`` an amber
    one (e.g. "facilities are hypothetical").
    """

    text: str
    kind: Literal["paragraph", "note", "warning"] = "paragraph"


@dataclass(frozen=True, kw_only=True)
class Figure:
    """A headline number: label, value, unit (e.g. 社区覆盖率 62 %, 缺口面积 12,300 m²).

    Parameters
    ----------
    label : str
    value : number or str
        Numbers are formatted with ``fmt`` (default: thousands separators); text is shown as is.
    unit : str
        Shown after the value, smaller (e.g. ``"m²"``, ``"人"``, ``"分钟"``).
    fmt : str or callable, optional
        e.g. ``"{:.0%}"`` for a share.
    note : str
        A line under the value, e.g. "目标 100%".
    tone : {"neutral", "good", "warning", "bad"}
        Colour of the card's edge, to flag a figure against its target.
    """

    label: str
    value: Any
    unit: str = ""
    fmt: Formatter | None = None
    note: str = ""
    tone: Literal["neutral", "good", "warning", "bad"] = "neutral"


@dataclass(frozen=True, kw_only=True)
class Figures:
    """A row of :class:`Figure` cards inside a section."""

    figures: Sequence[Figure]


@dataclass(frozen=True, kw_only=True)
class Table:
    """A table of a DataFrame, sortable by clicking a column header.

    Parameters
    ----------
    data : pandas.DataFrame
        Geometry columns are left out.
    caption : str
    headers : mapping, optional
        Column -> header text (e.g. Chinese names); other columns show their names.
    formats : mapping, optional
        Column -> format; default from the unit in the name (``*_min`` 0.0, ``*_m2`` #,##0,
        ``share*`` %), else thousands separators.
    max_rows : int, optional
        Rows shown (the rest are counted in a note: the full table belongs in the workbook).
    sortable : bool
    index : bool
        Show the index as the first column.
    """

    data: pd.DataFrame
    caption: str = ""
    headers: Mapping[str, str] | None = None
    formats: Mapping[str, Formatter] | None = None
    max_rows: int | None = 500
    sortable: bool = True
    index: bool = False


Block = Text | Figures | MapSpec | BarChart | Histogram | Table
"""What a :class:`Section` holds."""


@dataclass(frozen=True, kw_only=True)
class Section:
    """A titled part of the report: blocks drawn in order."""

    title: str
    blocks: Sequence[Block] = ()


@dataclass(frozen=True, kw_only=True)
class Source:
    """A data source with its licence and the attribution the licence asks for.

    ``url`` is shown as text, not as a link: the report must not point the browser anywhere.
    """

    name: str
    licence: str
    attribution: str = ""
    note: str = ""
    url: str = ""


OSM_SOURCE = Source(
    name="OpenStreetMap",
    licence="ODbL 1.0 (Open Database License)",
    attribution="© OpenStreetMap contributors",
    note="Derived data published with this report stay under the ODbL.",
    url="openstreetmap.org/copyright",
)
"""OpenStreetMap's source line: walk network, buildings and POIs come from it."""


def write_report(
    path: str | Path,
    *,
    title: str,
    sections: Sequence[Section],
    lang: Lang = "zh",
    sources: Sequence[Source] = (),
    figures: Sequence[Figure] = (),
    subtitle: str = "",
    method_notes: Sequence[str] = (),
    date: dt.date | str | None = None,
) -> Path:
    """Write a report as one self-contained HTML file, atomically.

    Parameters
    ----------
    path : str or Path
        The file to write (e.g. ``out/report.html``); its folder is created. Nothing is left
        at ``path`` (nor beside it) if drawing or writing fails.
    title : str
        The report's title (header and browser tab).
    sections : sequence of Section
        The body, in order; listed in a table of contents.
    lang : {"zh", "en"}
        Language of the report's own words (headings such as 方法说明, legends, notes).
    sources : sequence of Source
        Data sources and licences, listed at the end (e.g. :data:`OSM_SOURCE`).
    figures : sequence of Figure
        Summary cards under the title.
    subtitle : str
        A line under the title (e.g. the area and the standard).
    method_notes : sequence of str
        Paragraphs of the method notes (one item each).
    date : date or str, optional
        The date printed in the header; default today.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        If a block cannot be drawn (the message names the section and the block).
    """
    text = render_report(
        title=title,
        sections=sections,
        lang=lang,
        sources=sources,
        figures=figures,
        subtitle=subtitle,
        method_notes=method_notes,
        date=date,
    )
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    logger.info("wrote %s (%.2f MB)", target, len(text.encode("utf-8")) / 1e6)
    return target


def render_report(
    *,
    title: str,
    sections: Sequence[Section],
    lang: Lang = "zh",
    sources: Sequence[Source] = (),
    figures: Sequence[Figure] = (),
    subtitle: str = "",
    method_notes: Sequence[str] = (),
    date: dt.date | str | None = None,
) -> str:
    """The report's HTML as a string; see :func:`write_report` for the parameters."""
    lang = check_lang(lang)
    from linli import __version__

    when = date if isinstance(date, str) else (date or dt.date.today()).isoformat()
    counter = _Counter()
    body: list[str] = []
    toc: list[tuple[str, str]] = []
    for i, section in enumerate(sections, start=1):
        if not isinstance(section, Section):
            raise InputError(
                problems=[
                    Problem(
                        "report",
                        where=f"section {i}",
                        expected="a Section",
                        found=type(section).__name__,
                    )
                ]
            )
        sid = f"s{i}"
        toc.append((sid, section.title))
        blocks = [
            _block(block, lang=lang, counter=counter, where=f"section {section.title!r}")
            for block in section.blocks
        ]
        body.append(
            f'<section class="block" id="{sid}" aria-labelledby="{sid}-h">'
            f'<h2 id="{sid}-h">{esc(section.title)}</h2>{"".join(blocks)}</section>'
        )
    if method_notes:
        toc.append(("method", ui(lang, "method")))
        items = "".join(f"<li>{_paragraphs_inline(n)}</li>" for n in method_notes)
        body.append(
            f'<section class="block" id="method"><h2>{esc(ui(lang, "method"))}</h2>'
            f'<ol class="notes">{items}</ol></section>'
        )
    toc.append(("sources", ui(lang, "sources")))
    body.append(_sources(sources, lang))

    html_lang = "zh-CN" if lang == "zh" else "en"
    head = (
        "<!DOCTYPE html>"
        f'<html lang="{html_lang}"><head><meta charset="utf-8">'
        # Nothing may be fetched: inline styles, scripts and data: images only.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="linli {esc(__version__)}">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
    )
    header = (
        '<header class="report-header"><div class="wrap">'
        f'<p class="kicker">{esc(ui(lang, "kicker"))}</p>'
        f'<h1 id="report-title">{esc(title)}</h1>'
        + (f'<p class="subtitle">{esc(subtitle)}</p>' if subtitle else "")
        + f'<p class="meta">{esc(ui(lang, "generated"))}: <time datetime="{esc(when)}">'
        f"{esc(when)}</time> · {esc(ui(lang, 'generator'))}: linli {esc(__version__)}</p>"
        "</div></header>"
    )
    summary = (
        f'<section class="summary" aria-label="{esc(ui(lang, "summary"))}">'
        f"{_cards(figures)}</section>"
        if figures
        else ""
    )
    nav = (
        f'<nav class="toc block" aria-label="{esc(ui(lang, "contents"))}">'
        f"<h2>{esc(ui(lang, 'contents'))}</h2><ol>"
        + "".join(f'<li><a href="#{sid}">{esc(name)}</a></li>' for sid, name in toc)
        + "</ol></nav>"
    )
    footer = (
        '<footer class="report-footer"><div class="wrap">'
        f"{esc(title)} · {esc(when)} · linli {esc(__version__)}"
        + "".join(f" · {esc(s.attribution)}" for s in sources if s.attribution)
        + "</div></footer>"
    )
    return (
        head
        + header
        + '<main class="wrap">'
        + summary
        + nav
        + "".join(body)
        + "</main>"
        + footer
        + f"<script>{_JS}</script></body></html>"
    )


class _Counter:
    """Numbers of figures (maps and charts) and tables."""

    def __init__(self) -> None:
        self.figures = 0
        self.tables = 0
        self.maps = 0


def _block(block: object, *, lang: Lang, counter: _Counter, where: str) -> str:
    if isinstance(block, Text):
        return _text_block(block)
    if isinstance(block, Figures):
        return _cards(block.figures)
    if isinstance(block, MapSpec):
        return _map_block(block, lang=lang, counter=counter)
    if isinstance(block, BarChart | Histogram):
        counter.figures += 1
        heading = _heading(f"{ui(lang, 'figure')} {counter.figures}", block.title, lang)
        return _figure(heading, render_chart(block, lang=lang), block.caption, "chart")
    if isinstance(block, Table):
        return _table(block, lang=lang, counter=counter)
    raise InputError(
        problems=[
            Problem(
                "report",
                where=where,
                expected="a block: Text, Figures, MapSpec, BarChart, Histogram or Table",
                found=type(block).__name__,
            )
        ]
    )


def _text_block(block: Text) -> str:
    cls = {"paragraph": "text", "note": "note", "warning": "warning"}[block.kind]
    return f'<div class="{cls}">{_paragraphs(block.text)}</div>'


def _paragraphs(text: str) -> str:
    paras = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{esc(p).replace(chr(10), '<br>')}</p>" for p in paras)


def _paragraphs_inline(text: str) -> str:
    return esc(text.strip()).replace("\n", "<br>")


def _cards(figures: Sequence[Figure]) -> str:
    cards = []
    for f in figures:
        value = f.value if isinstance(f.value, str) else format_value(f.value, f.fmt)
        unit = f'<span class="unit">{esc(f.unit)}</span>' if f.unit else ""
        note = f'<div class="note-line">{esc(f.note)}</div>' if f.note else ""
        cards.append(
            f'<div class="card tone-{esc(f.tone)}"><div class="label">{esc(f.label)}</div>'
            f'<div class="value">{esc(value)}{unit}</div>{note}</div>'
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _heading(label: str, title: str, lang: Lang) -> str:
    """'图 3　标题' / 'Figure 3. Title'."""
    if not title:
        return label
    return f"{label}　{title}" if lang == "zh" else f"{label}. {title}"


def _figure(heading: str, svg: str, caption: str, kind: str) -> str:
    return (
        f'<figure class="{kind}-figure"><div class="fig-title">{esc(heading)}</div>'
        f'<div class="svg-wrap">{svg}</div>'
        + (f"<figcaption>{esc(caption)}</figcaption>" if caption else "")
        + "</figure>"
    )


def _map_block(spec: MapSpec, *, lang: Lang, counter: _Counter) -> str:
    counter.maps += 1
    counter.figures += 1
    map_id = f"map-{counter.maps}"
    svg = render_map(spec, lang=lang, map_id=map_id)
    toggles = [
        f'<label><input type="checkbox" checked data-layer="{esc(layer_id(map_id, i))}"> '
        f"{esc(layer.name)}</label>"
        for i, layer in enumerate(spec.layers)
        if layer.toggle and layer.name
    ]
    heading = _heading(f"{ui(lang, 'figure')} {counter.figures}", spec.title, lang)
    html = _figure(heading, svg, spec.caption, "map")
    if len(toggles) > 1:
        bar = (
            f'<div class="layer-toggles" role="group" aria-label="{esc(ui(lang, "layers"))}">'
            f"<span>{esc(ui(lang, 'layers'))}:</span>{''.join(toggles)}</div>"
        )
        html = html.replace('<div class="svg-wrap">', bar + '<div class="svg-wrap">', 1)
    return html


def _table(table: Table, *, lang: Lang, counter: _Counter) -> str:
    counter.tables += 1
    df = table.data
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            problems=[Problem("Table", expected="a pandas DataFrame", found=type(df).__name__)]
        )
    geometry = [c for c in df.columns if str(df[c].dtype) == "geometry"]
    df = df.drop(columns=geometry)
    if table.index:
        df = df.reset_index()
    total = len(df)
    if table.max_rows is not None and total > table.max_rows:
        df = df.iloc[: table.max_rows]
    headers = dict(table.headers or {})
    formats = dict(table.formats or {})
    columns = list(df.columns)
    numeric = [
        pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        for c in columns
    ]
    fmts: list[Formatter | None] = []
    for c in columns:
        if c in formats:
            fmts.append(formats[c])
        else:
            implied = column_formats(str(c))
            fmts.append(implied[1] if implied else None)
    num_attr = ' data-type="num"'
    head = "".join(
        f'<th scope="col"{num_attr if num else ""}>'
        + (
            f'<button type="button">{esc(headers.get(c, c))}</button>'
            if table.sortable
            else esc(headers.get(c, c))
        )
        + "</th>"
        for c, num in zip(columns, numeric, strict=True)
    )
    rows = []
    for values in df.itertuples(index=False, name=None):
        cells = []
        for v, num, fmt in zip(values, numeric, fmts, strict=True):
            text = esc(format_value(v, fmt))
            if num:
                x = finite_or_none(v)
                key = "" if x is None else repr(x)
                cells.append(f'<td class="num" data-v="{key}">{text}</td>')
            else:
                cells.append(f"<td>{text if not is_missing(v) else '–'}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    notes = []
    if len(df) < total:
        notes.append(ui(lang, "showing_rows").format(shown=f"{len(df):,}", total=f"{total:,}"))
    if table.sortable and len(df) > 1:
        notes.append(ui(lang, "sort_hint"))
    heading = _heading(f"{ui(lang, 'table')} {counter.tables}", table.caption, lang)
    cls = "data sortable" if table.sortable else "data"
    return (
        f'<figure class="table-figure"><div class="fig-title">{esc(heading)}</div>'
        f'<div class="table-wrap"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        + (f'<p class="table-note">{esc(" · ".join(notes))}</p>' if notes else "")
        + "</figure>"
    )


def _sources(sources: Sequence[Source], lang: Lang) -> str:
    rows = "".join(
        "<tr>"
        f"<td>{esc(s.name)}</td><td>{esc(s.licence)}</td><td>{esc(s.attribution)}</td>"
        f"<td>{esc(s.note)}{(' (' + esc(s.url) + ')') if s.url else ''}</td>"
        "</tr>"
        for s in sources
    )
    table = (
        '<table class="data sources"><thead><tr>'
        f"<th>{esc(ui(lang, 'source'))}</th><th>{esc(ui(lang, 'licence'))}</th>"
        f"<th>{esc(ui(lang, 'attribution'))}</th><th>{esc(ui(lang, 'remarks'))}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if sources
        else ""
    )
    return (
        f'<section class="block" id="sources"><h2>{esc(ui(lang, "sources"))}</h2>{table}'
        f'<p class="offline">{esc(ui(lang, "offline_note"))}</p></section>'
    )


_CSS = """
:root{--ink:#1f2328;--muted:#5b6270;--line:#d8dde3;--accent:#1d4f73;--bg:#f4f5f7;
--good:#1a7f37;--warning:#9a6700;--bad:#b42318}
*{box-sizing:border-box}
html{font-family:FONTS;color:var(--ink);background:var(--bg);line-height:1.65;
-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0}
.wrap{max-width:1120px;margin:0 auto;padding:0 24px}
.report-header{background:var(--accent);color:#fff;padding:26px 0 22px}
.report-header h1{margin:0;font-size:28px;line-height:1.3;letter-spacing:.02em}
.kicker{margin:0 0 6px;font-size:13px;opacity:.8;letter-spacing:.06em}
.subtitle{margin:6px 0 0;font-size:16px;opacity:.92}
.meta{margin:10px 0 0;font-size:13px;opacity:.8}
main{padding:22px 24px 36px}
.summary{margin:0 0 18px}
.block{background:#fff;border:1px solid var(--line);border-radius:6px;padding:18px 24px;
margin:0 0 18px}
h2{font-size:20px;margin:0 0 12px;padding-bottom:6px;color:var(--accent);
border-bottom:1px solid var(--line)}
p{margin:0 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px;
margin:6px 0 14px}
.card{background:#fff;border:1px solid var(--line);border-left:4px solid var(--accent);
border-radius:4px;padding:10px 14px}
.card.tone-good{border-left-color:var(--good)}
.card.tone-warning{border-left-color:var(--warning)}.card.tone-bad{border-left-color:var(--bad)}
.card .label{font-size:13px;color:var(--muted)}
.card .value{font-size:27px;font-weight:700;line-height:1.25;font-variant-numeric:tabular-nums}
.card .unit{font-size:14px;font-weight:400;color:var(--muted);margin-left:4px}
.card .note-line{font-size:12px;color:var(--muted)}
.toc ol{margin:0;padding-left:22px;columns:2;column-gap:32px}
.toc a{color:var(--accent);text-decoration:none}.toc a:hover{text-decoration:underline}
figure{margin:14px 0 18px}
.fig-title{font-weight:600;margin:0 0 6px}
figcaption,.table-note{font-size:13px;color:var(--muted);margin:6px 0 0}
.svg-wrap{overflow-x:auto}
.svg-wrap svg{display:block;max-width:100%;height:auto}
svg.linli-map .feature:hover{stroke:#000;stroke-width:1.4px}
svg.linli-chart rect.bar:hover{opacity:.8}
.layer-toggles{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px;color:var(--muted);
margin:0 0 6px}
.layer-toggles label{cursor:pointer;white-space:nowrap}
.table-wrap{max-height:560px;overflow:auto;border:1px solid var(--line);border-radius:4px}
table.data{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
table.data th{position:sticky;top:0;background:#eef1f5;text-align:left;font-weight:600;
border-bottom:1px solid #c9d0d8;padding:6px 8px;vertical-align:bottom}
table.sortable th{padding:0}
table.data th button{all:unset;box-sizing:border-box;display:block;width:100%;padding:6px 8px;
cursor:pointer}
table.data th button:focus-visible{outline:2px solid var(--accent)}
table.data th[aria-sort=ascending] button::after{content:" ▲";font-size:10px}
table.data th[aria-sort=descending] button::after{content:" ▼";font-size:10px}
table.data td{padding:4px 8px;border-bottom:1px solid #edf0f3}
table.data td.num{text-align:right;white-space:nowrap}
table.data tbody tr:nth-child(even){background:#fafbfc}
table.data tbody tr:hover{background:#eef5fb}
table.sources td{vertical-align:top}table.sources td:first-child{white-space:nowrap}
.note,.warning{border-radius:4px;padding:8px 12px;margin:10px 0}
.note{background:#f3f5f7;border-left:3px solid #8c959f}
.warning{background:#fff8e6;border-left:3px solid var(--warning)}
.note p:last-child,.warning p:last-child{margin:0}
ol.notes li{margin:0 0 6px}
.offline{font-size:13px;color:var(--muted);margin-top:10px}
.report-footer{font-size:12px;color:var(--muted);padding:0 0 28px}
@media print{
html{background:#fff}.report-header{background:none;color:#000;border-bottom:2px solid #000}
.block{border:none;padding:0;break-inside:auto}.layer-toggles{display:none}
figure,.card{break-inside:avoid}.table-wrap{max-height:none;overflow:visible;border:none}
table.data th{position:static}.toc{display:none}}
""".replace("FONTS", FONT_STACK).strip()

_JS = """
(function(){
function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent.trim():v;}
function each(list,f){Array.prototype.forEach.call(list,f);}
each(document.querySelectorAll('table.sortable'),function(t){
var ths=t.tHead.rows[0].cells;
each(ths,function(th,i){
var b=th.querySelector('button');if(!b)return;
b.addEventListener('click',function(){
var asc=th.getAttribute('aria-sort')!=='ascending',num=th.getAttribute('data-type')==='num';
each(ths,function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
rows.sort(function(r1,r2){
var a=key(r1.cells[i]),c=key(r2.cells[i]);
if(num){if(a===''||c==='')return (a==='')-(c==='');
return asc?parseFloat(a)-parseFloat(c):parseFloat(c)-parseFloat(a);}
var r=a.localeCompare(c,'zh-CN');return asc?r:-r;});
rows.forEach(function(r){body.appendChild(r);});});});});
each(document.querySelectorAll('input[data-layer]'),function(cb){
cb.addEventListener('change',function(){
var g=document.getElementById(cb.getAttribute('data-layer'));
if(g)g.style.display=cb.checked?'':'none';});});
})();
""".strip()
