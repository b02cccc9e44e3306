"""The geocoder named by GEOCODER: sources, the cache, and a bad setting stopping the start."""

from __future__ import annotations

import json

import pytest
from geopy.location import Location
from geopy.point import Point

from application import create_app
from core.config import Config
from core.geocoding import CachedGeocoder, LocalTableGeocoder, NoGeocoder, from_spec


def test_a_table_file_names_places(tmp_path):
    places = tmp_path / "places.json"
    places.write_text(json.dumps({"滨湖新区": [31.73, 117.29], "新区": [1, 1]}, ensure_ascii=False), "utf-8")
    found = from_spec(f"table:{places}").geocode("合肥市滨湖新区徽州大道1号")
    assert (found.latitude, found.longitude) == (31.73, 117.29)


def test_a_registered_table_is_named_by_its_name_and_empty_means_none():
    geocoder = from_spec("demo", tables={"demo": {"包河区": (31.79, 117.31)}})
    assert geocoder.geocode("合肥市包河区望江路").latitude == 31.79
    assert from_spec("").geocode("合肥市包河区望江路") is None


def test_an_unknown_source_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="nominatim:URL, baidu:KEY, table:PATH, demo"):
        from_spec("google", tables={"demo": {}})


class Counting:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def geocode(self, address: str) -> Location | None:
        self.asked.append(address)
        return Location(address, Point(31.0, 117.0), {}) if "路" in address else None


def test_the_cache_asks_the_source_once_per_address_found_or_not():
    source = Counting()
    geocoder = CachedGeocoder(source, size=2)
    for address in ("望江路 1号", "望江路  1号", "无名", "无名"):
        geocoder.geocode(address)
    assert source.asked == ["望江路 1号", "无名"]  # spaces do not make a new address
    geocoder.geocode("长江路")  # a third address pushes out the oldest
    geocoder.geocode("望江路 1号")
    assert source.asked == ["望江路 1号", "无名", "长江路", "望江路 1号"]


def test_production_without_a_geocoder_finds_nothing_and_a_bad_one_stops_the_start(tmp_path):
    base = dict(DATABASE_URL=f"sqlite:///{tmp_path / 'g.db'}", SECRET_KEY="x" * 40, PHOTO_DIR=str(tmp_path))
    app = create_app(Config(APP_ENV="production", TESTING=True, **base))
    inner = app.extensions["geocoder"]._inner
    assert isinstance(inner, NoGeocoder)
    dev = create_app(Config(APP_ENV="development", **base))
    assert isinstance(dev.extensions["geocoder"]._inner, LocalTableGeocoder)
    with pytest.raises(ValueError, match="GEOCODER='somewhere'"):
        create_app(Config(APP_ENV="development", GEOCODER="somewhere", **base))
