"""The work order state machine: one table of legal transitions and who may make them."""

from __future__ import annotations

from enum import StrEnum

from core.errors import Conflict

DISPATCH = frozenset({"dispatcher", "admin"})
INTAKE = frozenset({"dispatcher", "agent", "admin"})
STAFF = frozenset({"dispatcher", "agent", "manager", "admin"})
FIELD = frozenset({"technician"})


class State(StrEnum):
    """A work order's state. Members are strings, so they compare and store as the names."""

    RECEIVED = "received"
    VALIDATED = "validated"
    SCHEDULED = "scheduled"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    NEEDS_REVISIT = "needs_revisit"


STATES = tuple(State)
OPEN_STATES = frozenset(
    {
        State.RECEIVED,
        State.VALIDATED,
        State.SCHEDULED,
        State.ASSIGNED,
        State.EN_ROUTE,
        State.ON_SITE,
        State.NEEDS_REVISIT,
    }
)
# The planner may (re)place these.
PLANNABLE_STATES = frozenset({State.VALIDATED, State.SCHEDULED, State.ASSIGNED, State.NEEDS_REVISIT})
TERMINAL_STATES = frozenset({State.CLOSED, State.CANCELLED})
# Orders not yet in anyone's route, which an urgent insertion may place.
INSERTABLE_STATES = frozenset({State.VALIDATED, State.SCHEDULED, State.NEEDS_REVISIT})
# Work under way: the technician is driving there or on site. A plan keeps these
# first in their technician's route and never moves them.
UNDER_WAY_STATES = frozenset({State.EN_ROUTE, State.ON_SITE})
# In a technician's route today: assigned, or under way.
ROUTE_STATES = frozenset({State.ASSIGNED, *UNDER_WAY_STATES})
# Work done (the route still shows it, greyed).
DONE_STATES = frozenset({State.COMPLETED, State.FOLLOWED_UP, State.CLOSED})
# An unanswered order whose response deadline is this close is urgent, whatever its priority.
URGENT_RESPONSE_S = 3600

# current state -> {next state: roles allowed to make that move}
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "received": {"validated": INTAKE, "cancelled": INTAKE},
    "validated": {"scheduled": DISPATCH, "assigned": DISPATCH, "cancelled": INTAKE},
    "scheduled": {"assigned": DISPATCH, "validated": DISPATCH, "cancelled": INTAKE},
    "assigned": {"en_route": FIELD, "scheduled": DISPATCH, "validated": DISPATCH, "cancelled": INTAKE},
    "en_route": {
        "on_site": FIELD,
        "needs_revisit": FIELD | DISPATCH,
        "assigned": DISPATCH,
        "cancelled": INTAKE,
    },
    "on_site": {"completed": FIELD, "needs_revisit": FIELD | DISPATCH},
    "needs_revisit": {"scheduled": DISPATCH, "assigned": DISPATCH, "cancelled": INTAKE},
    "completed": {"followed_up": STAFF | FIELD},
    "followed_up": {"closed": STAFF},
    "closed": {},
    "cancelled": {},
}

STATE_LABELS = {
    "received": ("已受理", "Received"),
    "validated": ("已校验", "Validated"),
    "scheduled": ("已排程", "Scheduled"),
    "assigned": ("已派单", "Assigned"),
    "en_route": ("在途", "En route"),
    "on_site": ("现场处理中", "On site"),
    "completed": ("已完工", "Completed"),
    "followed_up": ("已回访", "Followed up"),
    "closed": ("已归档", "Closed"),
    "cancelled": ("已取消", "Cancelled"),
    "needs_revisit": ("待再次上门", "Needs revisit"),
}


class IllegalTransition(Conflict):
    slug = "illegal-transition"


def allowed_next(state: str) -> list[str]:
    """States reachable from `state` in one step, in table order."""
    return list(TRANSITIONS.get(state, {}))


def check(state: str, target: str, role: str) -> None:
    """Raise IllegalTransition (409) unless `role` may move an order from `state` to `target`."""
    moves = TRANSITIONS.get(state, {})
    if target not in moves:
        raise IllegalTransition(
            f"Cannot go from '{state}' to '{target}'.",
            current_state=state,
            requested_state=target,
            allowed=allowed_next(state),
        )
    if role not in moves[target] and role != "admin":
        raise IllegalTransition(
            f"Role '{role}' cannot move an order from '{state}' to '{target}'.",
            current_state=state,
            requested_state=target,
            allowed=allowed_next(state),
            allowed_for_role=[s for s, roles in moves.items() if role in roles],
        )


def label(state: str, lang: str = "zh") -> str:
    zh, en = STATE_LABELS[state]
    return en if lang == "en" else zh


def is_urgent(order, at) -> bool:
    """A P1, or an order not yet answered whose response deadline is within the hour."""
    if order.priority == "P1":
        return True
    deadline = order.response_deadline
    return (
        order.responded_at is None
        and deadline is not None
        and (deadline - at).total_seconds() <= URGENT_RESPONSE_S
    )


def can_insert_urgently(order, at) -> bool:
    """Whether the console offers "insert urgently" for the order at ``at``:
    urgent, unblocked, and in nobody's route yet."""
    return order.state in INSERTABLE_STATES and not order.blocked and is_urgent(order, at)


def is_under_way(order) -> bool:
    """The technician is on the way or on site: the order stays where it is in any plan."""
    return order.state in UNDER_WAY_STATES


def in_route(order) -> bool:
    """The order is in its technician's route today (assigned or under way)."""
    return order.technician_id is not None and order.state in ROUTE_STATES
