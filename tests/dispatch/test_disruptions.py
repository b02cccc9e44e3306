"""Disruptions of a day under way through the staff API: each one call, each a
re-plan to review (its diff), applied whole or refused, and seen on the phones.

A small day at 10:00: three technicians, ten orders, one of them a P1.
"""

from __future__ import annotations

from datetime import datetime, time

import pytest

from core.clock import now

SKILLS = ["adsl", "lan", "iptv", "enterprise_circuit"]


class Day:
    """Three technicians with today's routes assigned by hand, the clock at 10:00."""

    def __init__(self, client, world, city_time) -> None:
        city_time(datetime.combine(now().date(), time(10, 0)))
        self.client, self.world = client, world
        world.user("disp", "dispatcher")
        self.h = world.headers("disp")
        self.techs = [
            world.technician("t1", SKILLS, lat=31.85, lon=117.26),
            world.technician("t2", SKILLS, lat=31.86, lon=117.28),
            world.technician("t3", ["adsl"], lat=31.84, lon=117.25),
        ]
        self.phones = {t: world.headers(name) for t, name in zip(self.techs, ("t1", "t2", "t3"), strict=True)}
        t1, t2, t3 = self.techs
        spots = [(31.851, 117.262), (31.855, 117.266), (31.858, 117.27), (31.853, 117.258)]
        self.t1_orders = [
            self.order(t1, hour, *spot) for hour, spot in zip((10, 11, 13, 14), spots, strict=True)
        ]
        circuit = world.enterprise("政企客户", lat=31.856, lon=117.264)
        self.p1 = world.order(self.h, circuit, product="sdh", priority="P1")
        self.assign(self.p1, t1, 15)
        self.t2_orders = [self.order(t2, 10, 31.862, 117.281), self.order(t2, 14, 31.864, 117.284)]
        self.t3_orders = [self.order(t3, 11, 31.842, 117.252), self.order(t3, 15, 31.838, 117.249)]

    def order(self, tech: int, hour: int, lat: float, lon: float, priority: str = "P3") -> int:
        ids = self.world.customer(f"客户{hour}{lat}", lat=lat, lon=lon)
        oid = self.world.order(self.h, ids, priority=priority)
        self.assign(oid, tech, hour)
        return oid

    def assign(self, oid: int, tech: int, hour: int) -> None:
        planned = datetime.combine(now().date(), time(hour, 0)).isoformat()
        resp = self.client.post(
            f"/api/v1/workorders/{oid}/transitions",
            headers=self.h,
            json={"to": "assigned", "technician_id": tech, "planned_start": planned},
        )
        assert resp.status_code == 200, resp.get_json()

    def status(self, oid: int, tech: int, status: str, **body) -> None:
        resp = self.client.post(
            f"/mobile/v1/orders/{oid}/status", headers=self.phones[tech], json={"status": status, **body}
        )
        assert resp.status_code == 200, resp.get_json()

    def on_site(self, oid: int, tech: int) -> None:
        self.status(oid, tech, "en_route")
        site = self.get(oid)
        self.status(oid, tech, "arrived", lat=31.851, lon=117.262)
        assert site["id"] == oid

    def get(self, oid: int) -> dict:
        return self.client.get(f"/api/v1/workorders/{oid}", headers=self.h).get_json()

    def disrupt(self, kind: str, expect: int = 201, **body) -> dict:
        resp = self.client.post(f"/api/v1/dispatch/disruptions/{kind}", headers=self.h, json=body)
        assert resp.status_code == expect, resp.get_json()
        return resp.get_json()

    def apply(self, plan_id: int, expect: int = 200) -> dict:
        resp = self.client.post(f"/api/v1/dispatch/plans/{plan_id}/apply", headers=self.h)
        assert resp.status_code == expect, resp.get_json()
        return resp.get_json()

    def route(self, tech: int) -> list[dict]:
        resp = self.client.get("/mobile/v1/route", headers=self.phones[tech])
        assert resp.status_code == 200
        return resp.get_json()["stops"]


@pytest.fixture()
def day(client, world, city_time) -> Day:
    return Day(client, world, city_time)


def _placed(plan: dict) -> dict[int, int]:
    return {s["visit_id"]: r["technician_id"] for r in plan["result"]["routes"] for s in r["stops"]}


