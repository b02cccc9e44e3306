"""Safe retries and offline work: Idempotency-Key replays, and the sync of queued actions
with refusals when the dispatcher moved the order on."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.clock import now, to_city_aware
from core.models import AuditEvent
from mobile_api.models import IdempotencyRecord
from technicians.models import LocationPing
from tests.factories import SITE, image_bytes, new_key
from workorders.models import Photo


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


def _state_events(db, oid, state) -> int:
    return _count(db, AuditEvent, AuditEvent.entity_id == oid, AuditEvent.action == f"state:{state}")


# ---------------------------------------------------------------- Idempotency-Key


def test_a_replayed_status_change_is_one_transition(client, db, field):
    oid = field.order("adsl")
    key = new_key()
    first = field.status(oid, "en_route", key=key)
    second = field.status(oid, "en_route", key=key)
    assert first.status_code == second.status_code == 200
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _state_events(db, oid, "en_route") == 1
    # without the key the same request is a new one, and the lifecycle refuses it
    assert field.status(oid, "en_route").status_code == 409


def test_same_key_different_body_is_refused(client, db, field):
    oid = field.order("adsl")
    key = new_key()
    field.status(oid, "en_route", key=key)
    other = field.status(oid, "arrived", key=key, lat=SITE[0], lon=SITE[1])
    assert other.status_code == 422
    assert other.get_json()["type"].endswith("/idempotency-key-reused")
    assert _state_events(db, oid, "on_site") == 0
    # key order and spacing do not make a different request
    same = client.post(
        f"/mobile/v1/orders/{oid}/status",
        headers={**field.tech, "Idempotency-Key": key, "Content-Type": "application/json"},
        data='{ "status" :  "en_route" }',
    )
    assert same.status_code == 200 and same.headers["Idempotent-Replayed"] == "true"


def test_keys_belong_to_one_user(db, field):
    mine = field.order("adsl")
    theirs = field.order("adsl", technician_id=field.other_tech_id)
    key = new_key()
    assert field.status(mine, "en_route", key=key).status_code == 200
    assert field.status(theirs, "en_route", key=key, headers=field.other_tech).status_code == 200
    assert _count(db, IdempotencyRecord) == 2


def test_a_refusal_is_remembered_as_the_first_answer(client, db, field):
    oid = field.order("adsl")
    key = new_key()
    refused = field.status(oid, "completed", key=key)
    assert refused.status_code == 409
    replay = field.status(oid, "completed", key=key)
    assert replay.status_code == 409 and replay.get_json() == refused.get_json()
    assert replay.headers["Content-Type"].startswith("application/problem+json")
    # bad input never ran: not remembered, the fixed request may use the key
    bad_key = new_key()
    assert field.status(oid, "en_route", key=bad_key, lat=99, lon=0).status_code == 422
    assert field.status(oid, "en_route", key=bad_key).status_code == 200


def test_a_malformed_key_is_refused(field):
    oid = field.order("adsl")
    resp = field.status(oid, "en_route", key="short")
    assert resp.status_code == 400
    assert resp.get_json()["type"].endswith("/bad-idempotency-key")


def test_a_replayed_photo_upload_stores_one_photo(app, db, field):
    oid = field.order("adsl", kind="install")
    field.arrive(oid)
    key = new_key()
    raw = image_bytes(gps=(31.86, 117.27))
    first = field.upload(oid, "r5_not_through_windows_doors", raw, key=key)
    again = field.upload(oid, "r5_not_through_windows_doors", raw, key=key)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert _count(db, Photo) == 1
    assert _count(db, AuditEvent, AuditEvent.action == "photo_added") == 1
    different = field.upload(oid, "r5_not_through_windows_doors", image_bytes(color=(1, 2, 3)), key=key)
    assert different.status_code == 422 and _count(db, Photo) == 1


def test_a_replayed_ping_batch_and_checklist(client, db, field):
    key = new_key()
    body = {"pings": [{"lat": 31.8, "lon": 117.2, "recorded_at": now().isoformat()}]}
    headers = {**field.tech, "Idempotency-Key": key}
    first = client.post("/mobile/v1/location", headers=headers, json=body)
    again = client.post("/mobile/v1/location", headers=headers, json=body)
    assert first.get_json() == again.get_json() and first.get_json()["accepted"] == 1
    assert _count(db, LocationPing) == 1


# ---------------------------------------------------------------- sync


def _sync(client, headers, *actions, expect=200):
    resp = client.post("/mobile/v1/sync", headers=headers, json={"actions": list(actions)})
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def _action(type_, order_id, payload, minutes_ago=5, action_id=None):
    return {
        "id": action_id or new_key(),
        "type": type_,
        "order_id": order_id,
        "payload": payload,
        "client_time": (now() - timedelta(minutes=minutes_ago)).isoformat(),
    }


def test_sync_applies_queued_actions_in_order(client, db, field):
    oid = field.order("adsl")
    actions = [
        _action("status", oid, {"status": "en_route"}, 30),
        _action("status", oid, {"status": "arrived", "lat": SITE[0], "lon": SITE[1]}, 20),
        _action("status", oid, {"status": "started"}, 19),
        _action(
            "checklist",
            oid,
            {"answers": {"r3_line_no_fault": True, "r3_drop_twisted_pair": True, "r3_drop_no_joints": True}},
            10,
        ),
        _action(
            "location",
            None,
            {
                "pings": [
                    {"lat": 31.86, "lon": 117.27, "recorded_at": (now() - timedelta(minutes=9)).isoformat()}
                ]
            },
            9,
        ),
        _action("status", oid, {"status": "completed"}, 5),
    ]
    results = _sync(client, field.tech, *actions)["results"]
    assert [r["status"] for r in results] == ["applied"] * 6, results
    assert [r["id"] for r in results] == [a["id"] for a in actions]
    assert results[-1]["current"]["state"] == "completed"
    assert results[-1]["response"]["state"] == "completed"
    assert results[3]["response"]["complete"] is True
    assert results[4]["current"] is None and results[4]["response"]["accepted"] == 1
    on_site = db.scalar(
        select(AuditEvent).where(AuditEvent.entity_id == oid, AuditEvent.action == "state:on_site")
    )
    # the phone's moment, kept with the city's offset
    stored = datetime.fromisoformat(on_site.after["client_time"])
    sent = datetime.fromisoformat(actions[1]["client_time"])  # naive: city time
    assert stored == to_city_aware(sent) and stored.utcoffset() == timedelta(hours=8)

    # the phone did not hear the answer and syncs the same queue again
    again = _sync(client, field.tech, *actions)["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 6
    assert again[-1]["response"] == results[-1]["response"]
    assert _state_events(db, oid, "completed") == 1


def test_sync_after_the_dispatcher_reassigned_the_order(client, db, field):
    oid = field.order("adsl")
    kept = field.order("adsl", hour=11)
    field.move(oid, "scheduled")  # taken off my route...
    field.move(oid, "assigned", technician_id=field.other_tech_id)  # ...and given to another
    results = _sync(
        client,
        field.tech,
        _action("status", oid, {"status": "en_route"}),
        _action("status", kept, {"status": "en_route"}),
    )["results"]
    refused, applied = results
    assert refused["status"] == "refused" and refused["http_status"] == 409
    assert refused["problem"]["type"].endswith("/order-reassigned")
    assert refused["current"]["technician_id"] == field.other_tech_id
    assert refused["current"]["state"] == "assigned"
    assert applied["status"] == "applied"  # one refusal does not undo the others
    assert _state_events(db, oid, "en_route") == 0 and _state_events(db, kept, "en_route") == 1


def test_sync_after_the_dispatcher_cancelled_the_order(client, db, field):
    oid = field.order("adsl")
    field.status(oid, "en_route")
    field.move(oid, "cancelled", headers=field.agent, reason="客户已自行修复")
    action = _action("status", oid, {"status": "arrived", "lat": SITE[0], "lon": SITE[1]})
    result = _sync(client, field.tech, action)["results"][0]
    assert result["status"] == "refused"
    assert result["problem"]["type"].endswith("/order-cancelled")
    assert result["problem"]["reason"] == "客户已自行修复"
    assert result["current"] == {
        "state": "cancelled",
        "technician_id": field.tech_id,
        "version": result["current"]["version"],
    }
    again = _sync(client, field.tech, action)["results"][0]
    assert again["status"] == "duplicate" and again["problem"] == result["problem"]


def test_sync_refuses_what_it_cannot_apply_and_goes_on(client, db, field):
    oid = field.order("adsl")
    stranger = field.order("adsl", technician_id=field.other_tech_id)
    results = _sync(
        client,
        field.tech,
        _action("status", stranger, {"status": "en_route"}),
        _action("status", oid, {"status": "en_route", "warp": 9}),
        _action("status", oid, {"status": "arrived"}),
        _action("status", None, {"status": "en_route"}),
        _action("status", oid, {"status": "en_route"}),
    )["results"]
    assert [(r["status"], r["http_status"]) for r in results] == [
        ("refused", 404),
        ("refused", 422),
        ("refused", 409),
        ("refused", 422),
        ("applied", 200),
    ]
    assert results[0]["current"] is None  # never theirs: nothing revealed
    assert "warp" in results[1]["problem"]["errors"]
    assert results[2]["problem"]["allowed_statuses"] == ["en_route"]


def test_sync_and_online_requests_share_keys(client, db, field):
    oid = field.order("adsl")
    key = new_key()
    online = field.status(oid, "en_route", key=key)
    assert online.status_code == 200
    # the phone never heard back and queued the action for the next sync
    result = _sync(
        client, field.tech, {"id": key, "type": "status", "order_id": oid, "payload": {"status": "en_route"}}
    )["results"][0]
    assert result["status"] == "duplicate" and result["response"] == online.get_json()
    assert _state_events(db, oid, "en_route") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"actions": []},
        {"actions": [{"id": "bad", "type": "status", "order_id": 1, "payload": {}}]},
        {"actions": [{"id": "12345678", "type": "teleport", "order_id": 1, "payload": {}}]},
        {
            "actions": [
                {
                    "id": "12345678",
                    "type": "status",
                    "order_id": 1,
                    "payload": {},
                    "client_time": "1970-01-01T00:00:00",
                }
            ]
        },
        {"actions": [{"id": "12345678", "type": "status", "order_id": "1", "payload": {}}]},
        {"actions": [{"id": "12345678", "type": "status", "order_id": 1, "payload": []}]},
        {"actions": "all of them"},
        {"actions": [], "device": "x"},
    ],
)
def test_a_malformed_sync_is_refused_whole(client, db, field, body):
    oid = field.order("adsl")
    before = _count(db, AuditEvent)
    resp = client.post("/mobile/v1/sync", headers=field.tech, json=body)
    assert resp.status_code == 422, resp.get_json()
    assert _count(db, AuditEvent) == before and _count(db, IdempotencyRecord) == 0
    assert client.get(f"/mobile/v1/orders/{oid}", headers=field.tech).get_json()["state"] == "assigned"


def test_concurrent_retries_with_one_key_make_one_change(app, db, field):
    """Two copies of one request racing (the phone retried before the first answer came):
    one transition, and both get the same answer."""
    import threading

    oid = field.order("adsl")
    key, barrier, answers = new_key(), threading.Barrier(2), []

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(
            f"/mobile/v1/orders/{oid}/status",
            json={"status": "en_route"},
            headers={**field.tech, "Idempotency-Key": key},
        )
        answers.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [200, 200], answers
    assert answers[0][1] == answers[1][1]
    assert _state_events(db, oid, "en_route") == 1
