"""Why a plan is what it is, in words a dispatcher reads.

For one visit of a stored plan: why this technician (skills, nearest among the qualified,
district, workload), why this time (appointment window, restore deadline, place in the
route), what it costs (the detour it adds), or, for an order left out, the optimizer's
reason and the specific blocker (the skill nobody on shift has; the window the nearest
qualified technician cannot reach, and when they could). For the whole plan: every visit
so, each technician's day and the plan's figures (:mod:`dispatch.kpis`).

The facts come from :mod:`dispatch.routing.explain` (pure); the problem is read back by
:mod:`dispatch.plan_context`; the sentences are :mod:`dispatch.explain_words`, in the
reader's language (Chinese unless English is asked for).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.errors import N_, NotFound
from core.i18n import current_lang
from dispatch import plans
from dispatch.explain_words import SENTENCES
from dispatch.plan_context import plan_problem
from dispatch.routing import explain as facts
from dispatch.routing import kpis as routing_kpis
from dispatch.routing.problem import REASON_MESSAGES
from technicians.models import Technician
from workorders import labels as code_names
from workorders.models import WorkOrder


def _hhmm(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}" if minutes < 24 * 60 else "24:00"


class _Words:
    """Names and sentences in one language."""

    def __init__(self, session: Session, orders: dict[int, WorkOrder], lang: str) -> None:
        self.session = session
        self.orders = orders
        self.lang = lang
        self.index = 1 if lang == "en" else 0
        self.skills = code_names.labels("skill", lang)
        self._names: dict[Any, str] = {}

    def technician(self, tech_id: Any) -> str:
        if tech_id not in self._names:
            tech = self.session.get(Technician, int(tech_id)) if tech_id is not None else None
            self._names[tech_id] = tech.name if tech else str(tech_id)
        return self._names[tech_id]

    def order(self, order_id: Any) -> str:
        order = self.orders.get(int(order_id)) if order_id is not None else None
        return order.code if order else str(order_id)

    def say(self, fact: dict[str, Any]) -> str:
        code, params = fact["code"], dict(fact["params"])
        if code == "route_order" and params.get("after") is None:
            code = "route_order_first"
        if code == "pinned_unavailable":
            code = "pinned_on_shift" if params.get("on_shift") else "pinned_off_shift"
        if "after" in params and code not in ("route_order",):
            params["after_text"] = self._after(params["after"])
        for key in ("technician", "nearer"):
            if key in params:
                params[key] = self.technician(params[key])
        if "after" in params:
            params["after"] = self.order(params["after"])
        if "skills" in params:
            params["skills"] = (
                "、".join(self.skills.get(s, s) for s in params["skills"])
                if self.index == 0
                else (", ".join(self.skills.get(s, s) for s in params["skills"]))
            )
        for key in list(params):
            if key.endswith("_s"):
                params[key[:-2]] = _hhmm(params[key])
        return SENTENCES[code][self.index].format(**params)

    def _after(self, after: Any) -> str:
        if after is None:
            return SENTENCES["from_start"][self.index]
        return SENTENCES["after_stop"][self.index].format(after=self.order(after))

    def reason(self, code: str) -> str:
        return REASON_MESSAGES[code][self.index] if code in REASON_MESSAGES else code


def _visit_words(words: _Words, item: dict[str, Any]) -> dict[str, Any]:
    """One visit's facts as the API sends them: the sentences, and the facts for a program."""
    order_id = int(item["visit_id"])
    out: dict[str, Any] = {"order_id": order_id, "code": words.order(order_id), "assigned": item["assigned"]}
    if item["assigned"]:
        cost = item["cost"]
        out |= {
            "technician_id": item["technician_id"],
            "technician_name": words.technician(item["technician_id"]),
            "sequence": item["sequence"],
            "start": _hhmm(item["start_s"]),
            "why_technician": [words.say(f) for f in item["why_technician"]],
            "why_time": [words.say(f) for f in item["why_time"]],
            "cost": cost | {"text": words.say({"code": "cost", "params": cost})},
        }
    else:
        out |= {
            "reason": item["reason"],
            "reason_text": words.reason(item["reason"]),
            "blockers": [words.say(f) for f in item["blockers"]],
        }
    out["facts"] = {k: v for k, v in item.items() if k in ("why_technician", "why_time", "blockers")}
    return out


def explain_visit(session: Session, plan_id: int, order_id: int, lang: str | None = None) -> dict[str, Any]:
    """Why the stored plan ``plan_id`` placed order ``order_id`` where it did, or left it out
    (404 when the plan does not mention the order)."""
    record = plans.get_plan(session, plan_id)
    problem, orders = plan_problem(session, record)
    item = facts.explain_visit(problem, record.result or {}, order_id)
    if item is None:
        raise NotFound(
            N_("Plan %(plan)s does not include order %(order)s."), params={"plan": plan_id, "order": order_id}
        )
    words = _Words(session, orders, lang or current_lang())
    return {"plan_id": record.id, "status": record.status, **_visit_words(words, item)}


def explain_plan(session: Session, plan_id: int, lang: str | None = None) -> dict[str, Any]:
    """Every visit of the stored plan explained, each technician's day, and the plan's figures."""
    record = plans.get_plan(session, plan_id)
    problem, orders = plan_problem(session, record)
    result = record.result or {}
    explained = facts.explain_plan(problem, result)
    words = _Words(session, orders, lang or current_lang())
    return {
        "plan_id": record.id,
        "status": record.status,
        "day": record.day,
        "kpis": routing_kpis.plan_kpis(result, problem).to_dict(),
        "technicians": [
            {
                "technician_id": fact["params"]["technician"],
                "name": words.technician(fact["params"]["technician"]),
                "stops": fact["params"]["stops"],
                "text": words.say(fact),
            }
            for fact in explained["technicians"]
        ],
        "visits": [_visit_words(words, item) for item in explained["visits"]],
    }
