"""A two-technician job holds BOTH its technicians at its planned time: hand assignment,
the candidates, urgent insertion, booking's prices and the disruptions all read the second
member's day with the crew visit in it, and a crew job that loses a member is listed
unplaced, never left with one technician.

The day: at 09:30, Lead and Mate are on a crew job 10:00-12:45 (applied from a plan, so
both are written); nobody else works. Mate's day is otherwise empty: before the fix it
looked free all morning.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from core.clock import now
from dispatch.models import DispatchPlan
from tests.conftest import ADMIN
from workorders.models import WorkOrder

SKILLS = ["adsl", "lan", "iptv"]
CREW_START = time(10, 0)
CREW_MIN = 165  # to 12:45
ROUTE_FIGURES = {"lunch_start_s": 12 * 3600 + 2700, "travel_m": 12000.0, "travel_s": 1800, "end_s": 14 * 3600}


class CrewDay:
    def __init__(self, client, world, db, city_time) -> None:
        city_time(datetime.combine(now().date(), time(9, 30)))
        self.client, self.world, self.db = client, world, db
        world.user("disp", "dispatcher")
        self.h = world.headers("disp")
        self.lead = world.technician("lead", SKILLS, lat=31.85, lon=117.26)
        self.mate = world.technician("mate", SKILLS, lat=31.80, lon=117.30)
        self.day = now().date()
        ids = world.customer("双人客户", lat=31.83, lon=117.28)
        self.crew = world.order(self.h, ids, crew_size=2)
        order = db.get(WorkOrder, self.crew)
        order.duration_min = CREW_MIN
        db.commit()
        start_s = CREW_START.hour * 3600
        stop = {
            "visit_id": self.crew,
            "arrival_s": start_s - 600,
            "start_s": start_s,
            "end_s": start_s + CREW_MIN * 60,
            "travel_s": 900,
            "travel_m": 6000.0,
            "late_s": 0,
        }
        record = DispatchPlan(
            day=self.day,
            kind="day",
            status="proposed",
            order_versions={str(self.crew): order.version},
            result={
                "routes": [
                    {"technician_id": tech, "stops": [dict(stop)], **ROUTE_FIGURES}
                    for tech in (self.lead, self.mate)
                ],
                "unassigned": [],
            },
        )
        db.add(record)
        db.commit()
        applied = client.post(f"/api/v1/dispatch/plans/{record.id}/apply", headers=self.h)
        assert applied.status_code == 200, applied.get_json()
        db.expire_all()
        order = db.get(WorkOrder, self.crew)
        assert (order.technician_id, order.second_technician_id) == (self.lead, self.mate)

    @property
    def crew_window(self) -> tuple[datetime, datetime]:
        start = datetime.combine(self.day, CREW_START)
        return start, start + timedelta(minutes=CREW_MIN)

    def single(self, lat: float, lon: float, window: tuple[time, time] | None = None, **fields) -> WorkOrder:
        """A one-technician order near Mate, with an appointment window if given."""
        ids = self.world.customer(f"客户{lat}{lon}", lat=lat, lon=lon)
        oid = self.world.order(self.h, ids, **fields)
        order = self.db.get(WorkOrder, oid)
        if window is not None:
            order.appointment_start = datetime.combine(self.day, window[0])
            order.appointment_end = datetime.combine(self.day, window[1])
        order.duration_min = 30
        self.db.commit()
        return order

    def crew_order(self) -> WorkOrder:
        self.db.expire_all()
        return self.db.get(WorkOrder, self.crew)


@pytest.fixture()
def crew_day(client, world, db, city_time) -> CrewDay:
    return CrewDay(client, world, db, city_time)


def _overlaps(start: datetime, minutes: int, window: tuple[datetime, datetime]) -> bool:
    return start < window[1] and start + timedelta(minutes=minutes) > window[0]


def test_the_second_members_day_holds_the_crew_visit_everywhere_it_is_read(crew_day):
    from dispatch.board import day_routes, route_orders

    held = route_orders(crew_day.db, crew_day.mate, crew_day.day)
    assert [o.id for o in held] == [crew_day.crew]
    timeline = {r["technician_id"]: r for r in day_routes(crew_day.db, crew_day.day)}
    assert [s["order_id"] for s in timeline[crew_day.mate]["stops"]] == [crew_day.crew]
    # The phone of the second member lists it, read-only (as before).
    stops = crew_day.client.get("/mobile/v1/route", headers=crew_day.world.headers("mate")).get_json()[
        "stops"
    ]
    (stop,) = [s for s in stops if s["order_id"] == crew_day.crew]
    assert stop["crew_role"] == "second" and stop["allowed_statuses"] == []


def test_hand_assignment_over_the_crew_time_is_refused_and_candidates_agree(crew_day):
    from core.errors import Conflict
    from dispatch import assignment

    # Mate is free before 10:00 and after 12:45, not between.
    order = crew_day.single(31.805, 117.302, window=(time(10, 30), time(11, 30)))
    with pytest.raises(Conflict) as refused:
        assignment.assign_order(crew_day.db, ADMIN, order, crew_day.mate, crew_day.day)
    assert refused.value.slug == "does-not-fit"
    crew_day.db.rollback()

    candidates = {
        c["technician_id"]: c for c in assignment.assignment_candidates(crew_day.db, order, crew_day.day)
    }
    assert candidates[crew_day.mate]["fits"] is False
    assert candidates[crew_day.lead]["fits"] is False

    # Without the window Mate takes it around the crew job; the crew visit keeps its lead and time.
    free = crew_day.single(31.806, 117.301)
    assignment.assign_order(crew_day.db, ADMIN, free, crew_day.mate, crew_day.day)
    crew_day.db.commit()
    crew_day.db.expire_all()
    free = crew_day.db.get(WorkOrder, free.id)
    assert free.technician_id == crew_day.mate
    assert not _overlaps(free.planned_start, free.duration_min, crew_day.crew_window)
    crew = crew_day.crew_order()
    assert (crew.technician_id, crew.second_technician_id) == (crew_day.lead, crew_day.mate)
    assert crew.planned_start == crew_day.crew_window[0]
    assert crew.planned_sequence == 1  # the lead's route, untouched by Mate's renumbering
    assert free.planned_sequence == 1  # Mate leads only this one


def test_urgent_insertion_goes_around_the_crew_job_and_applying_keeps_the_crew(crew_day, client):
    from dispatch import assignment

    p1 = crew_day.single(31.80, 117.30, priority="P1")
    record = assignment.propose_urgent(crew_day.db, ADMIN, crew_day.day, p1.id, time_limit_s=1.0)
    crew_day.db.commit()
    result = record.result
    (route,) = result["routes"]
    stops = {s["visit_id"]: s for s in route["stops"]}
    assert p1.id in stops, result
    day_start = datetime.combine(crew_day.day, time.min)
    start = day_start + timedelta(seconds=stops[p1.id]["start_s"])
    assert not _overlaps(start, p1.duration_min, crew_day.crew_window)
    # The crew visit is in the changed route at its planned time, not displaced.
    assert stops[crew_day.crew]["start_s"] == CREW_START.hour * 3600
    assert crew_day.crew not in {u["visit_id"] for u in result["unassigned"]}

    applied = client.post(f"/api/v1/dispatch/plans/{record.id}/apply", headers=crew_day.h)
    assert applied.status_code == 200, applied.get_json()
    crew = crew_day.crew_order()
    assert (crew.technician_id, crew.second_technician_id) == (crew_day.lead, crew_day.mate)
    assert crew.state == "assigned" and crew.planned_start == crew_day.crew_window[0]


def test_booking_prices_count_the_second_members_busy_time(crew_day):
    from dispatch.booking import price_day
    from dispatch.slots import slot_windows
    from technicians.models import Technician

    order = crew_day.single(31.80, 117.30, priority="P3")
    order.duration_min = 60
    crew_day.db.commit()
    techs = [crew_day.db.get(Technician, t) for t in (crew_day.lead, crew_day.mate)]
    windows = [w for w in slot_windows("two_hours") if w.key in ("1030", "1500")]
    slots = {s["slot"]: s for s in price_day(crew_day.db, order, crew_day.day, windows, now(), techs)}
    # 10:30-12:30: both crew members are on the crew job (to 12:45); nobody can start there.
    assert slots["1030"]["feasible"] is False, slots["1030"]
    assert slots["1500"]["feasible"] is True


def test_the_second_member_unavailable_lists_the_crew_job_unplaced(crew_day, client):
    later = crew_day.single(31.851, 117.262)
    moved = client.post(
        f"/api/v1/workorders/{later.id}/transitions",
        headers=crew_day.h,
        json={
            "to": "assigned",
            "technician_id": crew_day.lead,
            "planned_start": datetime.combine(crew_day.day, time(14, 0)).isoformat(),
        },
    )
    assert moved.status_code == 200, moved.get_json()
    resp = client.post(
        "/api/v1/dispatch/disruptions/technician-unavailable",
        headers=crew_day.h | {"Accept-Language": "en"},
        json={"technician_id": crew_day.mate},
    )
    assert resp.status_code == 201, resp.get_json()
    plan = resp.get_json()
    unplaced = {u["visit_id"]: u for u in plan["result"]["unassigned"]}
    assert unplaced[crew_day.crew]["reason"] == "crew_member_unavailable"
    dropped = {d["order_id"]: d for d in plan["diff"]["dropped"]}
    assert dropped[crew_day.crew]["reason"] == "crew_member_unavailable"
    assert "two technicians" in dropped[crew_day.crew]["message_en"] and dropped[crew_day.crew]["message_zh"]
    # Neither route keeps it: not Mate's (out), not the lead's alone.
    routes = {r["technician_id"]: r["stops"] for r in plan["result"]["routes"]}
    assert routes[crew_day.mate] == []
    # The lead's day is in the re-plan, re-timed without the crew job.
    assert [s["visit_id"] for s in routes[crew_day.lead]] == [later.id]

    explained = client.get(f"/api/v1/dispatch/plans/{plan['id']}/explain?lang=en", headers=crew_day.h)
    assert explained.status_code == 200, explained.get_json()
    assert "two technicians" in str(explained.get_json())

    applied = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=crew_day.h)
    assert applied.status_code == 200, applied.get_json()
    crew = crew_day.crew_order()
    assert crew.state == "validated"
    assert crew.technician_id is None and crew.second_technician_id is None
    later = crew_day.db.get(WorkOrder, later.id)
    assert later.technician_id == crew_day.lead and later.planned_sequence == 1


def test_the_lead_unavailable_does_not_leave_the_job_to_the_second_alone(crew_day, client):
    resp = client.post(
        "/api/v1/dispatch/disruptions/technician-unavailable",
        headers=crew_day.h,
        json={"technician_id": crew_day.lead},
    )
    assert resp.status_code == 201, resp.get_json()
    plan = resp.get_json()
    assert {u["visit_id"]: u["reason"] for u in plan["result"]["unassigned"]} == {
        crew_day.crew: "crew_member_unavailable"
    }
    placed = {s["visit_id"] for r in plan["result"]["routes"] for s in r["stops"]}
    assert crew_day.crew not in placed


def test_an_overrun_of_the_crew_job_shifts_the_second_members_day_too(crew_day, client):
    later = crew_day.single(31.806, 117.301)
    moved = client.post(
        f"/api/v1/workorders/{later.id}/transitions",
        headers=crew_day.h,
        json={
            "to": "assigned",
            "technician_id": crew_day.mate,
            "planned_start": datetime.combine(crew_day.day, time(13, 30)).isoformat(),
        },
    )
    assert moved.status_code == 200, moved.get_json()
    lead_phone = crew_day.world.headers("lead")
    for status, extra in (("en_route", {}), ("arrived", {"lat": 31.83, "lon": 117.28})):
        version = crew_day.crew_order().version
        resp = client.post(
            f"/mobile/v1/orders/{crew_day.crew}/status",
            headers=lead_phone,
            json={"status": status, "version": version, **extra},
        )
        assert resp.status_code == 200, resp.get_json()

    resp = client.post(
        "/api/v1/dispatch/disruptions/overrun",
        headers=crew_day.h,
        json={"order_id": crew_day.crew, "extra_min": 90},
    )
    assert resp.status_code == 201, resp.get_json()
    plan = resp.get_json()
    routes = {r["technician_id"]: {s["visit_id"]: s for s in r["stops"]} for r in plan["result"]["routes"]}
    assert set(routes) >= {crew_day.lead, crew_day.mate}
    crew_end = routes[crew_day.mate][crew_day.crew]["end_s"]
    assert crew_end == routes[crew_day.lead][crew_day.crew]["end_s"]
    if later.id in routes[crew_day.mate]:  # kept, after the longer crew job
        assert routes[crew_day.mate][later.id]["start_s"] >= crew_end
        retimed = {r["order_id"]: r for r in plan["diff"]["retimed"]}
        assert retimed[later.id]["reason"] in ("overrun_retimed", "overrun_late")
    else:  # or taken by someone with room
        assert later.id in {m["order_id"] for m in plan["diff"]["moved"]}
    applied = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=crew_day.h)
    assert applied.status_code == 200, applied.get_json()
    crew = crew_day.crew_order()
    assert (crew.state, crew.technician_id, crew.second_technician_id) == (
        "on_site",
        crew_day.lead,
        crew_day.mate,
    )
