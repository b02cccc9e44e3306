"""The fault maps as a folium page: a choropleth of districts and a heat map of sites.

The figures and shapes come from ``reports.places``; this module only draws them. Every script
and style folium would fetch from a CDN is pointed at the app's vendored copies
(``static/vendor``): Leaflet and Leaflet.heat, nothing else (no jQuery, Bootstrap or marker
fonts: the maps use none of them). There is no tile layer unless one is configured; the
district outlines are enough to read the map offline.

Two renderings of one map: ``linked`` (the page's frame loads the assets from ``/static``) and
``inlined`` (one HTML file carrying every asset, Leaflet's images as data URIs, for a laptop
in a meeting room with no network). Inline scripts carry the request's CSP nonce.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
from branca.colormap import LinearColormap
from branca.element import Element
from folium.plugins import HeatMap
from markupsafe import Markup, escape

from core.messages import N_
from reports.places import MEASURES, SiteCounts

# (name folium knows it by, path under the static folder)
VENDOR_JS = (
    ("leaflet", "vendor/leaflet/leaflet.js"),
    ("leaflet-heat.js", "vendor/leaflet.heat/leaflet-heat.js"),
)
VENDOR_CSS = (("leaflet_css", "vendor/leaflet/leaflet.css"),)
FILL_COLOURS = ("#ffffcc", "#fd8d3c", "#bd0026")  # none -> many
HEAT_RADIUS_PX = 30
DEFAULT_ZOOM = 11
LABEL_STYLE = (
    "<style>.district-label-icon{background:none;border:none}"
    ".district-label{font:12px sans-serif;text-align:center;color:#222;"
    "text-shadow:0 0 3px #fff,0 0 3px #fff}</style>"
)

MEASURE_TITLES = {
    "faults": N_("Faults"),
    "repeat_faults": N_("Repeat faults within 30 days"),
    "breaches": N_("Deadlines missed"),
}
TEXTS = {
    "district": N_("District"),
    "by_district": N_("%(measure)s by district"),
    "by_site": N_("%(measure)s by site (heat)"),
    "title": N_("Fault map"),
    "range": N_("Repairs received %(start)s to %(end)s"),
    "unplaced": N_("Not on the map (no position known): %(names)s"),
    "no_district": N_("(no district)"),
}


@dataclass(frozen=True)
class MapContent:
    """What the map shows: the districts (name, polygon, figures), the sites' figures, the box
    they fill, and the districts with faults that have no shape."""

    districts: Sequence[Mapping[str, Any]]
    sites: Sequence[SiteCounts]
    box: tuple[tuple[float, float], tuple[float, float]] | None
    unplaced: Mapping[str | None, Mapping[str, int]] = field(default_factory=dict)
    caption: str = ""


def build(
    content: MapContent,
    translate: Callable[[str], str] = str,
    asset_url: Callable[[str], str] = lambda path: f"/static/{path}",
    tile_url: str = "",
    tile_attribution: str = "",
) -> folium.Map:
    """The map: one district layer per measure (one shown at a time, picked in the layer
    control) and one site heat layer per measure (faults shown first). ``translate`` renders
    a message id in the reader's language; ``asset_url`` maps a static path to its URL."""
    t = translate
    box = content.box or ((0.0, 0.0), (0.0, 0.0))
    centre = ((box[0][0] + box[1][0]) / 2, (box[0][1] + box[1][1]) / 2)
    fmap = folium.Map(
        location=centre,
        zoom_start=DEFAULT_ZOOM,
        tiles=tile_url or None,
        attr=tile_attribution or None,
        control_scale=True,
    )
    fmap.default_js = [(name, asset_url(path)) for name, path in VENDOR_JS[:1]]
    fmap.default_css = [(name, asset_url(path)) for name, path in VENDOR_CSS]
    fmap.get_root().header.add_child(Element(f"<title>{escape(t(TEXTS['title']))}</title>"), name="title")
    if content.districts:  # a GeoJSON layer with no feature cannot carry its tooltip
        for index, measure in enumerate(MEASURES):
            _district_layer(content, measure, t, shown=index == 0).add_to(fmap)
    for index, measure in enumerate(MEASURES):
        _heat_layer(content.sites, measure, t, asset_url, shown=index == 0).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(Element(_legend(content, t)), name="legend")
    fmap.get_root().header.add_child(Element(LABEL_STYLE), name="label_style")
    if content.box is not None:
        fmap.fit_bounds([list(box[0]), list(box[1])])
    return fmap


def colour_scale(content: MapContent, measure: str) -> LinearColormap:
    """The fill colours of ``measure``: none is pale, the district with most is dark red."""
    top = max((d[measure] for d in content.districts), default=0)
    return LinearColormap(FILL_COLOURS, vmin=0, vmax=max(top, 1))


