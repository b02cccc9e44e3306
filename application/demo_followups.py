"""Demo follow-ups (回访): the company accounts' repairs followed up in every way a task
can stand, so the agents' queue (/followups) and the console show each one.

Repairs at the companies' placed sites are walked to completed through the lifecycle
(each completion creates its task); their clocks are set back so one task is overdue
and one due today; results are recorded through :mod:`workorders.followups` like an
agent's: satisfied, unsatisfied with a repeat repair opened, not reached once (due
again), and not reached until closed as unreached. The periodic visits due today are
planned last.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.actor import Actor
from core.clock import now
from core.models import User
from technicians.models import Technician
from workorders import followups
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import Customer, FollowUp, Site, WorkOrder

# (what the task shows, hours since the repair was completed, the result recorded)
SCENARIOS = (
    ("overdue", 30, None),
    ("due today", None, None),
    ("retry", 26, [{"reached": False, "comment": "无人接听"}]),
    ("satisfied", 28, [{"reached": True, "service_working": True, "satisfaction": 5, "comment": "很满意"}]),
    (
        "repeat",
        27,
        [{"reached": True, "service_working": False, "satisfaction": 1, "comment": "专线仍时断时续"}],
    ),
    ("unreached", 50, [{"reached": False}] * 3),
)
WALK = (State.ASSIGNED, State.EN_ROUTE, State.ON_SITE, State.COMPLETED)
# the time from the step before to each step of WALK (from the call to assignment, ...)
WALK_STEPS = (timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=40), timedelta(minutes=90))


def seed_followups(session: Session) -> list[str]:
    """Follow-ups of the demo companies in every state; a summary line (none without companies)."""
    companies = list(
        session.scalars(
            select(Customer).where(Customer.account_manager_id.is_not(None)).order_by(Customer.id)
        )
    )
    if not companies:
        return []
    admin = session.scalar(select(User).where(User.username == "admin"))
    agent = session.scalar(select(User).where(User.username == "agent")) or admin
    seeder = Actor(user_id=admin.id, username=admin.username, role="admin", origin="seed")
    caller = Actor(user_id=agent.id, username=agent.username, role=agent.role, origin="seed")
    made = 0
    for number, (_name, completed_h_ago, results) in enumerate(SCENARIOS):
        task = _completed_repair(session, seeder, companies[number % len(companies)], completed_h_ago)
        if task is None:
            continue  # nobody in a small city can take an enterprise circuit
        for result in results or ():
            followups.record_result(session, caller, task, result)
        made += 1
    periodic = followups.plan_periodic_visits(session, now(), seeder)
    session.flush()
    return [f"seeded {made} follow-ups of company repairs and {len(periodic)} periodic visits"]


def _completed_repair(
    session: Session, actor: Actor, company: Customer, completed_h_ago: int | None
) -> FollowUp | None:
    """A repair at one of the company's placed sites, completed ``completed_h_ago`` hours ago
    (None: so that its follow-up is due later today); its open follow-up task.

    The order lives its day on a moved clock (received three hours before its completion,
    then assigned, driven to, worked on): its times, deadlines and audit trail agree.
    """
    site = session.scalar(
        select(Site).where(Site.customer_id == company.id, Site.lat.is_not(None)).order_by(Site.id)
    )
    due_days = followups.settings().due_days["repair"]
    at = now()
    if completed_h_ago is None:
        due = min(at + timedelta(hours=2), datetime.combine(at.date(), time(23, 30)))
        completed = due - timedelta(days=due_days)
    else:
        completed = at - timedelta(hours=completed_h_ago)
    received = completed - sum(WALK_STEPS, timedelta(0))
    with clock.moved_to(received):
        order = wo_service.create_order(
            session,
            actor,
            {
                "kind": "repair",
                "product": "lan_dedicated",
                "priority": "P2",
                "source": "hotline",
                "customer_id": company.id,
                "site_id": site.id,
                "line_id": site.lines[0].id if site.lines else None,
                "description": "演示工单：专线中断，已修复待回访",
            },
        )
    if not _walk_to_completed(session, actor, order, received):
        return None
    task = session.scalar(select(FollowUp).where(FollowUp.order_id == order.id))
    task.due_at = order.completed_at + timedelta(days=due_days)
    session.flush()
    return task


def _walk_to_completed(session: Session, actor: Actor, order: WorkOrder, received: datetime) -> bool:
    """Assign a qualified technician and walk the order to completed, each step
    :data:`WALK_STEPS` after the one before; False if nobody qualifies."""
    skilled = [
        t.id
        for t in session.scalars(select(Technician).order_by(Technician.id))
        if t.active and set(order.required_skills) <= set(t.skills)
    ]
    if not skilled:
        return False
    moment = received
    for target, step in zip(WALK, WALK_STEPS, strict=True):
        moment += step
        details: dict = {}
        if target == State.ASSIGNED:
            details["technician_id"] = skilled[order.id % len(skilled)]
        elif target == State.ON_SITE:
            details.update(lat=order.site.lat, lon=order.site.lon)
        with clock.moved_to(moment):
            wo_service.transition(session, actor, order, target, **details)
    return True
