"""Maps as inline SVG: polygons, lines, points and labels, with a legend, scale bar and north arrow.

A map is described by a :class:`MapSpec` (a list of layers, drawn in order) and drawn by
:func:`render_map` into one ``<svg>`` string with no external reference, so a report that
embeds it opens offline. There is deliberately no basemap: online tiles are unreachable on the
intranets linli's users work on, and the walk network drawn in light grey gives the orientation
a basemap would.

How a map is drawn
------------------
1. Every layer (GeoDataFrame or GeoSeries, any CRS) is projected to one local metric CRS,
   :func:`linli.inputs.crs.local_metric_crs` of the map's centre unless ``MapSpec.crs`` says
   otherwise, so that the scale bar is in metres and shapes are not stretched.
2. The extent (``MapSpec.extent``, else all layers) is fitted into the frame, north up.
3. Geometries are moved into pixel space, simplified with a tolerance of
   ``MapSpec.simplify_px`` pixels (0.4 px: invisible, but it drops most vertices of detailed
   footprints at district scale) and written with one decimal of a pixel.
4. Polygons become one ``<path>`` each (holes by the even-odd rule; a polygon smaller than a
   tenth of a pixel is left out, as it would not show), points ``<circle>``
   elements, lines one ``<path>`` per feature when they carry a tooltip, else one merged path
   per layer (a walk network of thousands of links costs one element).
5. Tooltips are ``<title>`` children (shown on hover by every browser, no script); each layer is
   a ``<g>`` with the id ``f"{map_id}-layer-{i}"``, which the HTML report toggles.

Size: the 2,041 Yuzhong building footprints and 6,866 walk edges with the district boundary
draw to about 0.43 MB of SVG at the default width (0.52 MB with the buildings coloured by a
column and carrying tooltips; 0.63 MB at 1,920 px wide).

Colours come from :mod:`linli.reports.palettes` (colour-blind safe, fixed). Class breaks are
given (``ColourBy(breaks=...)``) or computed by a plain display scheme (quantiles or equal
intervals): this is drawing, not analysis.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyproj

from linli._errors import InputError, Problem
from linli.reports._text import (
    FONT_STACK,
    Formatter,
    Lang,
    check_lang,
    column_formats,
    esc,
    format_value,
    is_missing,
    text_width_em,
    ui,
)
from linli.reports.palettes import NO_DATA, categorical_colours, sequential_colours

__all__ = [
    "ColourBy",
    "LabelLayer",
    "Layer",
    "LineLayer",
    "MapSpec",
    "PointLayer",
    "PolygonLayer",
    "SizeBy",
    "layer_id",
    "render_map",
]

_PAD_PX = 18.0
_LEGEND_FONT_PX = 12.0
_SWATCH_W = 18.0
_SWATCH_H = 12.0
_ROW_H = 18.0


# --------------------------------------------------------------------------------------------
# Specifications
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ColourBy:
    """Colour features by a column: numeric classes (choropleth) or categories.

    Parameters
    ----------
    column : str
        The column holding the values.
    breaks : sequence of float, optional
        Inner class boundaries, increasing: ``(0.5, 0.8)`` gives the classes ``< 0.5``,
        ``0.5 – 0.8`` and ``≥ 0.8`` (a value equal to a boundary goes to the class above).
        Default: from ``scheme`` and ``k``.
    scheme : {"quantiles", "equal"}
        How to place ``k`` classes when ``breaks`` is not given: equal counts or equal widths.
    k : int
        Number of classes for ``scheme``.
    categorical : bool
        Treat the values as categories (one colour each) instead of numbers.
    palette : str or sequence of str, optional
        A palette name of :mod:`linli.reports.palettes` or explicit colours; default
        ``"viridis"`` for classes and ``"okabe_ito"`` for categories.
    reverse : bool
        Reverse a sequential palette (high values light).
    colours : mapping, optional
        Category -> ``#rrggbb`` colour, for fixed colours per category.
    labels : mapping, optional
        Category -> legend text (e.g. facility ids -> Chinese names).
    fmt : str or callable
        Number format for class boundaries in the legend, e.g. ``"{:.0%}"`` for shares.
    title : str, optional
        Legend heading for the column (with its unit), e.g. ``"步行时间（分钟）"``.
    """

    column: str
    breaks: Sequence[float] | None = None
    scheme: Literal["quantiles", "equal"] = "quantiles"
    k: int = 5
    categorical: bool = False
    palette: str | Sequence[str] | None = None
    reverse: bool = False
    colours: Mapping[Any, str] | None = None
    labels: Mapping[Any, str] | None = None
    fmt: Formatter = "{:,.4g}"
    title: str | None = None


@dataclass(frozen=True, kw_only=True)
class SizeBy:
    """Size points by a column: circle area proportional to the value.

    Parameters
    ----------
    column : str
        Non-negative numbers (e.g. ``floor_area_m2``).
    max_radius_px : float
        Radius of the circle drawn for ``max_value``.
    max_value : float, optional
        The value drawn at ``max_radius_px``; default the column's maximum. Fix it to compare
        maps.
    fmt : str or callable
        Number format of the legend's reference values.
    title : str, optional
        Legend heading, e.g. ``"建筑面积（m²）"``.
    """

    column: str
    max_radius_px: float = 12.0
    max_value: float | None = None
    fmt: Formatter = "{:,.0f}"
    title: str | None = None


Tooltip = str | Sequence[str] | Mapping[str, str] | None
"""Hover text: one column (its value), columns (``column: value`` lines) or a mapping
column -> label (``label: value`` lines)."""


@dataclass(frozen=True, kw_only=True)
class PolygonLayer:
    """Polygons: areas such as communities, isochrones, buildings, a district boundary.

    ``fill`` is a colour, a :class:`ColourBy` (choropleth or categories) or ``"none"`` (outline
    only). ``label`` names a column drawn as text at a point inside each polygon.
    """

    data: Any
    name: str
    fill: str | ColourBy = "#d9d9d9"
    fill_opacity: float = 1.0
    stroke: str | None = "#ffffff"
    stroke_width_px: float = 0.5
    dash: str | None = None
    tooltip: Tooltip = None
    label: str | None = None
    label_size_px: float = 12.0
    legend: bool = True
    toggle: bool = True


@dataclass(frozen=True, kw_only=True)
class LineLayer:
    """Lines: the walk network (light grey by default), routes, boundaries as lines."""

    data: Any
    name: str
    stroke: str = "#c4c4c4"
    stroke_width_px: float = 0.6
    opacity: float = 1.0
    dash: str | None = None
    tooltip: Tooltip = None
    legend: bool = True
    toggle: bool = True


@dataclass(frozen=True, kw_only=True)
class PointLayer:
    """Points (polygons are drawn at a point inside them): facilities, sites, centres."""

    data: Any
    name: str
    fill: str | ColourBy = "#0072B2"
    radius_px: float = 4.0
    size: SizeBy | None = None
    stroke: str = "#ffffff"
    stroke_width_px: float = 0.8
    opacity: float = 1.0
    tooltip: Tooltip = None
    label: str | None = None
    label_size_px: float = 11.0
    legend: bool = True
    toggle: bool = True


@dataclass(frozen=True, kw_only=True)
class LabelLayer:
    """Text at features (Chinese names of streets, communities, centres), with a white halo.

    Labels that would overlap an earlier one are left out, so order rows by importance. A
    layer without a ``name`` gets no switch in the report's layer toggles.
    """

    data: Any
    column: str
    name: str = ""
    size_px: float = 12.0
    colour: str = "#1f1f1f"
    halo: str = "#ffffff"
    bold: bool = False
    toggle: bool = True


Layer = PolygonLayer | LineLayer | PointLayer | LabelLayer


@dataclass(frozen=True, kw_only=True)
class MapSpec:
    """A map: layers drawn in order (first at the bottom) and its furniture.

    Parameters
    ----------
    layers : sequence of layers
        :class:`PolygonLayer`, :class:`LineLayer`, :class:`PointLayer`, :class:`LabelLayer`.
    title, caption : str
        Shown above and below the map by the HTML report; ``title`` is also the SVG's
        accessible name.
    width_px : int
        Width of the whole SVG (map and legend panel), in CSS pixels.
    height_px : int, optional
        Default: from the extent's shape (at most 1.3 times the map's width).
    extent : GeoDataFrame, GeoSeries, optional
        What the map frames (e.g. the district boundary); default all layers.
    crs : CRS-like, optional
        The metric CRS to draw in; default the local UTM zone of the map's centre.
    simplify_px : float
        Simplification tolerance in pixels (0 keeps every vertex).
    legend, scale_bar, north_arrow : bool
        Draw the legend panel (right), the scale bar (bottom left), the north arrow (top right).
    legend_width_px : int
        Width of the legend panel.
    """

    layers: Sequence[Layer]
    title: str = ""
    caption: str = ""
    width_px: int = 960
    height_px: int | None = None
    extent: Any = None
    crs: Any = None
    simplify_px: float = 0.4
    legend: bool = True
    scale_bar: bool = True
    north_arrow: bool = True
    legend_width_px: int = 230


def layer_id(map_id: str, index: int) -> str:
    """The id of the ``<g>`` of layer ``index`` (0-based, in ``MapSpec.layers``) of a map."""
    return f"{map_id}-layer-{index}"


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------


@dataclass
class _Frame:
    """Where the metric extent sits in pixels."""

    x0: float
    y1: float
    scale: float  # px per metre
    off_x: float
    off_y: float
    width: float  # map frame (without legend), px
    height: float

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy)
        out[:, 0] = (xy[:, 0] - self.x0) * self.scale + self.off_x
        out[:, 1] = (self.y1 - xy[:, 1]) * self.scale + self.off_y
        return out


@dataclass
class _Legend:
    """Legend entries of one layer."""

    title: str
    subtitle: str = ""
    rows: list[tuple[str, str]] = field(default_factory=list)
    """(swatch SVG, text); an empty swatch makes the text a heading inside the entries."""


def render_map(spec: MapSpec, *, lang: Lang = "zh", map_id: str = "map") -> str:
    """Draw a map as one self-contained ``<svg>`` element.

    Parameters
    ----------
    spec : MapSpec
    lang : {"zh", "en"}, keyword-only
        Language of the map furniture (legend's "no data", the north arrow's letter).
    map_id : str, keyword-only
        Prefix of the element ids (unique per page when several maps share one).

    Returns
    -------
    str
        The SVG markup; layer ``i`` is the group with id :func:`layer_id` ``(map_id, i)``.

    Raises
    ------
    InputError
        If a layer has no CRS, lacks a column the spec names, or nothing is there to draw.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> zones = gpd.GeoDataFrame({"share": [0.4, 0.9]},
    ...     geometry=[shapely.box(0, 0, 500, 500), shapely.box(500, 0, 1000, 500)],
    ...     crs="EPSG:32648")
    >>> svg = render_map(MapSpec(layers=[PolygonLayer(data=zones, name="覆盖率",
    ...     fill=ColourBy(column="share", breaks=[0.5], fmt="{:.0%}"))]))
    >>> svg.count('class="feature"'), "≥ 50%" in svg
    (2, True)
    """
    lang = check_lang(lang)
    _check_spec(spec)
    metric = _metric_crs(spec)
    frames = [_project(layer, metric) for layer in spec.layers]
    bounds = _extent(spec, frames, metric)

    legend_w = float(spec.legend_width_px) if spec.legend else 0.0
    frame = _fit(bounds, spec, legend_w)

    legends: list[_Legend] = []
    groups: list[str] = []
    occupied: list[tuple[float, float, float, float]] = []
    for i, (layer, gdf) in enumerate(zip(spec.layers, frames, strict=True)):
        body, legend = _draw_layer(layer, gdf, frame, spec, lang, occupied)
        gid = layer_id(map_id, i)
        groups.append(f'<g id="{esc(gid)}" class="layer" data-name="{esc(layer.name)}">{body}</g>')
        if legend is not None and spec.legend:
            legends.append(legend)

    width = frame.width + legend_w
    height = frame.height
    furniture: list[str] = []
    angle = _true_north_deg(metric, bounds)
    if spec.legend:
        # North arrow, legend and scale bar stand in the panel beside the map, off the data.
        px = frame.width + 14.0
        y = _PAD_PX
        if spec.north_arrow:
            furniture.append(_north_arrow(angle, px + 15, y + 22, lang))
            y += 50
        legend_svg, y = _draw_legend(legends[::-1], x=px, y=y, width=legend_w - 14)
        furniture.append(legend_svg)
        if spec.scale_bar:
            height = max(height, y + 46 + _PAD_PX)
            max_px = min(0.25 * (frame.width - 2 * _PAD_PX), legend_w - 60)
            furniture.append(_scale_bar(frame, x=px, y=height - _PAD_PX - 6, max_px=max_px))
        height = max(height, y + _PAD_PX)
    else:
        if spec.north_arrow:
            furniture.append(_north_arrow(angle, frame.width - _PAD_PX - 14, _PAD_PX + 30, lang))
        if spec.scale_bar:
            max_px = 0.25 * (frame.width - 2 * _PAD_PX)
            furniture.append(
                _scale_bar(frame, x=_PAD_PX, y=frame.height - _PAD_PX - 6, max_px=max_px)
            )
    # A legend taller than the map makes the frame taller; the map stays centred in it.
    shift = (height - frame.height) / 2
    moved = f' transform="translate(0 {_n(shift)})"' if shift > 0 else ""

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="linli-map" id="{esc(map_id)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'role="img" aria-labelledby="{esc(map_id)}-title" '
        f'font-family="{esc(FONT_STACK)}" data-crs="EPSG:{metric.to_epsg() or ""}" '
        f'data-m-per-px="{1.0 / frame.scale:.6g}">',
        f'<title id="{esc(map_id)}-title">{esc(spec.title or "map")}</title>',
        f'<defs><clipPath id="{esc(map_id)}-clip"><rect x="0" y="0" '
        f'width="{_n(frame.width)}" height="{_n(height)}"/></clipPath></defs>',
        f'<rect class="map-frame" x="0.5" y="0.5" width="{_n(frame.width - 1)}" '
        f'height="{_n(height - 1)}" fill="#fcfcfa" stroke="#b8b8b8" stroke-width="1"/>',
        f'<g clip-path="url(#{esc(map_id)}-clip)"><g{moved}>',
        *groups,
        "</g></g>",
        *furniture,
        "</svg>",
    ]
    return "".join(parts)


def _check_spec(spec: MapSpec) -> None:
    problems: list[Problem] = []
    if not spec.layers:
        problems.append(Problem("MapSpec", expected="at least one layer", found="no layers"))
    if spec.width_px < 200 + (spec.legend_width_px if spec.legend else 0):
        problems.append(
            Problem(
                "MapSpec",
                where="width_px",
                expected="at least 200 px for the map beside the legend panel",
                found=str(spec.width_px),
            )
        )
    if spec.height_px is not None and spec.height_px < 100:
        problems.append(
            Problem(
                "MapSpec", where="height_px", expected="at least 100", found=str(spec.height_px)
            )
        )
    if not (spec.simplify_px >= 0):
        problems.append(
            Problem("MapSpec", where="simplify_px", expected="≥ 0", found=str(spec.simplify_px))
        )
    for layer in spec.layers:
        source = f"map layer {layer.name!r}"
        data = layer.data
        if not hasattr(data, "geometry") or not hasattr(data, "crs"):
            problems.append(
                Problem(source, expected="a GeoDataFrame or GeoSeries", found=type(data).__name__)
            )
            continue
        if data.crs is None:
            problems.append(
                Problem(
                    source,
                    expected="a CRS on the layer",
                    found="no CRS; set it with .set_crs(...), e.g. 'EPSG:4326' for lon/lat",
                )
            )
        for column in _columns_used(layer):
            if not hasattr(data, "columns") or column not in data.columns:
                have = ", ".join(map(str, getattr(data, "columns", []))) or "none"
                problems.append(
                    Problem(
                        source,
                        where=f"column {column!r}",
                        expected="a column of that name",
                        found=f"columns {have}",
                    )
                )
    if problems:
        raise InputError("cannot draw the map", problems=problems)


def _columns_used(layer: Layer) -> list[str]:
    out: list[str] = []
    if isinstance(layer, LabelLayer):
        return [layer.column]
    fill = getattr(layer, "fill", None)
    if isinstance(fill, ColourBy):
        out.append(fill.column)
    size = getattr(layer, "size", None)
    if isinstance(size, SizeBy):
        out.append(size.column)
    label = getattr(layer, "label", None)
    if label:
        out.append(label)
    out.extend(_tooltip_columns(layer.tooltip))
    return out


def _tooltip_columns(tooltip: Tooltip) -> list[str]:
    if tooltip is None:
        return []
    if isinstance(tooltip, str):
        return [tooltip]
    return list(tooltip)  # a Mapping iterates over its keys


def _metric_crs(spec: MapSpec) -> pyproj.CRS:
    if spec.crs is not None:
        crs = pyproj.CRS.from_user_input(spec.crs)
        if not crs.is_projected:
            raise InputError(
                problems=[
                    Problem(
                        "MapSpec",
                        where="crs",
                        expected="a projected CRS in metres (e.g. 'EPSG:32648')",
                        found=crs.name,
                    )
                ]
            )
        return crs
    import geopandas as gpd
    import shapely

    from linli.inputs.crs import local_metric_crs

    sources = [spec.extent] if spec.extent is not None else [lyr.data for lyr in spec.layers]
    boxes = []
    for data in sources:
        if data is None or len(data) == 0:
            continue
        bounds = data.total_bounds
        if np.all(np.isfinite(bounds)):
            boxes.append(gpd.GeoSeries([shapely.box(*bounds)], crs=data.crs).to_crs(4326))
    if not boxes:
        raise InputError(
            problems=[Problem("MapSpec", expected="features to draw", found="only empty layers")]
        )
    lon_lat = np.array([b.iloc[0].centroid.coords[0] for b in boxes])
    return local_metric_crs(lon_lat[:, 0].mean(), lon_lat[:, 1].mean())


def _project(layer: Layer, crs: pyproj.CRS) -> Any:
    import geopandas as gpd

    data = layer.data
    if isinstance(data, gpd.GeoSeries):
        data = gpd.GeoDataFrame(geometry=data)
    gdf = data[~(data.geometry.isna() | data.geometry.is_empty)]
    return gdf.to_crs(crs)


def _extent(spec: MapSpec, frames: list[Any], crs: pyproj.CRS) -> tuple[float, ...]:
    if spec.extent is not None:
        bounds = spec.extent.to_crs(crs).total_bounds
    else:
        boxes = np.array([f.total_bounds for f in frames if len(f)])
        if len(boxes) == 0:
            raise InputError(
                problems=[
                    Problem("MapSpec", expected="features to draw", found="only empty layers")
                ]
            )
        bounds = np.array(
            [boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()]
        )
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    # A single point or a straight line has no area: frame at least 200 m around it.
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w = max((maxx - minx) / 2, 100.0)
    half_h = max((maxy - miny) / 2, 100.0)
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _fit(bounds: tuple[float, ...], spec: MapSpec, legend_w: float) -> _Frame:
    minx, miny, maxx, maxy = bounds
    dx, dy = maxx - minx, maxy - miny
    frame_w = spec.width_px - legend_w
    inner_w = frame_w - 2 * _PAD_PX
    if spec.height_px is not None:
        frame_h = float(spec.height_px)
    else:
        frame_h = min(dy * inner_w / dx + 2 * _PAD_PX, 1.3 * frame_w)
        frame_h = max(frame_h, 240.0)
    inner_h = frame_h - 2 * _PAD_PX
    scale = min(inner_w / dx, inner_h / dy)
    off_x = _PAD_PX + (inner_w - dx * scale) / 2
    off_y = _PAD_PX + (inner_h - dy * scale) / 2
    return _Frame(minx, maxy, scale, off_x, off_y, frame_w, frame_h)


def _draw_layer(
    layer: Layer,
    gdf: Any,
    frame: _Frame,
    spec: MapSpec,
    lang: Lang,
    occupied: list[tuple[float, float, float, float]],
) -> tuple[str, _Legend | None]:
    import shapely

    geoms = shapely.transform(gdf.geometry.to_numpy(), frame.to_px)
    if isinstance(layer, LabelLayer):
        texts = [None if is_missing(v) else str(v) for v in gdf[layer.column]]
        return _labels(geoms, texts, layer.size_px, layer, occupied, frame), None
    tips = _tooltips(gdf, layer.tooltip)
    if isinstance(layer, PolygonLayer):
        return _polygons(layer, gdf, geoms, tips, spec, lang, frame, occupied)
    if isinstance(layer, LineLayer):
        return _lines(layer, geoms, tips, spec)
    return _points(layer, gdf, geoms, tips, lang, frame, occupied)


def _polygons(
    layer: PolygonLayer,
    gdf: Any,
    geoms: np.ndarray,
    tips: list[str] | None,
    spec: MapSpec,
    lang: Lang,
    frame: _Frame,
    occupied: list[tuple[float, float, float, float]],
) -> tuple[str, _Legend | None]:
    import shapely

    if spec.simplify_px > 0:
        geoms = shapely.simplify(geoms, spec.simplify_px, preserve_topology=True)
    legend = _Legend(title=layer.name)
    if isinstance(layer.fill, ColourBy):
        fills, rows, subtitle = _colour_by(gdf, layer.fill, lang)
        legend.subtitle = subtitle
        for colour, text in rows:
            legend.rows.append((_swatch_rect(colour, layer.fill_opacity, layer.stroke), text))
    else:
        fills = [layer.fill] * len(gdf)
        legend.rows.append((_swatch_rect(layer.fill, layer.fill_opacity, layer.stroke), ""))
    stroke = (
        f' stroke="{esc(layer.stroke)}" stroke-width="{_n(layer.stroke_width_px)}"'
        f' stroke-linejoin="round"'
        + (f' stroke-dasharray="{esc(layer.dash)}"' if layer.dash else "")
        if layer.stroke
        else ' stroke="none"'
    )
    opacity = f' fill-opacity="{_n(layer.fill_opacity)}"' if layer.fill_opacity < 1 else ""
    out = [f'<g fill-rule="evenodd"{stroke}{opacity}>']
    for i, geom in enumerate(geoms):
        d = _path_d(geom, closed=True)
        if not d:
            continue
        tip = f"<title>{esc(tips[i])}</title>" if tips else ""
        out.append(f'<path class="feature" d="{d}" fill="{esc(fills[i])}">{tip}</path>')
    out.append("</g>")
    if layer.label:
        anchors = shapely.point_on_surface(geoms)
        texts = [None if is_missing(v) else str(v) for v in gdf[layer.label]]
        out.append(_labels(anchors, texts, layer.label_size_px, None, occupied, frame))
    return "".join(out), (legend if layer.legend else None)


def _lines(
    layer: LineLayer, geoms: np.ndarray, tips: list[str] | None, spec: MapSpec
) -> tuple[str, _Legend | None]:
    import shapely

    if spec.simplify_px > 0:
        geoms = shapely.simplify(geoms, spec.simplify_px, preserve_topology=False)
    style = (
        f' fill="none" stroke="{esc(layer.stroke)}" stroke-width="{_n(layer.stroke_width_px)}"'
        ' stroke-linecap="round" stroke-linejoin="round"'
        + (f' stroke-dasharray="{esc(layer.dash)}"' if layer.dash else "")
        + (f' stroke-opacity="{_n(layer.opacity)}"' if layer.opacity < 1 else "")
    )
    if tips:
        body = "".join(
            f'<path class="feature" d="{d}"><title>{esc(tip)}</title></path>'
            for d, tip in zip((_path_d(g, closed=False) for g in geoms), tips, strict=True)
            if d
        )
        out = f"<g{style}>{body}</g>"
    else:
        d = "".join(_path_d(g, closed=False) for g in geoms)
        out = f'<path class="lines" d="{d}"{style}/>' if d else ""
    legend = _Legend(title=layer.name)
    sample = (
        f'<line x1="0" y1="{_n(_SWATCH_H / 2)}" x2="{_n(_SWATCH_W)}" y2="{_n(_SWATCH_H / 2)}"'
        f' stroke="{esc(layer.stroke)}" stroke-width="{_n(max(layer.stroke_width_px, 1.5))}"'
        + (f' stroke-dasharray="{esc(layer.dash)}"' if layer.dash else "")
        + "/>"
    )
    legend.rows.append((sample, ""))
    return out, (legend if layer.legend else None)


def _points(
    layer: PointLayer,
    gdf: Any,
    geoms: np.ndarray,
    tips: list[str] | None,
    lang: Lang,
    frame: _Frame,
    occupied: list[tuple[float, float, float, float]],
) -> tuple[str, _Legend | None]:
    import shapely

    points = shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(points)
    n = len(xy)
    legend = _Legend(title=layer.name)
    if isinstance(layer.fill, ColourBy):
        fills, rows, legend.subtitle = _colour_by(gdf, layer.fill, lang)
        for colour, text in rows:
            legend.rows.append((_swatch_circle(colour, 5.0, layer.stroke), text))
    else:
        fills = [layer.fill] * n
        legend.rows.append((_swatch_circle(layer.fill, layer.radius_px, layer.stroke), ""))
    radii = np.full(n, layer.radius_px)
    if layer.size is not None:
        radii, size_rows = _size_by(gdf, layer.size, layer.radius_px)
        legend.rows.extend(size_rows)
        if layer.size.title and size_rows:
            legend.rows.insert(len(legend.rows) - len(size_rows), ("", layer.size.title))
    order = np.argsort(-radii, kind="stable")  # small circles on top of big ones
    opacity = f' fill-opacity="{_n(layer.opacity)}"' if layer.opacity < 1 else ""
    out = [f'<g stroke="{esc(layer.stroke)}" stroke-width="{_n(layer.stroke_width_px)}"{opacity}>']
    for i in order.tolist():
        x, y = xy[i]
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        tip = f"<title>{esc(tips[i])}</title>" if tips else ""
        out.append(
            f'<circle class="feature" cx="{_n(x)}" cy="{_n(y)}" r="{_n(radii[i])}" '
            f'fill="{esc(fills[i])}">{tip}</circle>'
        )
    out.append("</g>")
    if layer.label:
        texts = [None if is_missing(v) else str(v) for v in gdf[layer.label]]
        shifted = shapely.transform(points, lambda a: a + np.array([0.0, -(layer.radius_px + 7)]))
        out.append(_labels(shifted, texts, layer.label_size_px, None, occupied, frame))
    return "".join(out), (legend if layer.legend else None)


def _labels(
    anchors: np.ndarray,
    texts: Sequence[str | None],
    size_px: float,
    style: LabelLayer | None,
    occupied: list[tuple[float, float, float, float]],
    frame: _Frame,
) -> str:
    import shapely

    colour = style.colour if style else "#1f1f1f"
    halo = style.halo if style else "#ffffff"
    weight = ' font-weight="bold"' if style and style.bold else ""
    xy = shapely.get_coordinates(shapely.point_on_surface(anchors))
    out = [
        f'<g class="labels" font-size="{_n(size_px)}" fill="{esc(colour)}" stroke="{esc(halo)}" '
        f'stroke-width="3" stroke-linejoin="round" paint-order="stroke" '
        f'text-anchor="middle"{weight}>'
    ]
    for (x, y), text in zip(xy, texts, strict=True):
        if not text or not (math.isfinite(x) and math.isfinite(y)):
            continue
        half = text_width_em(text) * size_px / 2
        box = (x - half, y - size_px * 0.8, x + half, y + size_px * 0.3)
        if box[0] < 0 or box[2] > frame.width or box[1] < 0 or box[3] > frame.height:
            continue
        if any(_overlaps(box, other) for other in occupied):
            continue
        occupied.append(box)
        out.append(f'<text x="{_n(x)}" y="{_n(y)}">{esc(text)}</text>')
    out.append("</g>")
    return "".join(out)


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _tooltips(gdf: Any, tooltip: Tooltip) -> list[str] | None:
    if tooltip is None or len(gdf) == 0:
        return None
    if isinstance(tooltip, str):
        fmt = _display_format(tooltip)
        return [format_value(v, fmt) for v in gdf[tooltip]]
    labels = dict(tooltip) if isinstance(tooltip, Mapping) else {c: c for c in tooltip}
    columns = [
        (label, [format_value(v, _display_format(col)) for v in gdf[col]])
        for col, label in labels.items()
    ]
    return [
        "\n".join(f"{label}: {values[i]}" for label, values in columns) for i in range(len(gdf))
    ]


def _display_format(column: str) -> str | None:
    formats = column_formats(str(column))
    return formats[1] if formats else None


def _colour_by(gdf: Any, by: ColourBy, lang: Lang) -> tuple[list[str], list[tuple[str, str]], str]:
    """Colours per row, legend rows (colour, text) and the legend subtitle."""
    values = gdf[by.column]
    missing = np.array([is_missing(v) for v in values], dtype=bool)
    subtitle = by.title if by.title is not None else str(by.column)
    if by.categorical:
        present = pd.unique(values[~missing])
        try:
            categories = sorted(present)
        except TypeError:
            categories = sorted(present, key=str)
        if by.colours is not None:
            lacking = [c for c in categories if c not in by.colours]
            if lacking:
                raise InputError(
                    problems=[
                        Problem(
                            f"column {by.column!r}",
                            where="ColourBy.colours",
                            expected="a colour for every category",
                            found=f"none for {lacking!r}",
                        )
                    ]
                )
            lookup = {c: by.colours[c] for c in categories}
        else:
            palette = categorical_colours(by.palette or "okabe_ito", len(categories))
            lookup = dict(zip(categories, palette, strict=True))
        labels = by.labels or {}
        rows = [(lookup[c], str(labels.get(c, c))) for c in categories]
        colours = [NO_DATA if m else lookup[v] for v, m in zip(values, missing, strict=True)]
    else:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        bad = ~missing & ~np.isfinite(numbers)
        if bad.any():
            first = values[bad].iloc[0]
            raise InputError(
                problems=[
                    Problem(
                        f"column {by.column!r}",
                        expected="numbers (or ColourBy(categorical=True))",
                        found=f"{int(bad.sum())} non-numeric values, e.g. {first!r}",
                    )
                ]
            )
        missing |= ~np.isfinite(numbers)
        thresholds = _thresholds(numbers[~missing], by)
        k = len(thresholds) + 1
        palette = sequential_colours(by.palette or "viridis", k, reverse=by.reverse)
        cls = np.searchsorted(thresholds, numbers, side="right")
        colours = [NO_DATA if m else palette[c] for c, m in zip(cls, missing, strict=True)]
        rows = list(zip(palette, _class_labels(thresholds, numbers[~missing], by.fmt), strict=True))
    if missing.any():
        rows.append((NO_DATA, ui(lang, "no_data")))
    return colours, rows, subtitle


def _thresholds(values: np.ndarray, by: ColourBy) -> np.ndarray:
    if by.breaks is not None:
        breaks = np.asarray(list(by.breaks), dtype=float)
        if breaks.size and (not np.all(np.isfinite(breaks)) or np.any(np.diff(breaks) <= 0)):
            raise InputError(
                problems=[
                    Problem(
                        f"column {by.column!r}",
                        where="ColourBy.breaks",
                        expected="finite, strictly increasing class boundaries",
                        found=repr(list(by.breaks)),
                    )
                ]
            )
        return breaks
    if by.k < 1:
        raise InputError(
            problems=[
                Problem(
                    f"column {by.column!r}", where="ColourBy.k", expected="≥ 1", found=str(by.k)
                )
            ]
        )
    if values.size == 0 or by.k == 1:
        return np.empty(0)
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        return np.empty(0)
    if by.scheme == "equal":
        inner = np.linspace(lo, hi, by.k + 1)[1:-1]
    elif by.scheme == "quantiles":
        inner = np.quantile(values, np.linspace(0, 1, by.k + 1)[1:-1])
    else:
        raise InputError(
            problems=[
                Problem(
                    f"column {by.column!r}",
                    where="ColourBy.scheme",
                    expected="'quantiles' or 'equal'",
                    found=repr(by.scheme),
                )
            ]
        )
    inner = np.unique(inner)
    return inner[(inner > lo) & (inner <= hi)]


def _class_labels(thresholds: np.ndarray, values: np.ndarray, fmt: Formatter) -> list[str]:
    t = [format_value(float(v), fmt) for v in thresholds]
    if not t:
        if values.size == 0:
            return ["–"]
        lo, hi = format_value(float(values.min()), fmt), format_value(float(values.max()), fmt)
        return [lo if lo == hi else f"{lo} – {hi}"]
    return [f"< {t[0]}", *(f"{a} – {b}" for a, b in itertools.pairwise(t)), f"≥ {t[-1]}"]


def _size_by(gdf: Any, by: SizeBy, default_r: float) -> tuple[np.ndarray, list[tuple[str, str]]]:
    values = pd.to_numeric(gdf[by.column], errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(values) & (values >= 0)
    vmax = (
        by.max_value
        if by.max_value is not None
        else (float(values[finite].max()) if finite.any() else 0.0)
    )
    if not vmax > 0:
        return np.full(len(values), default_r), []
    radii = np.where(finite, by.max_radius_px * np.sqrt(np.clip(values, 0, None) / vmax), default_r)
    radii = np.maximum(radii, 1.5)  # keep the smallest visible
    rows = []
    for v in _nice_steps(vmax):
        r = by.max_radius_px * math.sqrt(v / vmax)
        rows.append((_swatch_circle("none", r, "#555555"), format_value(v, by.fmt)))
    return radii, rows


def _nice_steps(vmax: float) -> list[float]:
    top = _nice_floor(vmax)
    return [v for v in (top, _nice_floor(top / 3), _nice_floor(top / 10)) if v > 0][::-1]


def _nice_floor(x: float) -> float:
    """Largest 1, 2 or 5 times a power of ten not above ``x`` (x > 0)."""
    if x <= 0:
        return 0.0
    p = 10.0 ** math.floor(math.log10(x))
    for m in (5.0, 2.0, 1.0):
        if m * p <= x * (1 + 1e-12):
            return m * p
    return p


# --------------------------------------------------------------------------------------------
# Furniture
# --------------------------------------------------------------------------------------------


def _scale_bar(frame: _Frame, *, x: float, y: float, max_px: float) -> str:
    """A scale bar of a round length (1, 2 or 5 x 10^n m) at most ``max_px`` long.

    Its left end is at (``x``, ``y``); ``data-length-m`` and ``data-length-px`` state its
    length, so that tests (and readers of the SVG) can check it against the map's scale.
    """
    length_m = _nice_floor(max_px / frame.scale)
    length_px = length_m * frame.scale
    half = length_px / 2

    def label(metres: float) -> str:
        if length_m >= 1000:
            return f"{metres / 1000:g} km"
        return f"{metres:g} m"

    return (
        f'<g class="scale-bar" data-length-m="{length_m:g}" data-length-px="{length_px:.3f}" '
        f'font-size="11" fill="#222">'
        f'<rect x="{_n(x - 6)}" y="{_n(y - 20)}" width="{_n(length_px + 12 + 30)}" height="30" '
        f'fill="#ffffff" fill-opacity="0.8" stroke="none"/>'
        f'<rect class="scale-bar-dark" x="{_n(x)}" y="{_n(y)}" width="{half:.2f}" height="5" '
        f'fill="#222" stroke="#222" stroke-width="0.8"/>'
        f'<rect class="scale-bar-light" x="{x + half:.2f}" y="{_n(y)}" width="{half:.2f}" '
        f'height="5" fill="#fff" stroke="#222" stroke-width="0.8"/>'
        f'<text x="{_n(x)}" y="{_n(y - 4)}" text-anchor="middle">0</text>'
        f'<text x="{x + half:.1f}" y="{_n(y - 4)}" text-anchor="middle">'
        f"{label(length_m / 2).split()[0]}</text>"
        f'<text x="{x + length_px:.1f}" y="{_n(y - 4)}" text-anchor="middle">'
        f"{label(length_m)}</text></g>"
    )


def _true_north_deg(crs: pyproj.CRS, bounds: tuple[float, ...]) -> float:
    """Clockwise angle from grid north to true north at the map's centre, in degrees.

    UTM grid north differs from true north by the meridian convergence (about 0.7 degree in
    Yuzhong, 1.5 degrees east of zone 48's central meridian).
    """
    to_geo = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    to_map = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    lon, lat = to_geo.transform(cx, cy)
    x1, y1 = to_map.transform(lon, min(lat + 0.01, 89.99))
    angle = math.degrees(math.atan2(x1 - cx, y1 - cy))
    return angle if math.isfinite(angle) else 0.0


def _north_arrow(angle: float, ax: float, ay: float, lang: Lang) -> str:
    """A north arrow centred at (``ax``, ``ay``), turned ``angle`` degrees to true north."""
    return (
        f'<g class="north-arrow" data-angle-deg="{angle:.3f}" '
        f'transform="rotate({angle:.2f} {_n(ax)} {_n(ay)})">'
        f'<circle cx="{_n(ax)}" cy="{_n(ay)}" r="15" fill="#ffffff" fill-opacity="0.8"/>'
        f'<path d="M{_n(ax)} {_n(ay - 13)}L{_n(ax - 6)} {_n(ay + 9)}L{_n(ax)} {_n(ay + 5)}Z" '
        f'fill="#222"/>'
        f'<path d="M{_n(ax)} {_n(ay - 13)}L{_n(ax + 6)} {_n(ay + 9)}L{_n(ax)} {_n(ay + 5)}Z" '
        f'fill="#fff" stroke="#222" stroke-width="0.8"/>'
        f'<text x="{_n(ax)}" y="{_n(ay - 17)}" text-anchor="middle" font-size="12" '
        f'font-weight="bold" fill="#222">{esc(ui(lang, "north"))}</text></g>'
    )


def _draw_legend(legends: list[_Legend], *, x: float, y: float, width: float) -> tuple[str, float]:
    """The legend entries from (``x``, ``y``) down; returns the SVG and the y below them."""
    if not legends:
        return "", y
    out = [f'<g class="legend" font-size="{_n(_LEGEND_FONT_PX)}" fill="#222">']
    for legend in legends:
        y += 14
        out.append(
            f'<text class="legend-title" x="{_n(x)}" y="{_n(y)}" font-weight="bold">'
            f"{esc(_shorten(legend.title, width))}</text>"
        )
        if legend.subtitle:
            y += 16
            out.append(
                f'<text x="{_n(x)}" y="{_n(y)}" fill="#555">'
                f"{esc(_shorten(legend.subtitle, width))}</text>"
            )
        y += 6
        for swatch, text in legend.rows:
            if not swatch:  # a heading row inside the entries
                y += 16
                out.append(
                    f'<text x="{_n(x)}" y="{_n(y)}" fill="#555">{esc(_shorten(text, width))}</text>'
                )
                y += 4
                continue
            size = _swatch_size(swatch)
            row_h = max(_ROW_H, size + 6)
            out.append(
                f'<g class="legend-item" transform="translate({_n(x)} '
                f'{_n(y + (row_h - _SWATCH_H) / 2)})">{swatch}'
                + (
                    f'<text x="{_n(max(_SWATCH_W, size) + 8)}" y="{_n(_SWATCH_H - 2)}">'
                    f"{esc(_shorten(text, width - max(_SWATCH_W, size) - 8))}</text>"
                    if text
                    else ""
                )
                + "</g>"
            )
            y += row_h
        y += 8
    out.append("</g>")
    return "".join(out), y


def _shorten(text: str, width_px: float) -> str:
    """``text`` cut with an ellipsis to fit ``width_px`` at the legend's font size."""
    limit = width_px / _LEGEND_FONT_PX
    if text_width_em(text) <= limit:
        return text
    while text and text_width_em(text) > limit - 1:
        text = text[:-1]
    return text + "…"


def _swatch_rect(colour: str, opacity: float, stroke: str | None) -> str:
    edge = stroke if stroke and stroke not in ("#ffffff", "#fff", "white") else "#9a9a9a"
    fill = "none" if colour == "none" else colour
    return (
        f'<rect width="{_n(_SWATCH_W)}" height="{_n(_SWATCH_H)}" fill="{esc(fill)}" '
        f'fill-opacity="{_n(opacity)}" stroke="{esc(edge)}" stroke-width="0.8"/>'
    )


def _swatch_circle(colour: str, r: float, stroke: str) -> str:
    edge = stroke if stroke not in ("#ffffff", "#fff", "white") else "#666666"
    return (
        f'<circle data-r="{_n(r)}" cx="{_n(max(r, _SWATCH_W / 2))}" cy="{_n(_SWATCH_H / 2)}" '
        f'r="{_n(r)}" fill="{esc(colour)}" stroke="{esc(edge)}" stroke-width="0.8"/>'
    )


def _swatch_size(swatch: str) -> float:
    if swatch.startswith("<circle data-r="):
        r = float(swatch.split('"', 2)[1])
        return 2 * r
    return _SWATCH_H


# --------------------------------------------------------------------------------------------
# Geometry to path data
# --------------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A pixel coordinate with at most one decimal, without a trailing '.0'."""
    text = f"{float(value) + 0.0:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _path_d(geom: Any, *, closed: bool) -> str:
    """SVG path data of a (multi)polygon or (multi)line in pixel coordinates."""
    import shapely

    if geom is None or geom.is_empty:
        return ""
    parts: list[str] = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
        elif part.geom_type in ("LineString", "LinearRing"):
            rings = [part]
        else:
            continue  # points inside a collection are not drawn by a path
        for ring in rings:
            d = _coords_d(np.asarray(ring.coords)[:, :2], closed=closed)
            if d:
                parts.append(d)
    return "".join(parts)


def _coords_d(coords: np.ndarray, *, closed: bool) -> str:
    a = np.round(coords, 1)
    if len(a) > 1:
        keep = np.ones(len(a), dtype=bool)
        keep[1:] = np.any(a[1:] != a[:-1], axis=1)
        a = a[keep]
    if closed:
        if len(a) > 1 and np.array_equal(a[0], a[-1]):
            a = a[:-1]
        if len(a) < 3:
            return ""
    elif len(a) < 2:
        return ""
    nums = [_n(v) for v in a.ravel().tolist()]
    head = f"M{nums[0]} {nums[1]}L"
    return head + " ".join(nums[2:]) + ("Z" if closed else "")
