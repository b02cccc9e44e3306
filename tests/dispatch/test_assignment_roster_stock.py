"""Assigning one order by hand asks the roster and the van as the day plan does:
a certificate expired by the day planned is no skill, and a van without the
equipment the job consumes takes no such job (once stock is kept)."""

from __future__ import annotations

from datetime import date, datetime

from technicians import certifications
from tests.conftest import ADMIN
from tests.factories import Console

WEDNESDAY, THURSDAY = date(2026, 12, 2), date(2026, 12, 3)


def _assign(client, headers, oid: int, tech: int, day: date):
    body = {"to": "assigned", "technician_id": tech, "planned_start": f"{day.isoformat()}T10:00:00"}
    return client.post(f"/api/v1/workorders/{oid}/transitions", headers=headers, json=body)


def test_a_certificate_expired_by_the_day_planned_is_no_skill(client, world, db, city_time):
    city_time(datetime(2026, 11, 30, 8, 0))
    world.user("disp", "dispatcher")
    headers = world.headers("disp")
    tech = world.technician("t1", ["lan"])
    certifications.certify(
        db, ADMIN, tech, {"skill": "adsl", "certified_on": date(2025, 1, 1), "expires_on": WEDNESDAY}
    )
    db.commit()
    home = world.customer("李雷")
    late = world.order(headers, home, product="adsl")
    refused = _assign(client, headers, late, tech, THURSDAY)
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["missing_skills"] == ["adsl"]
    on_expiry_day = _assign(client, headers, world.order(headers, home, product="adsl"), tech, WEDNESDAY)
    assert on_expiry_day.status_code == 200, on_expiry_day.get_json()


def test_a_van_without_a_set_top_box_is_given_no_iptv_install(field, client, db, city_time):
    city_time(datetime(2026, 11, 30, 8, 0))
    # Stock is kept from the first issue on: cable and plugs, no set-top box.
    lines = [{"item": "cable_m", "quantity": 100}, {"item": "rj45", "quantity": 20}]
    issued = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/issue", headers=field.disp, json={"lines": lines}
    )
    assert issued.status_code == 201, issued.get_json()
    install = field.world.order(field.agent, field.home, kind="install", product="iptv_adsl", priority="P3")
    version = client.get(f"/api/v1/workorders/{install}", headers=field.disp).get_json()["version"]
    body = {"technician_id": field.tech_id, "version": version}
    console = Console(client, "disp")
    status, refused = console.post(f"/orders/{install}/assign", body)
    assert status == 409, refused
    assert refused["type"].endswith("does-not-fit")
    # With a set-top box in the van the same assignment goes through.
    stb = [{"item": "stb", "serials": ["STB-0001"]}]
    assert (
        client.post(
            f"/api/v1/technicians/{field.tech_id}/stock/issue", headers=field.disp, json={"lines": stb}
        ).status_code
        == 201
    )
    status, placed = console.post(f"/orders/{install}/assign", body)
    assert status == 200, placed
