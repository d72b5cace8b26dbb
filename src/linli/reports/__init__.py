"""Reports: the HTML report, Excel workbooks, maps and charts drawn from analysis results.

The report layer draws and writes; it computes no analysis. Its building blocks are generic so
that the audit and the planning report share them:

- :mod:`linli.reports.maps` -- :class:`MapSpec` and its layers (:class:`PolygonLayer`,
  :class:`LineLayer`, :class:`PointLayer`, :class:`LabelLayer`, coloured by :class:`ColourBy`,
  sized by :class:`SizeBy`) drawn to inline SVG by :func:`render_map`;
- :mod:`linli.reports.charts` -- :class:`BarChart` and :class:`Histogram` drawn to inline SVG;
- :mod:`linli.reports.html` -- :func:`write_report`: one self-contained, offline HTML file built
  from :class:`Section` (holding :class:`Text`, :class:`Figures`, maps, charts, :class:`Table`),
  summary :class:`Figure` cards and data :class:`Source` lines;
- :mod:`linli.reports.excel` -- :func:`write_workbook`: sheets with Chinese headers, number
  formats and a notes sheet;
- :mod:`linli.reports.palettes` -- the fixed, colour-blind-safe colours.
"""

from linli.reports.charts import BarChart, Histogram, render_chart
from linli.reports.excel import write_workbook
from linli.reports.html import (
    OSM_SOURCE,
    Figure,
    Figures,
    Section,
    Source,
    Table,
    Text,
    render_report,
    write_report,
)
from linli.reports.maps import (
    ColourBy,
    LabelLayer,
    LineLayer,
    MapSpec,
    PointLayer,
    PolygonLayer,
    SizeBy,
    render_map,
)

__all__ = [
    "OSM_SOURCE",
    "BarChart",
    "ColourBy",
    "Figure",
    "Figures",
    "Histogram",
    "LabelLayer",
    "LineLayer",
    "MapSpec",
    "PointLayer",
    "PolygonLayer",
    "Section",
    "SizeBy",
    "Source",
    "Table",
    "Text",
    "render_chart",
    "render_map",
    "render_report",
    "write_report",
    "write_workbook",
]