def test_technician_unavailable_moves_their_visits_keeps_on_site_and_no_p1_dropped(day):
    t1, t2, t3 = day.techs
    on_site = day.t1_orders[0]
    day.on_site(on_site, t1)
    plan = day.disrupt("technician-unavailable", technician_id=t1, note="车坏了")
    assert plan["kind"] == "replan" and plan["status"] == "proposed"
    diff = plan["diff"]
    moved = {m["order_id"]: m for m in diff["moved"]}
    dropped = {d["order_id"]: d for d in diff["dropped"]}
    # Every visit not started went somewhere, or is listed with the reason.
    assert set(moved) | set(dropped) == {*day.t1_orders[1:], day.p1}
    assert day.p1 in moved, diff  # a P1 is never dropped: t2 has the LAN skill
    assert moved[day.p1]["to_technician_id"] == t2  # t3 lacks it
    for item in moved.values():
        assert item["from_technician_id"] == t1
        assert item["reason"] == "technician_unavailable"
        assert item["message_zh"] and item["message_en"].startswith("The technician became unavailable")
    for item in dropped.values():
        assert item["message_zh"] and item["reason"] in ("day_full", "window_unreachable")
    # The visit under way stays with them, first.
    assert plan["diff"]["kept_on_site"] == [on_site]
    assert _placed(plan)[on_site] == t1
    assert set(plan["diff"]["cost"]) == {"before", "after", "change"}
    assert plan["diff"]["cost"]["after"]["unplaced"] == len(dropped)

    day.apply(plan["id"])
    assert day.get(day.p1)["technician_id"] == t2
    assert day.get(on_site)["state"] == "on_site" and day.get(on_site)["technician_id"] == t1
    t2_route = [s["order_id"] for s in day.route(t2)]
    assert day.p1 in t2_route
    assert [s["order_id"] for s in day.route(t1)] == [on_site]
    for oid in moved:
        assert day.get(oid)["technician_id"] == moved[oid]["to_technician_id"]
        assert day.get(oid)["planned_start"][11:16] == moved[oid]["new_start"]


def test_technician_unavailable_releases_the_visit_driven_to(day):
    t1, _t2, _t3 = day.techs
    driving = day.t1_orders[0]
    day.status(driving, t1, "en_route")
    plan = day.disrupt("technician-unavailable", technician_id=t1)
    assert day.get(driving)["state"] == "assigned"  # released at once
    assert driving in {m["order_id"] for m in plan["diff"]["moved"]} | {
        d["order_id"] for d in plan["diff"]["dropped"]
    }
    assert plan["diff"]["kept_on_site"] == []
    # Their route is in the re-plan, empty: nothing of theirs is left after now.
    assert {r["technician_id"]: r["stops"] for r in plan["result"]["routes"]}[t1] == []


def test_apply_refuses_after_a_concurrent_change(day):
    t1, _t2, _t3 = day.techs
    plan = day.disrupt("technician-unavailable", technician_id=t1)
    moved = plan["diff"]["moved"][0]["order_id"]
    resp = day.client.post(
        f"/api/v1/workorders/{moved}/transitions",
        headers=day.h,
        json={"to": "cancelled", "reason": "客户取消"},
    )
    assert resp.status_code == 200
    refused = day.apply(plan["id"], expect=409)
    assert refused["conflicts"][0]["order_id"] == moved
    # Nothing half-written: the other moved orders are still with t1.
    for item in plan["diff"]["moved"][1:]:
        assert day.get(item["order_id"])["technician_id"] == t1


def test_no_show_closes_the_visit_pauses_the_clock_and_suggests_a_revisit(day):
    t1, _t2, _t3 = day.techs
    absent = day.t1_orders[0]
    day.on_site(absent, t1)
    plan = day.disrupt("no-show", order_id=absent, note="敲门无人")
    order = day.get(absent)
    assert order["state"] == "needs_revisit"
    sla = day.client.get(f"/api/v1/workorders/{absent}/sla", headers=day.h)
    if sla.status_code == 200:
        assert sla.get_json()["paused"] is True
    closed = plan["diff"]["closed"][0]
    assert closed["order_id"] == absent and closed["reason"] == "no_show"
    assert "客户不在家" in closed["message_zh"]
    revisit = closed["revisit"]
    assert revisit is not None and revisit["day"] > now().date().isoformat()
    assert revisit["start"] is not None
    # The rest of t1's day is re-timed from the no-show's site and stays t1's.
    placed = _placed(plan)
    assert set(placed) == {*day.t1_orders[1:], day.p1}
    assert set(placed.values()) == {t1}
    day.apply(plan["id"])
    assert [s["order_id"] for s in day.route(t1)] == [*day.t1_orders[1:], day.p1]


