"""The work order state machine: the states, their names and groups, one table of
legal transitions and who may make them, and the predicates the interfaces ask."""

from __future__ import annotations

from enum import StrEnum

from core.errors import N_, Conflict, Message

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


# What each state is called: English message ids in the context below (other
# texts say "On site" and "Cancelled" too), translated where they are shown
# (workorders.labels).
STATE_CONTEXT = "order state"
STATE_NAMES = {
    State.RECEIVED: N_("Received"),
    State.VALIDATED: N_("Validated"),
    State.SCHEDULED: N_("Scheduled"),
    State.ASSIGNED: N_("Assigned"),
    State.EN_ROUTE: N_("En route"),
    State.ON_SITE: N_("On site"),
    State.COMPLETED: N_("Completed"),
    State.FOLLOWED_UP: N_("Followed up"),
    State.CLOSED: N_("Closed"),
    State.CANCELLED: N_("Cancelled"),
    State.NEEDS_REVISIT: N_("Needs revisit"),
}

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

S = State  # short, so the table reads as a table
# current state -> {next state: roles allowed to make that move}
TRANSITIONS: dict[State, dict[State, frozenset[str]]] = {
    S.RECEIVED: {S.VALIDATED: INTAKE, S.CANCELLED: INTAKE},
    S.VALIDATED: {S.SCHEDULED: DISPATCH, S.ASSIGNED: DISPATCH, S.CANCELLED: INTAKE},
    S.SCHEDULED: {S.ASSIGNED: DISPATCH, S.VALIDATED: DISPATCH, S.CANCELLED: INTAKE},
    S.ASSIGNED: {S.EN_ROUTE: FIELD, S.SCHEDULED: DISPATCH, S.VALIDATED: DISPATCH, S.CANCELLED: INTAKE},
    S.EN_ROUTE: {
        S.ON_SITE: FIELD,
        S.NEEDS_REVISIT: FIELD | DISPATCH,
        S.ASSIGNED: DISPATCH,
        S.CANCELLED: INTAKE,
    },
    S.ON_SITE: {S.COMPLETED: FIELD, S.NEEDS_REVISIT: FIELD | DISPATCH},
    S.NEEDS_REVISIT: {S.SCHEDULED: DISPATCH, S.ASSIGNED: DISPATCH, S.CANCELLED: INTAKE},
    S.COMPLETED: {S.FOLLOWED_UP: STAFF | FIELD},
    S.FOLLOWED_UP: {S.CLOSED: STAFF},
    S.CLOSED: {},
    S.CANCELLED: {},
}
# A complaint is answered by the service center, never visited: it is validated,
# answered and handled there, and its final answer completes it; then the
# follow-up and closing as for any order.
COMPLAINT_KIND = "complaint"
NON_FIELD_KINDS = frozenset({COMPLAINT_KIND})
COMPLAINT_TRANSITIONS: dict[State, dict[State, frozenset[str]]] = {
    S.RECEIVED: {S.VALIDATED: INTAKE, S.CANCELLED: INTAKE},
    S.VALIDATED: {S.COMPLETED: STAFF, S.CANCELLED: INTAKE},
    S.COMPLETED: {S.FOLLOWED_UP: STAFF},
    S.FOLLOWED_UP: {S.CLOSED: STAFF},
    S.CLOSED: {},
    S.CANCELLED: {},
}
# Moves that take the order out of its technician's route.
UNASSIGNING_MOVES = frozenset({S.VALIDATED, S.SCHEDULED})


class IllegalTransition(Conflict):
    slug = "illegal-transition"


def _table(kind: str | None) -> dict[State, dict[State, frozenset[str]]]:
    return COMPLAINT_TRANSITIONS if kind in NON_FIELD_KINDS else TRANSITIONS


def allowed_next(state: str, kind: str | None = None) -> list[str]:
    """States reachable from `state` in one step for an order of `kind`, in table order."""
    return list(_table(kind).get(state, {}))


def is_field_work(order) -> bool:
    """A technician goes out for the order (not a complaint): it may be planned and routed."""
    return order.kind not in NON_FIELD_KINDS


def state_name(state: str) -> Message | str:
    """The state's name, untranslated (an unknown code stays as it is)."""
    msgid = STATE_NAMES.get(state)
    return state if msgid is None else Message(msgid, context=STATE_CONTEXT)


def check(state: str, target: str, role: str, kind: str | None = None) -> None:
    """Raise IllegalTransition (409) unless `role` may move an order of `kind` from `state`
    to `target` (a complaint follows its own table: no technician, no route).

    The refusal names the states in the reader's language; its extensions
    carry the codes (current, requested, allowed next, the role's own moves).
    """
    moves = _table(kind).get(state, {})
    names = {"current": state_name(state), "target": state_name(target)}
    if target not in moves:
        raise IllegalTransition(
            N_("An order cannot go from %(current)s to %(target)s."),
            params=names,
            current_state=state,
            requested_state=target,
            allowed=allowed_next(state, kind),
        )
    if role not in moves[target] and role != "admin":
        raise IllegalTransition(
            N_("Your role may not move an order from %(current)s to %(target)s."),
            params=names,
            role=role,
            current_state=state,
            requested_state=target,
            allowed=allowed_next(state, kind),
            allowed_for_role=[s for s, roles in moves.items() if role in roles],
        )


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
    return (
        order.state in INSERTABLE_STATES
        and not order.blocked
        and is_field_work(order)
        and is_urgent(order, at)
    )


def is_open(order) -> bool:
    """The order still needs work (not completed, followed up, closed or cancelled)."""
    return order.state in OPEN_STATES


def is_under_way(order) -> bool:
    """The technician is on the way or on site: the order stays where it is in any plan."""
    return order.state in UNDER_WAY_STATES


def in_route(order) -> bool:
    """The order is in its technician's route today (assigned or under way)."""
    return order.technician_id is not None and order.state in ROUTE_STATES
