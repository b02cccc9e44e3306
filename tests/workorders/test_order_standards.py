"""The standards engine wired into orders: deadlines at creation, SLA pauses, rule-file errors."""

from datetime import datetime, timedelta

import pytest

import standards
from application import create_app
from core.config import Config


def _create(client, headers, ids, **extra):
    body = {
        "kind": "repair",
        "product": "lan_dedicated",
        "priority": "P2",
        "customer_id": ids["customer_id"],
        "site_id": ids["site_id"],
        **extra,
    }
    resp = client.post("/api/v1/workorders", headers=headers, json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.mark.parametrize(
    "tier,hours", [("group", 4), ("provincial", 6), ("local_a", 8), ("local_b", 24), ("local_c", 48)]
)
def test_enterprise_restore_deadline_by_tier(client, world, tier, hours):
    world.user("agent", "agent")
    ids = world.customer(
        f"企业{tier}", kind="enterprise", tier=tier, access_type="lan", route_length_m=None, occupancy_pct=30
    )
    order = _create(client, world.headers("agent"), ids)
    created = datetime.fromisoformat(order["created_at"])
    assert datetime.fromisoformat(order["restore_deadline"]) - created == timedelta(hours=hours)
    assert datetime.fromisoformat(order["response_deadline"]) - created == timedelta(hours=1)
    assert order["deadline_source"] == "clock-hours"
    assert order["sla"]["paused"] is False and order["sla"]["restore_breached"] is False


def test_logistics_app_fault_gets_working_days_and_names_its_calendar(client, world):
    world.user("agent", "agent")
    ids = world.customer(
        "徽商物流",
        kind="enterprise",
        tier="local_b",
        access_type="lan",
        route_length_m=None,
        occupancy_pct=30,
    )
    order = _create(client, world.headers("agent"), ids, product="logistics_e")
    assert order["deadline_source"] in (
        "chinesecalendar",
        "holidays-fallback",
        "operator-file",
        "weekends-only",
    )
    created = datetime.fromisoformat(order["created_at"])
    restore = datetime.fromisoformat(order["restore_deadline"])
    assert restore - created >= timedelta(days=3)
    assert standards.working_day_source(restore.date())


def test_sla_pause_for_absent_customer_extends_restore_deadline(client, world, city_time):
    world.user("agent", "agent")
    world.user("disp", "dispatcher")
    tech = world.technician("tech", ["lan", "enterprise_circuit"])
    ids = world.customer(
        "企业", kind="enterprise", tier="group", access_type="lan", route_length_m=None, occupancy_pct=30
    )
    order = _create(client, world.headers("agent"), ids)
    oid, original = order["id"], datetime.fromisoformat(order["restore_deadline"])
    client.post(
        f"/api/v1/workorders/{oid}/transitions",
        headers=world.headers("disp"),
        json={"to": "assigned", "technician_id": tech},
    )
    th = world.headers("tech")

    # a technician-side reason is not a customer-caused pause
    bad = client.post(f"/api/v1/workorders/{oid}/sla/pause", headers=th, json={"reason": "van_broke_down"})
    assert bad.status_code == 422 and "reason" in bad.get_json()["errors"]

    base = datetime.fromisoformat(order["created_at"]) + timedelta(minutes=30)
    city_time(base)
    paused = client.post(
        f"/api/v1/workorders/{oid}/sla/pause",
        headers=th,
        json={"reason": "customer_absent", "note": "敲门无人应答"},
    )
    assert paused.status_code == 200 and paused.get_json()["sla"]["paused"] is True
    twice = client.post(f"/api/v1/workorders/{oid}/sla/pause", headers=th, json={"reason": "customer_absent"})
    assert twice.status_code == 409

    city_time(base + timedelta(minutes=45))
    resumed = client.post(f"/api/v1/workorders/{oid}/sla/resume", headers=th).get_json()
    assert datetime.fromisoformat(resumed["restore_deadline"]) == original + timedelta(minutes=45)
    assert resumed["sla"]["paused_s"] == 45 * 60
    assert resumed["sla"]["pauses"][0]["reason"] == "customer_absent"
    again = client.post(f"/api/v1/workorders/{oid}/sla/resume", headers=th)
    assert again.status_code == 409

    trail = client.get(f"/api/v1/workorders/{oid}/audit", headers=world.headers("disp"))
    actions = [e["action"] for e in trail.get_json()]
    assert "sla_paused" in actions and "sla_resumed" in actions


def test_r2_busy_switch_blocks_iptv_over_lan_until_uplink_raised(client, world):
    world.user("agent", "agent")
    busy = world.customer("王芳", access_type="lan", route_length_m=None, occupancy_pct=80)
    resp = client.post(
        "/api/v1/workorders",
        headers=world.headers("agent"),
        json={
            "kind": "install",
            "product": "iptv_lan",
            "customer_id": busy["customer_id"],
            "site_id": busy["site_id"],
        },
    )
    order = resp.get_json()
    assert order["state"] == "received" and order["blocked"] is True
    r2 = next(f for f in order["findings"] if f["rule_id"] == "R2")
    assert r2["measured"] == 80 and r2["limit"] == 80 and r2["unit"] == "%"
    en = client.get(f"/api/v1/workorders/{order['id']}?lang=en", headers=world.headers("agent")).get_json()
    r2_en = next(f for f in en["findings"] if f["rule_id"] == "R2")
    assert r2_en["message"] == r2_en["message_en"] != r2_en["message_zh"]


def test_malformed_rule_file_fails_at_start_up_with_file_and_line(tmp_path, monkeypatch, app_config):
    bad = tmp_path / "install_code.toml"
    good = standards.rules.DEFAULT_RULE_FILE.read_text(encoding="utf-8")
    bad.write_text(good.replace("version =", "version = = ", 1), encoding="utf-8")
    monkeypatch.setenv("STANDARDS_RULES_FILE", str(bad))
    with pytest.raises(standards.RuleFileError) as info:
        create_app(Config(**app_config.as_dict()))
    assert str(bad) in str(info.value) and ":" in str(info.value)
    assert info.value.line >= 1