def _district_layer(content: MapContent, measure: str, t, shown: bool) -> folium.GeoJson:
    scale = colour_scale(content, measure)
    features = [
        {
            "type": "Feature",
            "properties": {
                "name": d["name"],
                **{m: d[m] for m in MEASURES},
            },
            # GeoJSON is (lon, lat) and a closed ring
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[lon, lat] for lat, lon in [*d["polygon"], d["polygon"][0]]]],
            },
        }
        for d in content.districts
    ]
    title = t(MEASURE_TITLES[measure])
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=t(TEXTS["by_district"]) % {"measure": title},
        overlay=False,
        show=shown,
        style_function=lambda feature: {
            "fillColor": scale(feature["properties"][measure]),
            "fillOpacity": 0.6,
            "color": "#555555",
            "weight": 1.5,
        },
        highlight_function=lambda _feature: {"weight": 3, "color": "#222222"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", *MEASURES],
            aliases=[t(TEXTS["district"]), *(t(MEASURE_TITLES[m]) for m in MEASURES)],
            sticky=True,
        ),
    )
    for d in content.districts:  # the name and the number, readable without hovering
        folium.Marker(
            _label_point(d["polygon"]),
            icon=folium.DivIcon(
                html=str(
                    Markup('<div class="district-label">{}<br><b>{}</b></div>').format(d["name"], d[measure])
                ),
                icon_size=(90, 34),
                icon_anchor=(45, 17),
                class_name="district-label-icon",
            ),
            interactive=False,
            keyboard=False,
        ).add_to(layer)
    return layer


def _label_point(polygon: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Where a district's label goes: the mean of its corners (inside, as a cell is convex)."""
    return (sum(p[0] for p in polygon) / len(polygon), sum(p[1] for p in polygon) / len(polygon))


def _heat_layer(sites: Sequence[SiteCounts], measure: str, t, asset_url, shown: bool) -> HeatMap:
    points = [[site.lat, site.lon, getattr(site, measure)] for site in sites if getattr(site, measure)]
    layer = HeatMap(
        points,
        name=t(TEXTS["by_site"]) % {"measure": t(MEASURE_TITLES[measure])},
        show=shown,
        radius=HEAT_RADIUS_PX,
        # Leaflet.heat 0.2.0 saturates at ``max`` (default 1): the busiest site is the hottest.
        max=max((p[2] for p in points), default=1),
    )
    layer.default_js = [(name, asset_url(path)) for name, path in VENDOR_JS[1:]]
    return layer


def _legend(content: MapContent, t) -> str:
    """A box in the corner: the caption, each measure's colour ramp with its range, and the
    districts that could not be drawn."""
    rows = []
    for measure in MEASURES:
        scale = colour_scale(content, measure)
        stops = "".join(
            f'<span style="display:inline-block;width:18px;height:10px;background:{scale(v)}"></span>'
            for v in (scale.vmin, (scale.vmin + scale.vmax) / 2, scale.vmax)
        )
        rows.append(f"<div>{escape(t(MEASURE_TITLES[measure]))}: 0 {stops} {int(scale.vmax)}</div>")
    if content.unplaced:
        names = ", ".join(t(TEXTS["no_district"]) if name is None else name for name in content.unplaced)
        rows.append(f"<div>{escape(t(TEXTS['unplaced']) % {'names': names})}</div>")
    caption = f"<b>{escape(content.caption)}</b>" if content.caption else ""
    return str(
        Markup(
            '<div class="fault-map-legend" style="position:absolute;right:10px;bottom:24px;z-index:1000;'
            'background:rgba(255,255,255,.9);padding:6px 8px;font:12px sans-serif;border-radius:4px">'
        )
        + Markup(caption)
        + Markup("".join(rows))
        + Markup("</div>")
    )


def _with_nonce(html: str, nonce: str | None) -> str:
    if not nonce:
        return html
    return re.sub(r"<script(?=[\s>])", f'<script nonce="{escape(nonce)}"', html)


def linked(fmap: folium.Map, nonce: str | None = None) -> str:
    """The map's HTML loading its assets from the app (for the report page's frame)."""
    return _with_nonce(fmap.get_root().render(), nonce)


def _inline_images(css: str, folder: Path) -> str:
    """``url(images/x.png)`` in a stylesheet as data URIs of the files beside it."""

    def data_uri(match: re.Match) -> str:
        path = folder / match.group(1)
        if not path.is_file():
            return match.group(0)
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def inlined(
    fmap: folium.Map, static_folder: Path, asset_url: Callable[[str], str], nonce: str | None = None
) -> str:
    """The map as one self-contained HTML file: each vendored script and stylesheet copied in
    place of its link (``asset_url`` is the same mapping ``build`` was given)."""
    html = fmap.get_root().render()
    for _name, path in VENDOR_JS:
        tag = f'<script src="{asset_url(path)}"></script>'
        if tag not in html:
            raise ValueError(f"the map does not load {path}")
        code = (static_folder / path).read_text(encoding="utf-8")
        code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
        html = html.replace(tag, f"<script>/* {path} */\n{code}\n</script>")
    for _name, path in VENDOR_CSS:
        tag = f'<link rel="stylesheet" href="{asset_url(path)}"/>'
        if tag not in html:
            raise ValueError(f"the map does not load {path}")
        css = _inline_images(
            (static_folder / path).read_text(encoding="utf-8"), (static_folder / path).parent
        )
        html = html.replace(tag, f"<style>/* {path} */\n{css}\n</style>")
    return _with_nonce(html, nonce)
