"""Technicians: the shared questions (who is working, which skills are missing) and
refusals in the reader's language."""

from __future__ import annotations

from core.models import User
from technicians import service
from technicians.models import Technician


def test_active_technicians_are_the_working_ones_by_id_and_district(world, db):
    first = world.technician("t1", ["adsl"], district="蜀山区")
    second = world.technician("t2", ["lan"], district="包河区")
    retired = world.technician("t3", ["adsl"], district="蜀山区")
    db.get(Technician, retired).active = False
    db.commit()
    assert [t.id for t in service.active_technicians(db)] == [first, second]
    assert [t.id for t in service.active_technicians(db, "蜀山区")] == [first]
    assert [t.id for t in service.list_technicians(db, active=False)] == [retired]
    assert [t.id for t in service.list_technicians(db, skill="adsl")] == [first, retired]


def test_missing_skills_are_the_ones_a_job_needs_and_the_technician_lacks(world, db):
    tech = db.get(Technician, world.technician("t1", ["adsl", "iptv"]))
    assert service.missing_skills(tech, ["iptv", "adsl"]) == []
    assert service.missing_skills(tech, {"lan", "iptv", "enterprise_app"}) == ["enterprise_app", "lan"]
    assert service.missing_skills(tech, None) == []


def test_an_unknown_technician_is_a_404_in_the_readers_language(client, world):
    world.user("disp", "dispatcher")
    headers = world.headers("disp")
    zh = client.get("/api/v1/technicians/999", headers=headers).get_json()
    assert zh["status"] == 404 and zh["detail"] == "未找到装维人员 999。"
    en = client.get("/api/v1/technicians/999", headers={**headers, "Accept-Language": "en"}).get_json()
    assert en["detail"] == "Technician 999 not found."


def test_a_login_already_linked_cannot_be_linked_again(client, world):
    world.user("disp", "dispatcher")
    world.technician("t1", ["adsl"])
    with world.session() as session:
        user_id = session.query(User.id).filter_by(username="t1").scalar()
    body = {"name": "Again", "skills": ["adsl"], "home_lat": 31.8, "home_lon": 117.2, "user_id": user_id}
    resp = client.post("/api/v1/technicians", headers=world.headers("disp"), json=body)
    assert resp.status_code == 422
    assert resp.get_json()["detail"] == "请关联一个尚未绑定装维人员的装维账号。"
