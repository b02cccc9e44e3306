"""Scoped close-out overrides over HTTP: a supervisor's override covers the findings it
names with the values seen; a different or worse finding needs its own; the overrider
is the signed-in user; a technician sending an override is refused with 403."""

import pytest

from tests.factories import ADSL_INSTALL_ANSWERS

ANSWERS = {
    **ADSL_INSTALL_ANSWERS,
    "r8_power_line_distance_cm": 14,  # R8 wants about 15 cm from power lines
    "r8_socket_spacing_cm": 22,
    "r8_socket_height_cm": 30,
    "r1_route_length_m": 1250,
}


@pytest.fixture()
def on_site(field):
    """An IPTV-over-ADSL install on site with every item answered (no photos yet), R8's
    separation from power lines measured 14 cm."""
    oid = field.order(product="iptv_adsl", kind="install")
    field.arrive(oid)
    _answer(field, oid, ANSWERS)
    return oid


def _answer(field, oid, answers, headers=None, expect=200, **extra):
    resp = field.client.post(
        f"/mobile/v1/orders/{oid}/checklist",
        headers=headers or field.tech,
        json={"answers": answers, **extra},
    )
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def _complete(field, oid, expect, **body):
    return field.move(oid, "completed", headers=field.tech, expect=expect, **body)


def _override(field, oid, expect=200, headers=None, **body):
    resp = field.client.post(
        f"/api/v1/workorders/{oid}/override",
        headers=headers or field.boss,
        json={"reason": "客户签字确认", **body},
    )
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def _blocking(problem: dict) -> dict[str, dict]:
    return {f["params"]["item_id"]: f for f in problem["findings"] if f["severity"] == "block"}


def test_an_override_covers_what_it_names_and_a_worse_or_different_finding_needs_its_own(field, on_site):
    """Long because it walks one close-out through two overrides, each refusal checked."""
    first = _blocking(_complete(field, on_site, 409))
    assert first["r8_power_line_distance_cm"]["measured"] == 14

    order = _override(field, on_site)
    covers = {c["item_id"]: c for c in order["override"]["covers"]}
    assert set(covers) == set(first)  # by default: every finding blocking now
    r8 = covers["r8_power_line_distance_cm"]
    assert (r8["rule_id"], r8["measured"], r8["limit"], r8["by"]) == ("R8", 14, 15, "boss")
    assert r8["reason"] == "客户签字确认" and order["override"]["by"] == "boss"

    # measured worse after the override: not covered any more
    _answer(field, on_site, {"r8_power_line_distance_cm": 12})
    worse = _blocking(_complete(field, on_site, 409))
    assert (
        set(worse) == {"r8_power_line_distance_cm"} and worse["r8_power_line_distance_cm"]["measured"] == 12
    )

    # back to 14.5 cm (better than what the supervisor saw), but the socket height now fails: another finding
    _answer(field, on_site, {"r8_power_line_distance_cm": 14.5, "r8_socket_height_cm": 40})
    other = _blocking(_complete(field, on_site, 409))
    assert set(other) == {"r8_socket_height_cm"}

    second = _override(field, on_site, findings=[{"rule_id": "R8", "item_id": "r8_socket_height_cm"}])
    assert {c["item_id"] for c in second["override"]["covers"]} == set(first) | {"r8_socket_height_cm"}
    done = _complete(field, on_site, 200)
    assert done["state"] == "completed"
    lifted = {f["params"]["item_id"]: f for f in done["closeout_findings"]}
    assert lifted["r8_power_line_distance_cm"]["severity"] == "warn"
    assert lifted["r8_power_line_distance_cm"]["params"]["override_by"] == "boss"
    assert lifted["r8_socket_height_cm"]["params"]["override_reason"] == "客户签字确认"


def test_an_override_naming_one_finding_leaves_the_others_blocking(field, on_site):
    before = _blocking(_complete(field, on_site, 409))
    assert len(before) > 1
    _override(field, on_site, findings=[{"rule_id": "R8", "item_id": "r8_power_line_distance_cm"}])
    after = _blocking(_complete(field, on_site, 409))
    assert set(after) == set(before) - {"r8_power_line_distance_cm"}


def test_naming_a_finding_that_does_not_block_is_refused(field, on_site):
    refused = _override(field, on_site, expect=422, findings=[{"rule_id": "R1"}])
    assert "findings" in refused["errors"]


def test_the_overrider_is_the_signed_in_user_never_a_name_sent(field, on_site, db):
    refused = _override(field, on_site, expect=422, by="王经理")
    assert "by" in refused["errors"]
    order = _override(field, on_site, headers=field.disp)
    assert order["override"]["by"] == "disp"
    assert {c["by"] for c in order["override"]["covers"]} == {"disp"}


def test_a_technician_sending_an_override_is_told_403_not_a_checklist_refusal(field, on_site):
    override = {"reason": "相机坏了", "by": "boss"}
    for body in ({"override": override}, {"override": {"reason": "相机坏了"}}):
        _complete(field, on_site, 403, **body)
    assert _override(field, on_site, expect=403, headers=field.tech)["status"] == 403
    refused = _answer(field, on_site, {"r8_power_line_distance_cm": 15}, expect=403, override=override)
    assert "override" in refused["errors"]
    status = field.status(on_site, "completed", override=override)
    assert status.status_code == 403, status.get_json()
    # nothing was stored: the answer stays 14 cm and there is no override
    state = field.client.get(f"/mobile/v1/orders/{on_site}/checklist", headers=field.tech).get_json()
    assert state["answers"]["r8_power_line_distance_cm"] == 14 and state["override"] is None


def test_an_override_sent_with_a_move_the_supervisor_may_not_make_is_rolled_back_with_it(field, on_site):
    # the supervisor cannot complete a field job, so the override is recorded first and then
    # the lifecycle refuses the move (409), rolling both back
    refused = field.move(
        on_site, "completed", headers=field.boss, expect=409, override={"reason": "客户签字确认"}
    )
    assert refused["requested_state"] == "completed"
    blocking = _blocking(_complete(field, on_site, 409))
    assert "r8_power_line_distance_cm" in blocking


def test_nothing_to_override_is_refused(field, client):
    complaint = client.post(
        "/api/v1/complaints",
        headers=field.agent,
        json={"customer_id": field.home["customer_id"], "product": "adsl", "description": "态度差"},
    ).get_json()
    refused = _override(field, complaint["id"], expect=409)
    assert refused["detail"] == "该工单没有阻止完工的检查项，无需放行。"
