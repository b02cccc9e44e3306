"""The roster's staff API and page: clear 4xx on bad input, who may edit, the expiring
certificates list at its 30-day edge, the week view, and leave decided only by the
technician's supervisor or a manager."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.models import User
from tests.factories import PASSWORD, csrf_token

WEEK = date(2026, 12, 7)  # a Monday


@pytest.fixture()
def staff(world, city_time):
    city_time(datetime(2026, 11, 30, 9, 0))
    for name, role in (("disp", "dispatcher"), ("boss", "manager"), ("agent", "agent")):
        world.user(name, role)
    return {name: world.headers(name) for name in ("disp", "boss", "agent")}


def _user_id(db, username: str) -> int:
    return db.scalar(select(User.id).where(User.username == username))


def test_bad_patterns_are_422_with_the_field_named(client, staff):
    cases = [
        ({"name": "x", "start": "17:00", "end": "08:00"}, "end"),
        ({"name": "x", "start": "25:00", "end": "26:00"}, "start"),
        ({"name": "x", "start": "08:00", "end": "17:00", "lunch_start": "07:00"}, "lunch_start"),
        ({"name": "x", "kind": "rota", "start": "08:00", "end": "17:00", "cycle": []}, "cycle"),
        ({"name": "x", "kind": "monthly", "start": "08:00", "end": "17:00"}, "kind"),
    ]
    for body, field in cases:
        resp = client.post("/api/v1/roster/patterns", headers=staff["disp"], json=body)
        assert resp.status_code == 422, body
        assert field in str(resp.get_json()["errors"]), resp.get_json()


def test_a_pattern_is_created_read_back_and_a_duplicate_is_409(client, staff):
    body = {"name": "白班", "start": "08:30", "end": "17:30", "lunch_start": "12:00"}
    made = client.post("/api/v1/roster/patterns", headers=staff["disp"], json=body)
    assert made.status_code == 201
    assert {k: made.get_json()[k] for k in ("start", "end", "lunch_start", "kind")} == {
        "start": "08:30", "end": "17:30", "lunch_start": "12:00", "kind": "working_days"
    }  # fmt: skip
    assert client.post("/api/v1/roster/patterns", headers=staff["disp"], json=body).status_code == 409
    assert client.post("/api/v1/roster/patterns", headers=staff["agent"], json=body).status_code == 403
    listed = client.get("/api/v1/roster/patterns", headers=staff["agent"]).get_json()
    assert [p["name"] for p in listed] == ["白班"]


def test_bad_exceptions_and_ranges_are_4xx(client, world, staff):
    tech_id = world.technician("t1", ["adsl"])
    post = lambda body: client.post("/api/v1/roster/exceptions", headers=staff["disp"], json=body)  # noqa: E731
    day = WEEK.isoformat()
    assert post({"technician_id": tech_id, "day": day, "kind": "leave", "start": "09:00"}).status_code == 422
    assert post({"technician_id": tech_id, "day": day, "kind": "overtime"}).status_code == 422
    assert post({"technician_id": tech_id, "day": day, "kind": "holiday"}).status_code == 422
    assert (
        post(
            {"technician_id": tech_id, "day": day, "kind": "training", "start": "12:00", "end": "10:00"}
        ).status_code
        == 422
    )
    assert post({"technician_id": 999999, "day": day, "kind": "leave"}).status_code == 404
    assert post({"technician_id": tech_id, "day": day, "kind": "leave"}).status_code == 201
    for far in ({"week": "9999-12-31"}, {"week": "0001-01-01"}):
        assert client.get("/api/v1/roster/week", headers=staff["agent"], query_string=far).status_code == 422
    too_long = {"first": "2026-12-01", "last": "2027-03-01"}
    assert (
        client.get("/api/v1/roster/exceptions", headers=staff["agent"], query_string=too_long).status_code
        == 422
    )
    found = client.get(
        "/api/v1/roster/exceptions", headers=staff["agent"], query_string={"first": day, "last": day}
    ).get_json()
    assert [(e["technician_id"], e["kind"], e["start"]) for e in found] == [(tech_id, "leave", None)]
    shifts = client.get(
        f"/api/v1/roster/technicians/{tech_id}/shifts",
        headers=staff["agent"],
        query_string={"first": day, "last": (WEEK + timedelta(days=1)).isoformat()},
    ).get_json()
    assert [d["shift"] and (d["shift"]["start"], d["shift"]["end"]) for d in shifts] == [
        None,
        ("08:30", "17:30"),
    ]


def test_teams_refuse_a_duplicate_name_and_a_supervisor_who_is_not_staff(client, world, staff, db):
    world.user("cust", "technician")
    assert client.post("/api/v1/roster/teams", headers=staff["boss"], json={"name": "A组"}).status_code == 201
    assert client.post("/api/v1/roster/teams", headers=staff["boss"], json={"name": "A组"}).status_code == 409
    tech_user_id = _user_id(db, "cust")
    bad = client.post(
        "/api/v1/roster/teams",
        headers=staff["boss"],
        json={"name": "B组", "supervisor_user_id": tech_user_id},
    )
    assert bad.status_code == 422 and "supervisor_user_id" in bad.get_json()["errors"]
    assert (
        client.patch("/api/v1/roster/teams/999999", headers=staff["boss"], json={"name": "C"}).status_code
        == 404
    )


def test_the_expiring_list_holds_today_to_30_days_ahead(client, world, staff):
    today = date(2026, 11, 30)
    cases = {"t1": 0, "t2": 30, "t3": 31, "t4": -1}
    for username, days in cases.items():
        tech_id = world.technician(username, ["lan"])
        resp = client.post(
            f"/api/v1/roster/technicians/{tech_id}/certifications",
            headers=staff["disp"],
            json={
                "skill": "adsl",
                "certified_on": "2024-01-01",
                "expires_on": (today + timedelta(days)).isoformat(),
            },
        )
        assert resp.status_code == 201
    found = client.get("/api/v1/roster/certifications/expiring", headers=staff["boss"]).get_json()
    assert [(c["name"], c["days_left"]) for c in found] == [("T1", 0), ("T2", 30)]
    bad = client.post(
        f"/api/v1/roster/technicians/{tech_id}/certifications",
        headers=staff["disp"],
        json={"skill": "adsl", "certified_on": "2026-01-01", "expires_on": "2025-01-01"},
    )
    assert bad.status_code == 422
    assert (
        client.get(
            "/api/v1/roster/certifications/expiring", headers=staff["boss"], query_string={"within_days": 0}
        ).status_code
        == 422
    )


def test_a_dispatcher_decides_leave_only_for_a_team_they_supervise(client, world, staff, db):
    tech_id = world.technician("t1", ["adsl"])
    asked = client.post(
        "/mobile/v1/leave-requests",
        headers=world.headers("t1"),
        json={"start_on": "2026-12-07", "end_on": "2026-12-08"},
    ).get_json()
    url = f"/api/v1/roster/leave-requests/{asked['id']}/decision"
    assert client.post(url, headers=staff["disp"], json={"approve": True}).status_code == 403
    disp_id = _user_id(db, "disp")
    team = client.post(
        "/api/v1/roster/teams", headers=staff["boss"], json={"name": "A组", "supervisor_user_id": disp_id}
    ).get_json()
    member = client.patch(
        f"/api/v1/roster/technicians/{tech_id}", headers=staff["boss"], json={"team_id": team["id"]}
    )
    assert member.status_code == 200 and member.get_json()["team_id"] == team["id"]
    assert (
        client.post(url, headers=staff["disp"], json={"approve": False, "note": "人手不够"}).status_code
        == 200
    )
    mine = client.get("/mobile/v1/leave-requests", headers=world.headers("t1")).get_json()
    assert [(r["status"], r["decision_note"]) for r in mine] == [("rejected", "人手不够")]
    week = client.get(
        "/api/v1/roster/week", headers=staff["agent"], query_string={"week": "2026-12-09"}
    ).get_json()
    assert week["days"][0]["day"] == "2026-12-07"
    assert all(d["shift"] is not None for d in week["technicians"][0]["days"])  # rejected: still working


def test_bad_leave_requests_are_422(client, world, staff):
    world.technician("t1", ["adsl"])
    headers = world.headers("t1")
    for body in (
        {"start_on": "2026-12-08", "end_on": "2026-12-07"},
        {"start_on": "2026-12-01", "end_on": "2027-01-15"},
        {"start_on": "2026-11-01", "end_on": "2026-11-02"},
        {"kind": "training", "start_on": "2026-12-01", "end_on": "2026-12-01"},
    ):
        assert client.post("/mobile/v1/leave-requests", headers=headers, json=body).status_code == 422, body


def _login(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302


def test_the_roster_page_shows_the_week_and_adds_leave_from_its_form(client, world, staff):
    tech_id = world.technician("t1", ["adsl"])
    _login(client, "boss")
    page = client.get("/roster", query_string={"week": WEEK.isoformat()})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "排班" in html and f'id="tech-{tech_id}"' in html
    resp = client.post(
        "/roster/exceptions",
        data={"csrf_token": csrf_token(html), "technician_id": tech_id, "day": "2026-12-08", "kind": "leave",
              "week": WEEK.isoformat()},
    )  # fmt: skip
    assert resp.status_code == 200
    after = resp.get_data(as_text=True)
    assert 'data-day="2026-12-08"' in after and "休假" in after
    bad = client.post(
        "/roster/exceptions",
        data={"csrf_token": csrf_token(html), "technician_id": tech_id, "day": "x", "kind": "leave"},
    )
    assert bad.status_code == 422
    assert client.get("/roster", query_string={"week": "9999-12-31"}).status_code == 200  # this week instead
    english = client.get("/roster", query_string={"lang": "en"}).get_data(as_text=True)
    assert "Roster" in english


def test_an_assignment_is_edited_in_place_and_its_days_follow(client, world, staff):
    # a technician leaves the weekend rota: the assignment gets a last day, nothing re-made
    tech_id = world.technician("t1", ["adsl"])
    rota = {"name": "周末班", "kind": "rota", "start": "09:00", "end": "18:00", "cycle": [True]}
    nights = {"name": "夜班", "kind": "rota", "start": "18:00", "end": "23:00", "cycle": [True]}
    pattern_ids = [
        client.post("/api/v1/roster/patterns", headers=staff["disp"], json=body).get_json()["id"]
        for body in (rota, nights)
    ]
    made = client.post(
        "/api/v1/roster/assignments",
        headers=staff["disp"],
        json={"technician_id": tech_id, "pattern_id": pattern_ids[0], "start_on": WEEK.isoformat()},
    ).get_json()
    url = f"/api/v1/roster/assignments/{made['id']}"

    def hours(day: date) -> tuple | None:
        resp = client.get(
            f"/api/v1/roster/technicians/{tech_id}/shifts",
            headers=staff["disp"],
            query_string={"first": day.isoformat(), "last": day.isoformat()},
        )
        assert resp.status_code == 200, resp.get_json()
        (found,) = resp.get_json()
        shift = found["shift"]
        return None if shift is None else (shift["start"], shift["end"], shift["source"])

    assert hours(WEEK + timedelta(days=3)) == ("09:00", "18:00", "pattern")
    ended = client.patch(url, headers=staff["disp"], json={"end_on": (WEEK + timedelta(days=1)).isoformat()})
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["end_on"] == (WEEK + timedelta(days=1)).isoformat()
    assert hours(WEEK + timedelta(days=1)) == ("09:00", "18:00", "pattern")
    assert hours(WEEK + timedelta(days=3)) != ("09:00", "18:00", "pattern")  # back to the own shift
    moved = client.patch(url, headers=staff["disp"], json={"pattern_id": pattern_ids[1], "end_on": None})
    assert moved.status_code == 200 and moved.get_json()["pattern_name"] == "夜班"
    assert hours(WEEK + timedelta(days=3)) == ("18:00", "23:00", "pattern")
    listed = client.get(
        "/api/v1/roster/assignments", headers=staff["agent"], query_string={"technician_id": tech_id}
    )
    assert [(a["pattern_name"], a["end_on"]) for a in listed.get_json()] == [("夜班", None)]
    # bad edits: nothing changes
    before_first = (WEEK - timedelta(days=1)).isoformat()
    assert client.patch(url, headers=staff["disp"], json={"end_on": before_first}).status_code == 422
    assert client.patch(url, headers=staff["disp"], json={"technician_id": 1}).status_code == 422
    assert client.patch(url, headers=staff["disp"], json={"pattern_id": 999999}).status_code in (404, 422)
    assert client.patch(url, headers=staff["agent"], json={"end_on": None}).status_code == 403
    assert (
        client.patch("/api/v1/roster/assignments/999999", headers=staff["disp"], json={}).status_code == 404
    )
    assert hours(WEEK + timedelta(days=3)) == ("18:00", "23:00", "pattern")
