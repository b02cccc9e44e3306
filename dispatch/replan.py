"""Days to plan again because the roster changed under a plan.

When a technician's day changes (leave or sick, a pattern edited or assigned, an
exception) and that day already has a proposed or applied plan from today on,
:func:`mark_replan` records a :class:`ReplanNotice` on the plan naming the
technician, the reason and the visits affected (the orders planned on that
technician that day). A notice is open until a newer plan is computed for its day.
The app factory hands :func:`mark_replan` to ``technicians.shifts`` as its listener.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import audit
from core.actor import Actor
from core.clock import now
from core.db import Base
from dispatch.board import route_orders
from dispatch.models import DispatchPlan
from workorders.models import WorkOrder

MARKED_STATUSES = ("proposed", "applied")


class ReplanNotice(Base):
    """A plan's day changed for one technician after it was planned."""

    __tablename__ = "replan_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("dispatch_plans.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    reason: Mapped[str] = mapped_column(String(40))
    affected_order_ids: Mapped[list] = mapped_column(JSON, default=list)
    # the newest plan id when the notice was written: a plan of the day after it closes it
    seen_plan_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


def _planned_on(plan: DispatchPlan, technician_id: int) -> list[int]:
    """The visits the plan routes through the technician."""
    for route in (plan.result or {}).get("routes", []):
        if route.get("technician_id") == technician_id:
            return [int(stop["visit_id"]) for stop in route.get("stops", [])]
    return []


def mark_replan(
    session: Session,
    actor: Actor,
    technician_ids: list[int],
    first_day: date,
    last_day: date | None,
    reason: str,
) -> list[ReplanNotice]:
    """Record a notice on every proposed or applied plan, from today on, of a day
    from ``first_day`` to ``last_day`` (None: no end) that these technicians were
    part of; the affected visits are the orders planned on them that day."""
    start = max(first_day, now().date())
    stmt = select(DispatchPlan).where(DispatchPlan.status.in_(MARKED_STATUSES), DispatchPlan.day >= start)
    if last_day is not None:
        if last_day < start:
            return []
        stmt = stmt.where(DispatchPlan.day <= last_day)
    notices = []
    newest = session.scalar(select(func.max(DispatchPlan.id))) or 0
    for plan in session.scalars(stmt.order_by(DispatchPlan.id)):
        for tech_id in technician_ids:
            affected = set(_planned_on(plan, tech_id))
            if plan.status == "applied":
                affected |= {o.id for o in route_orders(session, tech_id, plan.day)}
            if tech_id not in (plan.technician_ids or []) and not affected:
                continue
            notice = ReplanNotice(
                plan_id=plan.id,
                day=plan.day,
                technician_id=tech_id,
                reason=reason,
                affected_order_ids=sorted(affected),
                seen_plan_id=newest,
                created_by=actor.user_id,
            )
            session.add(notice)
            notices.append(notice)
    session.flush()
    for notice in notices:
        audit.record(
            session,
            actor,
            "replan_needed",
            "dispatch_plan",
            notice.plan_id,
            after={
                "technician_id": notice.technician_id,
                "reason": reason,
                "orders": notice.affected_order_ids,
            },
        )
    return notices


def _newest_plan_ids(session: Session, notices: list[ReplanNotice]) -> dict[date, int]:
    days = {n.day for n in notices}
    if not days:
        return {}
    stmt = select(DispatchPlan.day, func.max(DispatchPlan.id)).where(DispatchPlan.day.in_(days))
    return dict(session.execute(stmt.group_by(DispatchPlan.day)).all())


def replan_notices(
    session: Session, day: date | None = None, plan_id: int | None = None, open_only: bool = True
) -> list[tuple[ReplanNotice, bool]]:
    """Notices by day or plan with whether each is still open (no plan computed for its
    day since); open ones only unless asked."""
    stmt = select(ReplanNotice).order_by(ReplanNotice.id)
    if day is not None:
        stmt = stmt.where(ReplanNotice.day == day)
    if plan_id is not None:
        stmt = stmt.where(ReplanNotice.plan_id == plan_id)
    notices = list(session.scalars(stmt))
    newest = _newest_plan_ids(session, notices)
    found = [(n, newest.get(n.day, 0) <= n.seen_plan_id) for n in notices]
    return [(n, is_open) for n, is_open in found if is_open or not open_only]


def notice_view(session: Session, notice: ReplanNotice, is_open: bool = True) -> dict:
    """A notice for JSON: the plan, day, technician, reason and the visits with their codes."""
    orders = (
        session.scalars(select(WorkOrder).where(WorkOrder.id.in_(notice.affected_order_ids)))
        if notice.affected_order_ids
        else []
    )
    return {
        "id": notice.id,
        "plan_id": notice.plan_id,
        "day": notice.day,
        "technician_id": notice.technician_id,
        "reason": notice.reason,
        "affected_orders": [{"id": o.id, "code": o.code} for o in orders],
        "created_at": notice.created_at,
        "open": is_open,
    }
