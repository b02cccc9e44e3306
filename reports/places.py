"""Where the faults are: the fault figures per district and per site, and the districts' shapes.

The maps are about faults (repairs): whatever kind the page's filter names, the places count
repairs received in the range with the page's other filters. Three measures per place:

- ``faults``: repairs received;
- ``repeat_faults``: completed repairs with another repair at the same site or on the same line
  within 30 days (the report's "repeat faults (30 days)");
- ``breaches``: response plus restore deadlines missed, judged like the report's.

A district's and a site's numbers come from one grouped query each over the report's own
predicates (``reports.measures``), so they are the report's figures for repairs grouped by
district (the tests hold them to ``reports.figures``), without the percentiles, follow-ups and
backlog the map does not show; the placed sites of a district add up to it at most.

District shapes: the city has no official outline data here, so each district is drawn as
its Voronoi cell: the region of the map closer to that district's centre than to any other
centre, clipped to the sites' bounding box (padded). A centre is the mean position of the
district's sites (or the caller's table of centres, such as the demo's). The cells are
computed in plain Python by cutting the box with each perpendicular bisector in turn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from reports import measures
from reports.filters import ReportFilter, joined, received_in_range
from workorders.models import Site, WorkOrder

MEASURES = ("faults", "repeat_faults", "breaches")
BOX_PADDING_DEG = 0.02  # around the outermost sites, so the outer districts are not cut at a site
COORDINATE_DIGITS = 3  # about 100 m: enough for a heat map, not a customer's door

Point = tuple[float, float]  # (lat, lon)


@dataclass(frozen=True)
class SiteCounts:
    """One placed site's fault figures, its position rounded to COORDINATE_DIGITS."""

    site_id: int
    district: str | None
    lat: float
    lon: float
    faults: int
    repeat_faults: int
    breaches: int


def fault_filter(f: ReportFilter) -> ReportFilter:
    """The page's filter narrowed to repairs and grouped by district."""
    return replace(f, kind="repair", group_by="district")


def _counts(f: ReportFilter, *keys: ColumnElement):
    """The three measures over repairs received in the range, grouped by ``keys``: one
    aggregate query on the report's own predicates (``reports.measures``)."""
    fr = fault_filter(f)
    predicates = measures.order_predicates(fr)
    return (
        select(
            *keys,
            func.count(WorkOrder.id).label("faults"),
            _count(predicates["repeated"]).label("repeat_faults"),
            (_count(predicates["response_breached"]) + _count(predicates["restore_breached"])).label(
                "breaches"
            ),
        )
        .select_from(joined(fr))
        .where(*received_in_range(fr))
        .group_by(*keys)
    )


def district_counts(session: Session, f: ReportFilter) -> dict[str | None, dict[str, int]]:
    """Each district's faults, repeat faults and breaches (None: sites with no district); the
    same numbers as the report grouped by district over repairs, without its other figures."""
    return {
        row.district: {measure: int(getattr(row, measure)) for measure in MEASURES}
        for row in session.execute(_counts(f, Site.district))
    }


def _count(condition: ColumnElement) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def site_counts(session: Session, f: ReportFilter) -> list[SiteCounts]:
    """Every site with a position and a fault in the filter's range, and its figures (a site
    with no position cannot be drawn; its faults still count in its district)."""
    stmt = _counts(f, Site.id, Site.district, Site.lat, Site.lon).where(
        Site.lat.isnot(None), Site.lon.isnot(None)
    )
    return [
        SiteCounts(
            site_id=row.id,
            district=row.district,
            lat=round(float(row.lat), COORDINATE_DIGITS),
            lon=round(float(row.lon), COORDINATE_DIGITS),
            faults=int(row.faults),
            repeat_faults=int(row.repeat_faults),
            breaches=int(row.breaches),
        )
        for row in session.execute(stmt.order_by(Site.id))
    ]


def district_centres(session: Session) -> dict[str, Point]:
    """The mean position of each district's sites (all sites with coordinates, whatever the
    filter: the shapes do not move with the date range)."""
    stmt = (
        select(Site.district, func.avg(Site.lat), func.avg(Site.lon))
        .where(Site.district.isnot(None), Site.lat.isnot(None), Site.lon.isnot(None))
        .group_by(Site.district)
    )
    return {district: (float(lat), float(lon)) for district, lat, lon in session.execute(stmt)}


