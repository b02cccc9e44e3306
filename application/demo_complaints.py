"""Demo complaints: one in every state a complaint reaches, and the open ones at every
point of their clocks (new, answered, handled, at risk and escalated, breached), taken
by the demo's hotline agent through the real services."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.clock import now
from core.models import User
from workorders import complaints
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import Customer, WorkOrder

# (what the customer said, hours since they complained, the steps taken since)
DEMO_COMPLAINTS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("装机师傅迟到三小时且未提前告知。", 2, ()),
    ("报修后两天无人联系。", 10, ("answer",)),
    ("宽带提速后反而更慢，营业厅说不清原因。", 30, ("answer", "handling")),
    ("IPTV 频道经常卡顿，多次报修未解决。", 23, ()),  # the 24 h answer is short of time
    ("客服热线排队时间太长。", 40, ()),  # answered late: breached and escalated
    ("上门人员态度恶劣。", 50, ("answer", "handling", "final")),
    ("套餐资费与宣传不符。", 70, ("answer", "final", State.FOLLOWED_UP)),
    ("安装后室内走线凌乱。", 100, ("answer", "handling", "final", State.FOLLOWED_UP, State.CLOSED)),
    ("重复收取安装费。", 5, (State.CANCELLED,)),
)


def _agent(session: Session) -> Actor:
    user = session.scalar(select(User).where(User.role == "agent").order_by(User.id))
    if user is None:
        return Actor(user_id=None, username="seed", role="admin", origin="seed")
    return Actor(user_id=user.id, username=user.username, role=user.role, origin="seed")


def _take_step(session: Session, actor: Actor, order: WorkOrder, step: str) -> None:
    if step == "answer":
        complaints.answer(session, actor, order, "已致电客户致歉并说明处理安排。")
    elif step == "handling":
        complaints.record_handling(session, actor, order, "已约谈相关班组并核实情况。")
    elif step == "final":
        complaints.final_answer(session, actor, order, "已整改并向客户书面答复。")
    elif step == State.FOLLOWED_UP:
        followup = {"method": "phone", "satisfied": True, "service_working": True, "note": "客户认可处理结果"}
        wo_service.transition(session, actor, order, State.FOLLOWED_UP, followup=followup)
    elif step == State.CANCELLED:
        wo_service.transition(session, actor, order, State.CANCELLED, reason="客户撤回投诉")
    else:
        wo_service.transition(session, actor, order, step)


def seed_complaints(session: Session) -> int:
    """Complaints of the demo's first customers in every state; the number taken. The ones
    whose clock runs short are escalated as the periodic job would."""
    customers = list(session.scalars(select(Customer).order_by(Customer.id).limit(len(DEMO_COMPLAINTS))))
    if not customers:
        return 0
    actor = _agent(session)
    at = now()
    for i, (text, hours_ago, steps) in enumerate(DEMO_COMPLAINTS):
        customer = customers[i % len(customers)]
        order = complaints.create_complaint(
            session,
            actor,
            {
                "customer_id": customer.id,
                "description": text,
                "source": ("hotline", "account_manager", "walk_in", "portal")[i % 4],
                "received_at": at - timedelta(hours=hours_ago),
                "product": "adsl" if customer.kind == "residential" else "lan_dedicated",
            },
        )
        for step in steps:
            _take_step(session, actor, order, step)
    complaints.escalate_at_risk(session, at)
    return len(DEMO_COMPLAINTS)