def test_overrun_retimes_the_day_and_moves_what_would_breach(day):
    t1, _t2, _t3 = day.techs
    long_one = day.t1_orders[0]
    day.on_site(long_one, t1)
    plan = day.disrupt("overrun", order_id=long_one, extra_min=240)
    diff = plan["diff"]
    entries = diff["moved"] + diff["retimed"] + diff["dropped"]
    assert entries, diff
    own = [item for item in diff["retimed"] if item["technician_id"] == t1]
    assert own or diff["moved"], diff
    for item in own:
        assert item["new_start_s"] > item["old_start_s"]
        assert item["reason"] in ("overrun_retimed", "overrun_late")
    after = plan["diff"]["cost"]["after"]
    assert after["breaches"] <= plan["diff"]["cost"]["before"]["breaches"] + after["unplaced"]
    for item in diff["moved"]:
        assert item["from_technician_id"] == t1 and item["reason"] == "overrun_moved"
    assert day.p1 not in {d["order_id"] for d in diff["dropped"]}
    placed = _placed(plan)
    assert placed[long_one] == t1  # under way: kept
    day.apply(plan["id"])
    assert day.get(long_one)["state"] == "on_site"


def test_emergency_is_inserted_with_its_reason_and_nothing_under_way_moves(day):
    t1, t2, _t3 = day.techs
    day.on_site(day.t2_orders[0], t2)
    circuit = day.world.enterprise("专线客户", lat=31.857, lon=117.265)
    fault = day.world.order(day.h, circuit, product="sdh", priority="P1")
    plan = day.disrupt("emergency", order_id=fault)
    added = {a["order_id"]: a for a in plan["diff"]["added"]}
    assert fault in added and added[fault]["reason"] == "emergency_inserted"
    assert added[fault]["to_technician_id"] in (t1, t2)  # the LAN-skilled ones
    assert not [d for d in plan["diff"]["dropped"] if d.get("priority") == "P1"]
    placed = _placed(plan)
    if t2 in placed.values():
        route = next(r for r in plan["result"]["routes"] if r["technician_id"] == t2)
        assert route["stops"][0]["visit_id"] == day.t2_orders[0]
    day.apply(plan["id"])
    assert day.get(fault)["state"] == "assigned"
    assert fault in [s["order_id"] for s in day.route(added[fault]["to_technician_id"])]
    detail = day.client.get(f"/api/v1/dispatch/disruptions/{plan['id']}", headers=day.h).get_json()
    assert detail["status"] == "applied" and detail["diff"]["added"]


def test_resolve_strategy_also_keeps_work_under_way(day):
    t1, _t2, _t3 = day.techs
    day.on_site(day.t1_orders[0], t1)
    plan = day.disrupt("technician-unavailable", technician_id=t1, strategy="resolve", time_limit_s=1)
    assert plan["disruption"]["strategy"] == "resolve"
    assert _placed(plan)[day.t1_orders[0]] == t1
    assert day.p1 not in {d["order_id"] for d in plan["diff"]["dropped"]}


def test_bad_input_is_a_clear_4xx(day):
    t1, _t2, _t3 = day.techs
    assert day.disrupt("technician-unavailable", expect=422, technician_id=999999)["status"] == 422
    assert day.disrupt("technician-unavailable", expect=422, technician_id=t1, strategy="magic")
    unstorable = day.disrupt("technician-unavailable", expect=422, technician_id=t1, note="车\x00坏")
    assert unstorable["errors"]["json"]["note"]
    assert day.disrupt("technician-unavailable", expect=422, technician_id=t1, time_limit_s=600)
    assert day.disrupt("overrun", expect=422, order_id=day.t1_orders[0], extra_min=0)
    assert day.disrupt("overrun", expect=422, order_id=day.t1_orders[0])
    refused = day.disrupt("overrun", expect=409, order_id=day.t1_orders[0], extra_min=30)
    assert refused["current_state"] == "assigned"
    refused = day.disrupt("no-show", expect=409, order_id=day.t1_orders[0])
    assert "不是" in refused["detail"] or "not" in refused["detail"]
    assert day.disrupt("no-show", expect=404, order_id=999999)
    assert day.disrupt("emergency", expect=409, order_id=day.t1_orders[1])["type"]
    assert day.client.get("/api/v1/dispatch/disruptions/999999", headers=day.h).status_code == 404
    english = day.client.post(
        "/api/v1/dispatch/disruptions/overrun",
        headers=day.h | {"Accept-Language": "en"},
        json={"order_id": day.t1_orders[0], "extra_min": 30},
    )
    assert english.get_json()["detail"].startswith("Only a visit on site can run over")


