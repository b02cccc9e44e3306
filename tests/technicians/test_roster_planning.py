"""Planning a day with the roster: the effective shift and the skills valid that day go
into the routing problem, a technician off that day is left out, and leave approved for
a planned day marks that plan for a re-plan naming the visits affected."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from dispatch.models import DispatchPlan
from dispatch.planning import build_problem
from technicians import certifications, roster_service
from technicians.models import Technician
from technicians.roster import Team
from tests.conftest import ADMIN
from tests.factories import Console

TUESDAY, WEDNESDAY, THURSDAY = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)


@pytest.fixture()
def monday_morning(city_time):
    return city_time(datetime(2026, 11, 30, 7, 30))


def _specs(db, day):
    problem, _versions = build_problem(db, day)
    return {t.id: t for t in problem.technicians}


def test_a_certificate_counts_on_its_expiry_day_and_not_the_day_after(world, db, monday_morning):
    tech_id = world.technician("t1", ["lan"])
    certifications.certify(
        db, ADMIN, tech_id, {"skill": "adsl", "certified_on": date(2025, 1, 1), "expires_on": WEDNESDAY}
    )
    db.commit()
    assert db.get(Technician, tech_id).skills == ["adsl", "lan"]  # the record keeps the list
    on_expiry_day = _specs(db, WEDNESDAY)[tech_id]
    day_after = _specs(db, THURSDAY)[tech_id]
    assert on_expiry_day.skills == frozenset({"adsl", "lan"})  # lan: no certificate row, kept
    assert day_after.skills == frozenset({"lan"})


def test_a_certificate_not_yet_issued_does_not_count(world, db, monday_morning):
    tech_id = world.technician("t1", ["lan"])
    certifications.certify(
        db, ADMIN, tech_id, {"skill": "iptv", "certified_on": THURSDAY, "expires_on": None}
    )
    db.commit()
    assert "iptv" not in _specs(db, WEDNESDAY)[tech_id].skills
    assert "iptv" in _specs(db, THURSDAY)[tech_id].skills


def test_planning_leaves_out_a_technician_on_leave_and_uses_overtime_hours(world, db, monday_morning):
    away = world.technician("t1", ["adsl"])
    late = world.technician("t2", ["adsl"])
    roster_service.add_exception(db, ADMIN, {"technician_id": away, "day": WEDNESDAY, "kind": "leave"})
    roster_service.add_exception(
        db,
        ADMIN,
        {"technician_id": late, "day": WEDNESDAY, "kind": "overtime", "start_min": 1050, "end_min": 1200},
    )
    db.commit()
    specs = _specs(db, WEDNESDAY)
    assert set(specs) == {late}
    assert (specs[late].shift_start_s, specs[late].shift_end_s) == (510 * 60, 1200 * 60)
    assert specs[late].max_work_s == (480 + 150) * 60
    assert set(_specs(db, THURSDAY)) == {away, late}  # back the next day, on the fixed shift
    assert _specs(db, THURSDAY)[late].shift_end_s == 1050 * 60


def test_a_holiday_on_the_day_pattern_leaves_the_technician_out(world, db, city_time):
    city_time(datetime(2026, 9, 25, 7, 30))
    tech_id = world.technician("t1", ["adsl"])
    pattern = roster_service.create_pattern(
        db,
        ADMIN,
        {"name": "day", "kind": "working_days", "start_min": 510, "end_min": 1050, "lunch_start_min": 720},
    )
    roster_service.assign_pattern(
        db, ADMIN, {"technician_id": tech_id, "pattern_id": pattern.id, "start_on": date(2026, 9, 1)}
    )
    db.commit()
    assert tech_id not in _specs(db, date(2026, 10, 1))
    assert tech_id in _specs(db, date(2026, 10, 10))  # the adjusted working Saturday


def test_coverage_from_team_and_technician_reaches_the_spec(world, db, monday_morning):
    tech_id = world.technician("t1", ["adsl"])
    team = roster_service.create_team(db, ADMIN, {"name": "蜀山一组", "coverage_mode": "hard"})
    roster_service.update_membership(
        db, ADMIN, tech_id, {"team_id": team.id, "coverage_districts": ["蜀山区", "高新区"]}
    )
    db.commit()
    spec = _specs(db, WEDNESDAY)[tech_id]
    assert spec.coverage_districts == frozenset({"蜀山区", "高新区"}) and spec.coverage_hard is True
    db.get(Team, team.id).coverage_mode = "preference"
    db.commit()
    assert _specs(db, WEDNESDAY)[tech_id].coverage_hard is False


def _applied_plan(db, day, tech_id, order_ids) -> int:
    plan = DispatchPlan(
        day=day,
        kind="day",
        status="applied",
        result={
            "routes": [
                {
                    "technician_id": tech_id,
                    "stops": [
                        {"visit_id": str(o), "arrival_s": t, "start_s": t, "end_s": t + 3600, "travel_s": 600}
                        for o, t in zip(order_ids, range(32400, 86400, 4000), strict=False)
                    ],
                    "end_s": 61200,
                }
            ],
            "unassigned": [],
        },
        order_versions={},
        technician_ids=[tech_id],
    )
    db.add(plan)
    db.commit()
    return plan.id


def test_leave_approved_on_a_planned_day_marks_the_plan_with_the_visits(client, world, db, monday_morning):
    world.user("disp", "dispatcher")
    world.user("boss", "manager")
    tech_id = world.technician("t1", ["adsl"])
    other = world.technician("t2", ["adsl"])
    ids = world.customer("张三")
    orders = [world.order(world.headers("disp"), ids) for _ in range(2)]
    plan_id = _applied_plan(db, WEDNESDAY, tech_id, orders)
    _applied_plan(db, THURSDAY, other, [])  # another technician's day: not marked
    asked = client.post(
        "/mobile/v1/leave-requests",
        headers=world.headers("t1"),
        json={
            "kind": "sick",
            "start_on": WEDNESDAY.isoformat(),
            "end_on": THURSDAY.isoformat(),
            "reason": "发烧",
        },
    )
    assert asked.status_code == 201 and asked.get_json()["status"] == "pending"
    replans = client.get("/api/v1/dispatch/replans", headers=world.headers("disp")).get_json()
    assert replans == []  # nothing changes while the request is pending
    decided = client.post(
        f"/api/v1/roster/leave-requests/{asked.get_json()['id']}/decision",
        headers=world.headers("boss"),
        json={"approve": True, "note": "好好休息"},
    )
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    (notice,) = client.get("/api/v1/dispatch/replans", headers=world.headers("disp")).get_json()
    assert (notice["plan_id"], notice["day"], notice["technician_id"]) == (
        plan_id,
        WEDNESDAY.isoformat(),
        tech_id,
    )
    assert notice["reason"] == "sick" and notice["open"] is True
    assert sorted(o["id"] for o in notice["affected_orders"]) == sorted(orders)
    assert tech_id not in _specs(db, WEDNESDAY)
    shifts = client.get(
        "/mobile/v1/shifts",
        headers=world.headers("t1"),
        query_string={"first": TUESDAY.isoformat(), "last": THURSDAY.isoformat()},
    ).get_json()
    assert [d["shift"] is None for d in shifts] == [False, True, True]
    again = client.post(
        f"/api/v1/roster/leave-requests/{asked.get_json()['id']}/decision",
        headers=world.headers("boss"),
        json={"approve": False},
    )
    assert again.status_code == 409


def test_a_newer_plan_for_the_day_closes_the_notice(client, world, db, monday_morning):
    world.user("disp", "dispatcher")
    tech_id = world.technician("t1", ["adsl"])
    _applied_plan(db, WEDNESDAY, tech_id, [])
    roster_service.add_exception(db, ADMIN, {"technician_id": tech_id, "day": WEDNESDAY, "kind": "leave"})
    db.commit()
    headers = world.headers("disp")
    assert len(client.get("/api/v1/dispatch/replans", headers=headers).get_json()) == 1
    db.add(
        DispatchPlan(day=WEDNESDAY, kind="day", status="proposed", result={"routes": []}, technician_ids=[])
    )
    db.commit()
    assert client.get("/api/v1/dispatch/replans", headers=headers).get_json() == []
    (closed,) = client.get(
        "/api/v1/dispatch/replans", headers=headers, query_string={"include_closed": "true"}
    ).get_json()
    assert closed["open"] is False


def test_the_console_plan_review_names_the_replan(client, world, db, monday_morning):
    world.user("disp", "dispatcher")
    tech_id = world.technician("t1", ["adsl"])
    order_id = world.order(world.headers("disp"), world.customer("李四"))
    plan_id = _applied_plan(db, WEDNESDAY, tech_id, [order_id])
    console = Console(client, "disp")
    status, review = console.get(f"/plans/{plan_id}")
    assert status == 200 and review["replan_needed"] == []
    roster_service.add_exception(db, ADMIN, {"technician_id": tech_id, "day": WEDNESDAY, "kind": "sick"})
    db.commit()
    _status, review = console.get(f"/plans/{plan_id}")
    (notice,) = review["replan_needed"]
    assert notice["reason"] == "sick" and [o["id"] for o in notice["affected_orders"]] == [order_id]


def test_a_technician_on_leave_is_no_candidate_for_an_order(world, db, monday_morning):
    from dispatch.assignment import assignment_candidates
    from workorders.models import WorkOrder

    world.user("disp", "dispatcher")
    away = world.technician("t1", ["adsl"])
    there = world.technician("t2", ["adsl"])
    order = db.get(WorkOrder, world.order(world.headers("disp"), world.customer("王五")))
    roster_service.add_exception(db, ADMIN, {"technician_id": away, "day": WEDNESDAY, "kind": "leave"})
    db.commit()
    assert [c["technician_id"] for c in assignment_candidates(db, order, WEDNESDAY)] == [there]
    assert {c["technician_id"] for c in assignment_candidates(db, order, THURSDAY)} == {away, there}


def test_a_certificate_cut_short_marks_the_plans_of_the_days_it_no_longer_covers(
    client, world, db, monday_morning
):
    world.user("disp", "dispatcher")
    tech_id = world.technician("t1", ["lan"])
    certifications.certify(
        db,
        ADMIN,
        tech_id,
        {"skill": "adsl", "certified_on": date(2025, 1, 1), "expires_on": date(2027, 1, 1)},
    )
    db.commit()
    orders = [world.order(world.headers("disp"), world.customer("赵六"))]
    wednesday_plan = _applied_plan(db, WEDNESDAY, tech_id, orders)
    _applied_plan(db, TUESDAY, tech_id, orders)  # still covered: the certificate is valid Tuesday
    renewed = certifications.certify(  # renewing with a later expiry marks nothing
        db,
        ADMIN,
        tech_id,
        {"skill": "adsl", "certified_on": date(2025, 1, 1), "expires_on": date(2028, 1, 1)},
    )
    db.commit()
    assert renewed.expires_on == date(2028, 1, 1)
    assert client.get("/api/v1/dispatch/replans", headers=world.headers("disp")).get_json() == []
    certifications.certify(
        db, ADMIN, tech_id, {"skill": "adsl", "certified_on": date(2025, 1, 1), "expires_on": TUESDAY}
    )
    db.commit()
    (notice,) = client.get("/api/v1/dispatch/replans", headers=world.headers("disp")).get_json()
    assert (notice["plan_id"], notice["reason"]) == (wednesday_plan, "certificate")
    assert [o["id"] for o in notice["affected_orders"]] == orders
