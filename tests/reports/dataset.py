"""A small hand-made history whose every figure is worked out by hand in the tests.

Range under test: 2026-09-01 to 2026-11-01 (September and October), judged at 2026-11-01 00:00.
Sites: S1, S3 in 蜀山区; S2, S4 in 包河区. Technicians T1, T2.
"""

from __future__ import annotations

from datetime import datetime

import standards
from core.models import AuditEvent
from technicians.models import Technician
from workorders.models import Customer, FollowUp, LineRecord, Site, WorkOrder

SHUSHAN, BAOHE = "蜀山区", "包河区"


def dt(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}")


def build(session) -> dict[str, int]:
    """Insert the history; answers the order ids by name.

    Long because the history reads as one table: each order beside the comment that says
    which figures it moves, the way the tests' hand computations refer to them."""
    customer = Customer(name="某物流公司", kind="enterprise", enterprise_tier="local_a")
    home = Customer(name="张三", kind="residential")
    session.add_all([customer, home])
    session.flush()
    sites = {}
    for name, owner, district in (("S1", customer, SHUSHAN), ("S2", home, BAOHE), ("S3", home, SHUSHAN)):
        sites[name] = Site(customer_id=owner.id, address=f"{name} 路 1 号", district=district)
    sites["S4"] = Site(customer_id=customer.id, address="S4 路 9 号", district=BAOHE)
    session.add_all(sites.values())
    session.flush()
    lines = {
        name: LineRecord(site_id=site.id, access_type="lan", product="lan") for name, site in sites.items()
    }
    session.add_all(lines.values())
    t1 = Technician(name="王工", home_lat=31.85, home_lon=117.26, skills=[])
    t2 = Technician(name="李工", home_lat=31.80, home_lon=117.30, skills=[])
    session.add_all([t1, t2])
    session.flush()
    tech = {"T1": t1.id, "T2": t2.id}

    def order(code, site, kind="repair", product="lan", priority="P3", **times):
        o = WorkOrder(
            code=code,
            kind=kind,
            product=product,
            priority=priority,
            source=times.pop("source", "hotline"),
            customer_id=sites[site].customer_id,
            site_id=sites[site].id,
            line_id=lines[site].id,
            state=times.pop("state", "completed"),
            technician_id=tech.get(times.pop("tech", None)),
            created_at=times["received_at"],
            **times,
        )
        session.add(o)
        session.flush()
        return o

    # R1: 2 h customer pause; 9 h received to completed, so 7 h to restore; deadline moved to 19:00.
    r1 = order(
        "R1", "S1", priority="P2", tech="T1", arrived_at=dt("09-01 17:00"), duration_min=60,
        received_at=dt("09-01 09:00"), responded_at=dt("09-01 09:30"), completed_at=dt("09-01 18:00"),
        response_deadline=dt("09-01 10:00"), restore_deadline=dt("09-01 19:00"),
        sla_clock={
            "start": "2026-09-01T09:00:00", "budget_s": 28800.0, "source": "clock-hours",
            "pauses": [
                {"start": "2026-09-01T10:00:00", "reason": "customer_absent", "end": "2026-09-01T12:00:00"}
            ],
        },
    )  # fmt: skip
    # R2: the same site 29 days later, flagged; answered late, restored late, across the month's end.
    r2 = order(
        "R2", "S1", priority="P1", tech="T2", is_repeat_fault=True, parent_id=r1.id,
        received_at=dt("09-30 18:00"), responded_at=dt("09-30 18:20"), completed_at=dt("10-01 02:00"),
        response_deadline=dt("09-30 18:15"), restore_deadline=dt("09-30 22:00"),
    )  # fmt: skip
    r3 = order(
        "R3", "S2", tech="T1", product="adsl", arrived_at=dt("09-05 10:00"), duration_min=90,
        received_at=dt("09-05 08:00"), responded_at=dt("09-05 08:30"), completed_at=dt("09-05 12:00"),
        response_deadline=dt("09-05 09:00"), restore_deadline=dt("09-05 20:00"),
    )  # fmt: skip
    # R4: one second past R3's 30 days; never answered, still open at the range's end.
    r4 = order(
        "R4", "S2", state="assigned", tech="T1", product="adsl",
        received_at=dt("10-05 12:00:01"),
        response_deadline=dt("10-05 14:00"), restore_deadline=dt("10-06 12:00"),
    )  # fmt: skip
    r5 = order(
        "R5", "S3", tech="T2", product="adsl",
        received_at=dt("09-10 08:00"), responded_at=dt("09-10 08:10"), completed_at=dt("09-10 10:00"),
        response_deadline=dt("09-10 10:00"), restore_deadline=dt("09-11 08:00"),
    )  # fmt: skip
    # R6: exactly 30 days after R5 was completed: R5 counts as repeated.
    r6 = order(
        "R6", "S3", tech="T1", product="adsl",
        received_at=dt("10-10 10:00"), responded_at=dt("10-10 10:30"), completed_at=dt("10-10 14:00"),
        response_deadline=dt("10-10 12:00"), restore_deadline=dt("10-11 10:00"),
    )  # fmt: skip
    i1 = order(
        "I1", "S4", kind="install", tech="T2", source="portal",
        received_at=dt("09-28 09:00"), responded_at=dt("09-28 10:00"), completed_at=dt("10-02 09:00"),
        response_deadline=dt("09-28 11:00"), restore_deadline=dt("10-05 09:00"),
    )  # fmt: skip
    c1 = order(
        "C1", "S4", state="cancelled",
        received_at=dt("10-20 09:00"),
        response_deadline=dt("10-20 11:00"), restore_deadline=dt("10-21 09:00"),
    )  # fmt: skip
    # K1: a complaint the day before National Day's week: final answer on the official calendar.
    clocks = standards.complaint_deadlines(dt("09-29 16:00"))
    k1 = order(
        "K1", "S1", kind="complaint", priority="P2",
        received_at=dt("09-29 16:00"), responded_at=dt("09-30 10:00"), handled_at=dt("10-03 10:00"),
        completed_at=dt("10-08 15:00"), response_deadline=clocks["answer"].at,
        handling_deadline=clocks["first_handling"].at, restore_deadline=clocks["final"].at,
    )  # fmt: skip
    old = order(
        "OLD", "S2", state="assigned",
        received_at=dt("08-01 09:00"),
        response_deadline=dt("08-01 11:00"), restore_deadline=dt("08-02 09:00"),
    )  # fmt: skip
    new = order(
        "NEW", "S3", kind="install", state="validated",
        received_at=dt("10-31 20:00"),
        response_deadline=dt("11-01 02:00"), restore_deadline=dt("11-07 20:00"),
    )  # fmt: skip
    for o, action, at in (
        (r2, "state:needs_revisit", dt("09-30 23:00")),
        (c1, "state:cancelled", dt("10-20 10:00")),
    ):
        session.add(
            AuditEvent(actor_name="test", actor_role="dispatcher", action=action, entity_type="work_order",
                       entity_id=o.id, at=at)
        )  # fmt: skip
    for o, due, done, score in (
        (r1, dt("09-02 18:00"), dt("09-02 10:00"), 5),
        (r3, dt("09-06 12:00"), dt("09-07 09:00"), 3),
        (r5, dt("09-11 10:00"), None, None),
        (i1, dt("10-05 09:00"), dt("10-04 09:00"), 4),
    ):
        session.add(
            FollowUp(customer_id=o.customer_id, order_id=o.id, reason=o.kind, method="phone", due_at=due,
                     state="done" if done else "open", completed_at=done, satisfaction=score)
        )  # fmt: skip
    session.commit()
    found = {o.code: o.id for o in (r1, r2, r3, r4, r5, r6, i1, c1, k1, old, new)}
    return found | {"T1": tech["T1"], "T2": tech["T2"]}


FINAL_DEADLINE = datetime(2026, 10, 9, 16, 0)  # 9/30, then 10/8 and 10/9 after the holiday week