def test_an_unavailable_technician_is_off_the_roster_for_the_rest_of_the_day(day, client):
    t1 = day.techs[0]
    plan = day.disrupt("technician-unavailable", technician_id=t1, note="发烧")
    today = now().date().isoformat()
    shifts = client.get(
        f"/api/v1/roster/technicians/{t1}/shifts", query_string={"first": today, "last": today}, headers=day.h
    )
    assert shifts.status_code == 200, shifts.get_json()
    (shift,) = shifts.get_json()
    # Off from 10:00: what is left of the day is the morning before it (or nothing).
    assert shift["shift"] is None or shift["shift"]["end"] <= "10:00", shift
    # A new order now is never proposed to them, whether or not the re-plan is applied.
    ids = day.world.customer("新客户", lat=31.8505, lon=117.2605)
    urgent = day.world.order(day.h, ids, priority="P1")
    candidates = client.get(f"/console/api/orders/{urgent}/candidates", headers=day.h)
    assert candidates.status_code == 200
    fits = {c["id"]: c["fits"] for c in candidates.get_json()["candidates"]}
    assert fits.get(t1) is not True and any(fits.values()), fits
    day.apply(plan["id"])


def test_an_emergency_after_hours_goes_to_the_technician_on_call(client, world, city_time):
    # 17:00, every shift ends at 17:30 and a P1 repair takes an hour: only a technician on
    # call past the shift (the enterprise 24x7 rota, on top of the day's hours) can take it
    from technicians import roster_service
    from tests.conftest import ADMIN

    city_time(datetime.combine(now().date(), time(17, 0)))
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    regular = world.technician("t1", SKILLS, lat=31.85, lon=117.26)
    duty = world.technician("t2", SKILLS, lat=31.86, lon=117.28)
    circuit = world.enterprise("专线客户", lat=31.857, lon=117.265)
    fault = world.order(h, circuit, product="sdh", priority="P1")

    def emergency() -> dict:
        resp = client.post("/api/v1/dispatch/disruptions/emergency", headers=h, json={"order_id": fault})
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    nobody = emergency()
    assert [d["order_id"] for d in nobody["diff"]["dropped"]] == [fault]
    assert not nobody["diff"]["added"]
    with world.session() as s:
        day_hours = {"kind": "rota", "cycle": [True], "lunch_start_min": None, "lunch_duration_min": 0}
        days = roster_service.create_pattern(
            s, ADMIN, {**day_hours, "name": "日班", "start_min": 510, "end_min": 1050}
        )
        on_call = roster_service.create_pattern(
            s, ADMIN, {**day_hours, "name": "7x24", "start_min": 0, "end_min": 1440, "on_call": True}
        )
        for tech, pattern in ((regular, days), (duty, days), (duty, on_call)):
            roster_service.assign_pattern(
                s, ADMIN, {"technician_id": tech, "pattern_id": pattern.id, "start_on": now().date()}
            )
        s.commit()
    week = client.get("/api/v1/roster/week", headers=h, query_string={"from": now().date().isoformat()})
    assert week.status_code == 200, week.get_json()

    plan = emergency()
    added = {a["order_id"]: a for a in plan["diff"]["added"]}
    assert added[fault]["to_technician_id"] == duty, plan["diff"]
    stop = next(s for r in plan["result"]["routes"] for s in r["stops"] if s["visit_id"] == fault)
    assert stop["end_s"] > 17.5 * 3600  # past the day's hours, within the duty
    applied = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=h)
    assert applied.status_code == 200, applied.get_json()
    order = client.get(f"/api/v1/workorders/{fault}", headers=h).get_json()
    assert (order["state"], order["technician_id"]) == ("assigned", duty)
    # the day's plan keeps to the day's hours: on call is for urgent faults only
    with world.session() as s:
        from dispatch.planning import technician_specs
        from technicians.models import Technician

        spec, urgent = (
            technician_specs(s, [s.get(Technician, duty)], now().date(), now(), on_call=flag)[0]
            for flag in (False, True)
        )
        assert (spec.shift_end_s, urgent.shift_end_s) == (1050 * 60, 1440 * 60)
