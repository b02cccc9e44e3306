"""The fault maps: figures per district and per site against the hand-made history, the
districts' shapes, the map in the report page's frame and as one offline file, no CDN."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from reports import figures, maps, places
from reports.filters import ReportFilter
from tests.reports import dataset
from tests.reports.test_report_pages import RANGE, _log_in
from workorders.models import Site

SEP, NOV = date(2026, 9, 1), date(2026, 11, 1)
STATIC = Path(__file__).resolve().parents[2] / "static"
# Where the history's sites stand (dataset.py gives them none).
POSITIONS = {
    "S1": (31.851, 117.262),
    "S3": (31.857, 117.251),
    "S2": (31.793, 117.309),
    "S4": (31.788, 117.314),
}
URL = re.compile(r"https?://", re.IGNORECASE)


def _place_sites(db) -> None:
    for site in db.scalars(select(Site)):
        site.lat, site.lon = POSITIONS[site.address.split()[0]]
    db.commit()


@pytest.fixture()
def history(app, db):
    found = dataset.build(db)
    _place_sites(db)
    return found


@pytest.fixture()
def manager(history, world):
    world.user("boss", "manager")
    return history


def _filter(**kwargs) -> ReportFilter:
    return ReportFilter(date_from=SEP, date_to=NOV, **kwargs)


# ---- the figures behind the maps ----


def test_district_figures_are_the_reports_repairs(db, history):
    counts = places.district_counts(db, _filter())
    # 蜀山区: R1 R2 R5 R6; repeats R1 (R2 29 days on) and R5 (R6 exactly 30 days on);
    # missed: R2's response and restore. 包河区: R3 R4 C1; R4 missed both, never answered.
    assert counts == {
        dataset.SHUSHAN: {"faults": 4, "repeat_faults": 2, "breaches": 2},
        dataset.BAOHE: {"faults": 3, "repeat_faults": 0, "breaches": 2},
    }
    report = figures.report(db, _filter(kind="repair", group_by="district"), with_totals=False)
    for row in report["rows"]:
        assert counts[row["group"]]["faults"] == row["received"]
        assert counts[row["group"]]["breaches"] == row["response"]["breached"] + row["restore"]["breached"]


def test_site_figures_add_up_to_their_district(db, history):
    sites = {s.site_id: s for s in places.site_counts(db, _filter())}
    by_address = {site.address.split()[0]: site.id for site in db.scalars(select(Site))}
    figures_of = {
        name: (sites[sid].faults, sites[sid].repeat_faults, sites[sid].breaches)
        for name, sid in by_address.items()
    }
    assert figures_of == {"S1": (2, 1, 2), "S2": (2, 0, 2), "S3": (2, 1, 0), "S4": (1, 0, 0)}
    assert (sites[by_address["S1"]].lat, sites[by_address["S1"]].lon) == POSITIONS["S1"]
    districts = places.district_counts(db, _filter())
    for district, counts in districts.items():
        mine = [s for s in sites.values() if s.district == district]
        for measure in places.MEASURES:
            assert sum(getattr(s, measure) for s in mine) == counts[measure]


def test_a_site_with_no_position_counts_in_its_district_not_on_the_heat_map(db, history):
    s4 = db.scalar(select(Site).where(Site.address.startswith("S4")))
    s4.lat = s4.lon = None
    db.commit()
    assert s4.id not in {s.site_id for s in places.site_counts(db, _filter())}
    assert places.district_counts(db, _filter())[dataset.BAOHE]["faults"] == 3  # C1 at S4 still counts


def test_the_page_filters_narrow_the_places(db, history):
    counts = places.district_counts(db, _filter(district=dataset.BAOHE))
    assert counts == {dataset.BAOHE: {"faults": 3, "repeat_faults": 0, "breaches": 2}}
    # an install filter still maps the repairs: the maps are about faults
    assert places.district_counts(db, _filter(kind="install")) == places.district_counts(db, _filter())
    adsl = {s.district: s.faults for s in places.site_counts(db, _filter(product="adsl"))}
    assert adsl == {dataset.SHUSHAN: 2, dataset.BAOHE: 2}  # R5 R6; R3 R4


# ---- the districts' shapes ----


def _area(polygon) -> float:
    return (
        abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(polygon, polygon[1:] + polygon[:1], strict=True)))
        / 2
    )


def _inside(point, polygon) -> bool:
    inside = False
    for (y1, x1), (y2, x2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > point[0]) != (y2 > point[0]) and point[1] < x1 + (point[0] - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_voronoi_cells_tile_the_box_and_hold_their_centre():
    centres = {"a": (31.85, 117.26), "b": (31.79, 117.31), "c": (31.73, 117.29), "d": (31.82, 117.20)}
    box = ((31.70, 117.15), (31.90, 117.35))
    cells = places.voronoi_cells(centres, box)
    assert sum(_area(cell) for cell in cells.values()) == pytest.approx(0.2 * 0.2)
    for name, centre in centres.items():
        assert _inside(centre, cells[name])
        assert not any(_inside(other, cells[name]) for o, other in centres.items() if o != name)


def test_one_district_fills_the_box_and_a_shared_centre_is_drawn_once():
    box = ((31.7, 117.2), (31.9, 117.4))
    assert _area(places.voronoi_cells({"a": (31.8, 117.3)}, box)["a"]) == pytest.approx(0.04)
    cells = places.voronoi_cells({"a": (31.8, 117.3), "b": (31.8, 117.3)}, box)
    assert _area(cells["a"]) == pytest.approx(0.04) and cells["b"] == []


def test_shapes_come_from_the_sites_or_a_table_of_centres(db, history):
    shapes, box = places.district_shapes(db)
    assert set(shapes) == {dataset.SHUSHAN, dataset.BAOHE}
    (south, west), (north, east) = box
    assert south == pytest.approx(31.788 - places.BOX_PADDING_DEG) and east == pytest.approx(117.314 + 0.02)
    table = {
        dataset.SHUSHAN: (31.851, 117.260),
        dataset.BAOHE: (31.793, 117.309),
        "滨湖新区": (31.73, 117.29),
    }
    shapes, _box = places.district_shapes(db, table)
    assert set(shapes) == set(table)


# ---- the map ----


def _feature_collections(html: str) -> list[dict]:
    return [
        json.loads(found) for found in re.findall(r'_add\((\{"features".*?"FeatureCollection"\})\);', html)
    ]


def _fills(styler: str, districts) -> dict[str, str]:
    """Each district's fill colour from folium's style function (a case per district, the
    most common style as the default)."""
    cases = {
        json.loads(name): json.loads(style)
        for name, style in re.findall(r"case (\".*?\"):\s*return (\{.*?\});", styler)
    }
    default = json.loads(re.search(r"default:\s*return (\{.*?\});", styler).group(1))
    return {name: cases.get(name, default)["fillColor"] for name in districts}


def test_the_choropleth_carries_the_report_figures(client, manager, db):
    _log_in(client, "boss")
    resp = client.get(f"/reports/map?{RANGE}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    layers = _feature_collections(html)
    assert len(layers) == len(places.MEASURES)  # one district layer per measure
    expected = places.district_counts(db, _filter())
    for layer in layers:
        shown = {
            f["properties"]["name"]: {m: f["properties"][m] for m in places.MEASURES}
            for f in layer["features"]
        }
        assert shown == expected
    # faults: 蜀山区 has the most (4), so it is drawn in the darkest colour
    fills = _fills(re.search(r"_styler\(feature\) \{(.*?)\n        \}", html, re.S).group(1), expected)
    assert (
        fills[dataset.SHUSHAN].startswith(maps.FILL_COLOURS[2])
        and fills[dataset.BAOHE] != fills[dataset.SHUSHAN]
    )
    # the heat layer weighs each placed site by its faults
    heat = json.loads(re.search(r"L\.heatLayer\(\s*(\[\[.*?\]\])", html, re.S).group(1))
    assert sorted(heat) == sorted(
        [[*POSITIONS[name], n] for name, n in (("S1", 2), ("S2", 2), ("S3", 2), ("S4", 1))]
    )


def test_the_embedded_map_loads_nothing_from_the_internet(client, manager):
    _log_in(client, "boss")
    resp = client.get(f"/reports/map?{RANGE}")
    html = resp.get_data(as_text=True)
    assert not URL.search(html), URL.search(html)
    assert (
        "/static/vendor/leaflet/leaflet.js" in html and "/static/vendor/leaflet.heat/leaflet-heat.js" in html
    )
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
    # its inline scripts run under the page's policy, and our own pages may frame it
    policy = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "frame-ancestors 'self'" in policy and resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_the_download_is_one_offline_file(client, manager):
    _log_in(client, "boss")
    resp = client.get(f"/reports/map.html?{RANGE}&download=1")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert (
        resp.headers["Content-Disposition"] == 'attachment; filename="fault-map_2026-09-01_2026-11-01.html"'
    )
    assert not re.search(r"<script[^>]+src=|<link\b", html)  # nothing left to fetch
    leaflet = (STATIC / "vendor/leaflet/leaflet.js").read_text(encoding="utf-8")
    heat = (STATIC / "vendor/leaflet.heat/leaflet-heat.js").read_text(encoding="utf-8")
    assert leaflet in html and heat in html
    assert "url(data:image/png;base64," in html and "url(images/" not in html
    # Leaflet's own text names its website and the SVG namespace; apart from the vendored
    # code (copied unmodified), the file names no host at all
    rest = html.replace(leaflet, "").replace(heat, "")
    rest = re.sub(r"<style>/\* vendor/leaflet/leaflet.css \*/.*?</style>", "", rest, flags=re.S)
    assert not URL.search(rest), URL.search(rest)
    assert _feature_collections(html)  # the same map
    shown = client.get(f"/reports/map.html?{RANGE}")
    assert "Content-Disposition" not in shown.headers and shown.status_code == 200


def test_chinese_by_default_english_on_request(client, manager):
    _log_in(client, "boss")
    html = client.get(f"/reports/map?{RANGE}").get_data(as_text=True)
    assert "故障地图" in html  # the title and the legend; layer names are in the scripts, JSON-escaped
    assert json.dumps("按区：故障") in html and json.dumps("按站点热力：30 天内重复故障") in html
    assert "2026-09-01 至 2026-10-31 受理的故障单" in html
    english = client.get(f"/reports/map.html?{RANGE}&lang=en").get_data(as_text=True)
    assert (
        "Fault map" in english
        and "Faults by district" in english
        and "Deadlines missed by site (heat)" in english
    )


def test_the_report_page_frames_the_map_and_offers_the_download(client, manager):
    _log_in(client, "boss")
    html = client.get(f"/reports?{RANGE}").get_data(as_text=True)
    frame = re.search(r'<iframe src="([^"]+)" id="map-frame"', html).group(1).replace("&amp;", "&")
    assert frame.startswith("/reports/map?") and "from=2026-09-01" in frame
    assert client.get(frame).status_code == 200
    download = re.search(r'href="([^"]+)" id="map-download"', html).group(1).replace("&amp;", "&")
    assert download.startswith("/reports/map.html?") and "download=1" in download
    assert client.get(download).headers["Content-Disposition"].startswith("attachment")


def test_sites_without_a_position_are_named_not_drawn(client, manager, db):
    for site in db.scalars(select(Site)):
        site.lat = site.lon = None
    db.commit()
    _log_in(client, "boss")
    resp = client.get(f"/reports/map?{RANGE}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert _feature_collections(html) == []
    assert "未在地图上（位置不明）" in html and dataset.SHUSHAN in html


def test_the_maps_are_for_managers_only(client, manager, world):
    assert client.get(f"/reports/map?{RANGE}").status_code == 302  # to the login page
    world.user("agent1", "agent")
    _log_in(client, "agent1")
    assert client.get(f"/reports/map?{RANGE}").status_code == 403
    assert client.get(f"/reports/map.html?{RANGE}&download=1").status_code == 403


def test_bad_filters_fall_back_never_fail(client, manager):
    _log_in(client, "boss")
    assert client.get("/reports/map?from=2026-13-40&district=" + "x" * 300).status_code == 200
    assert client.get("/reports/map.html?to=2020-01-01&from=2026-01-01&download=1").status_code == 200
