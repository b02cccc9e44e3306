"""The transition table itself: every legal move, and illegal jumps refused with 409 data."""

import pytest

from workorders import labels, lifecycle
from workorders.lifecycle import IllegalTransition

HAPPY_PATH = [
    "received",
    "validated",
    "scheduled",
    "assigned",
    "en_route",
    "on_site",
    "completed",
    "followed_up",
    "closed",
]


def test_every_state_has_a_row_and_labels(app):
    assert set(lifecycle.TRANSITIONS) == set(lifecycle.STATES)
    with app.test_request_context("/"):
        for state in lifecycle.STATES:
            assert labels.label("state", state, "zh") != labels.label("state", state, "en")


def test_happy_path_is_legal_step_by_step():
    for current, nxt in zip(HAPPY_PATH, HAPPY_PATH[1:], strict=False):
        assert nxt in lifecycle.allowed_next(current)


@pytest.mark.parametrize(
    "current,target",
    [
        ("received", "completed"),
        ("validated", "on_site"),
        ("assigned", "closed"),
        ("closed", "received"),
        ("cancelled", "validated"),
        ("completed", "assigned"),
    ],
)
def test_illegal_jumps_are_refused_with_allowed_list(current, target):
    with pytest.raises(IllegalTransition) as info:
        lifecycle.check(current, target, "dispatcher")
    assert info.value.status == 409
    assert info.value.extensions["current_state"] == current
    assert info.value.extensions["allowed"] == lifecycle.allowed_next(current)


def test_role_matters():
    lifecycle.check("assigned", "en_route", "technician")
    with pytest.raises(IllegalTransition) as info:
        lifecycle.check("assigned", "en_route", "dispatcher")
    assert info.value.extensions["allowed_for_role"] == ["scheduled", "validated", "cancelled"]
    with pytest.raises(IllegalTransition):
        lifecycle.check("validated", "assigned", "technician")


def test_terminal_states_have_no_exit():
    for state in lifecycle.TERMINAL_STATES:
        assert lifecycle.allowed_next(state) == []