def site_extent(session: Session) -> tuple[Point, Point] | None:
    """South-west and north-east corners of all sites with coordinates (None: no such site)."""
    row = session.execute(
        select(func.min(Site.lat), func.min(Site.lon), func.max(Site.lat), func.max(Site.lon)).where(
            Site.lat.isnot(None), Site.lon.isnot(None)
        )
    ).one()
    if row[0] is None:
        return None
    return (float(row[0]), float(row[1])), (float(row[2]), float(row[3]))


def bounding_box(centres: Mapping[str, Point], extent: tuple[Point, Point] | None) -> tuple[Point, Point]:
    """The box the district cells fill: the sites' extent and every centre, padded."""
    lats = [lat for lat, _lon in centres.values()]
    lons = [lon for _lat, lon in centres.values()]
    if extent is not None:
        lats += [extent[0][0], extent[1][0]]
        lons += [extent[0][1], extent[1][1]]
    return (
        (min(lats) - BOX_PADDING_DEG, min(lons) - BOX_PADDING_DEG),
        (max(lats) + BOX_PADDING_DEG, max(lons) + BOX_PADDING_DEG),
    )


def voronoi_cells(centres: Mapping[str, Point], box: tuple[Point, Point]) -> dict[str, list[Point]]:
    """Each centre's Voronoi cell inside ``box`` as a polygon of (lat, lon) corners.

    Distances are measured with the longitude scaled by the cosine of the box's middle
    latitude, so the bisectors are true ones on the ground at a city's scale. The box
    rectangle is cut by the half-plane "closer to this centre than to that one" for every
    other centre (Sutherland-Hodgman clipping); what is left is the cell. Two districts with
    the same centre would have no bisector: the later one gets an empty cell.
    """
    (south, west), (north, east) = box
    scale = math.cos(math.radians((south + north) / 2))

    def flat(p: Point) -> tuple[float, float]:
        return p[1] * scale, p[0]

    cells: dict[str, list[Point]] = {}
    names = list(centres)
    for i, name in enumerate(names):
        polygon = [flat(p) for p in ((south, west), (south, east), (north, east), (north, west))]
        here = flat(centres[name])
        for j, other_name in enumerate(names):
            if i == j:
                continue
            other = flat(centres[other_name])
            if other == here:
                if j < i:
                    polygon = []
                continue
            polygon = _keep_closer(polygon, here, other)
        cells[name] = [(y, x / scale) for x, y in polygon]
    return cells


def _keep_closer(polygon: list[tuple[float, float]], a, b) -> list[tuple[float, float]]:
    """The part of ``polygon`` at least as close to ``a`` as to ``b``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2

    def side(p) -> float:  # <= 0 on a's side of the bisector
        return (p[0] - mx) * dx + (p[1] - my) * dy

    kept: list[tuple[float, float]] = []
    for k, current in enumerate(polygon):
        previous = polygon[k - 1]
        s_cur, s_prev = side(current), side(previous)
        if (s_cur <= 0) != (s_prev <= 0):  # the edge crosses the bisector: keep the crossing
            t = s_prev / (s_prev - s_cur)
            kept.append(
                (previous[0] + t * (current[0] - previous[0]), previous[1] + t * (current[1] - previous[1]))
            )
        if s_cur <= 0:
            kept.append(current)
    return kept


def district_shapes(
    session: Session, centres: Mapping[str, Point] | None = None
) -> tuple[dict[str, list[Point]], tuple[Point, Point] | None]:
    """Each district's polygon and the box they fill (None when no district can be placed).
    ``centres`` replaces the sites' mean positions (a table of district centres)."""
    centres = dict(centres) if centres is not None else district_centres(session)
    if not centres:
        return {}, None
    box = bounding_box(centres, site_extent(session))
    return voronoi_cells(centres, box), box


def places(session: Session, f: ReportFilter, centres: Mapping[str, Point] | None = None) -> dict[str, Any]:
    """Everything the maps draw for ``f``: districts with shapes and figures, sites with figures,
    the box, and the districts with faults that could not be drawn (no position known)."""
    shapes, box = district_shapes(session, centres)
    counts = district_counts(session, f)
    zero = dict.fromkeys(MEASURES, 0)
    districts = [
        {"name": name, "polygon": polygon, **counts.get(name, zero)}
        for name, polygon in sorted(shapes.items())
        if polygon
    ]
    unplaced = {name: c for name, c in counts.items() if name not in shapes or not shapes[name]}
    return {"districts": districts, "sites": site_counts(session, f), "box": box, "unplaced": unplaced}
