"""Auth and bad input: the right 4xx, always as problem details, nothing half-written."""

from sqlalchemy import func, select

from workorders.models import WorkOrder


def _problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["title"] and body["type"].startswith("http")
    return body


def test_no_token_is_401(client):
    body = _problem(client.get("/api/v1/workorders"), 401)
    assert "detail" in body


def test_bad_token_and_wrong_scheme_are_401(client):
    _problem(client.get("/api/v1/workorders", headers={"Authorization": "Bearer nope"}), 401)
    _problem(client.get("/api/v1/workorders", headers={"Authorization": "Basic abc"}), 401)


def test_wrong_password_is_401(client, world):
    world.user("disp", "dispatcher")
    _problem(client.post("/api/v1/auth/token", json={"username": "disp", "password": "x"}), 401)


def test_wrong_role_is_403(client, world):
    world.user("cust", "customer")
    world.technician("tech", ["adsl"])
    _problem(client.post("/api/v1/technicians", headers=world.headers("tech"), json={}), 403)
    _problem(client.get("/api/v1/technicians", headers=world.headers("cust")), 403)
    _problem(
        client.post("/api/v1/dispatch/plan", headers=world.headers("tech"), json={"day": "2026-11-22"}), 403
    )


def test_malformed_json_is_400(client, world):
    world.user("disp", "dispatcher")
    resp = client.post(
        "/api/v1/workorders",
        headers=world.headers("disp") | {"Content-Type": "application/json"},
        data="{not json",
    )
    _problem(resp, 400)


def test_unknown_and_wrongly_typed_fields_are_422_per_field(client, world):
    world.user("disp", "dispatcher")
    ids = world.customer("张伟")
    resp = client.post(
        "/api/v1/workorders",
        headers=world.headers("disp"),
        json={
            "kind": "teleport",
            "product": "adsl",
            "customer_id": "abc",
            "site_id": ids["site_id"],
            "colour": "red",
        },
    )
    body = _problem(resp, 422)
    assert set(body["errors"]) >= {"kind", "customer_id", "colour"}


def test_unknown_product_and_foreign_site_are_422(client, world, db):
    world.user("disp", "dispatcher")
    a = world.customer("甲")
    b = world.customer("乙")
    h = world.headers("disp")
    body = _problem(
        client.post(
            "/api/v1/workorders",
            headers=h,
            json={
                "kind": "install",
                "product": "warp",
                "customer_id": a["customer_id"],
                "site_id": a["site_id"],
            },
        ),
        422,
    )
    assert "product" in body["errors"]
    body = _problem(
        client.post(
            "/api/v1/workorders",
            headers=h,
            json={
                "kind": "install",
                "product": "adsl",
                "customer_id": a["customer_id"],
                "site_id": b["site_id"],
            },
        ),
        422,
    )
    assert "site_id" in body["errors"]
    assert db.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_window_end_before_start_is_422(client, world):
    world.user("disp", "dispatcher")
    a = world.customer("甲")
    body = _problem(
        client.post(
            "/api/v1/workorders",
            headers=world.headers("disp"),
            json={
                "kind": "install",
                "product": "adsl",
                **{k: a[k] for k in ("customer_id", "site_id")},
                "appointment_start": "2026-11-23T14:00:00",
                "appointment_end": "2026-11-23T09:00:00",
            },
        ),
        422,
    )
    assert "appointment_end" in body["errors"]


def test_missing_order_is_404_and_unknown_path_is_problem(client, world):
    world.user("disp", "dispatcher")
    _problem(client.get("/api/v1/workorders/999", headers=world.headers("disp")), 404)
    _problem(client.get("/api/v1/nothing-here"), 404)
    _problem(client.delete("/api/v1/workorders"), 405)


def test_oversize_body_is_413(client, world):
    world.user("disp", "dispatcher")
    big = b"x" * (client.application.config["MAX_CONTENT_LENGTH"] + 10)
    resp = client.post(
        "/api/v1/workorders", headers=world.headers("disp") | {"Content-Type": "application/json"}, data=big
    )
    _problem(resp, 413)


def test_logout_revokes_token_and_refresh_rotates(client, world):
    world.user("disp", "dispatcher")
    tokens = client.post(
        "/api/v1/auth/token", json={"username": "disp", "password": "secret-pass-1"}
    ).get_json()
    h = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/me", headers=h).get_json()["role"] == "dispatcher"
    new = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert new.status_code == 200
    # the old family is revoked by the rotation
    _problem(client.get("/api/v1/me", headers=h), 401)
    h2 = {"Authorization": f"Bearer {new.get_json()['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=h2).status_code == 204
    _problem(client.get("/api/v1/me", headers=h2), 401)
    # after logout the old refresh token is simply refused
    _problem(client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401)


def test_errors_speak_english_on_request(client):
    zh = client.get("/api/v1/workorders").get_json()["title"]
    en = client.get("/api/v1/workorders?lang=en", headers={"Accept-Language": "en"}).get_json()["title"]
    assert en == "Authentication required"
    assert zh != en


def test_ids_beyond_the_integer_column_are_4xx_not_500(client, world):
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    huge = 2**70
    for path in (
        f"/api/v1/workorders/{huge}",
        f"/api/v1/technicians/{huge}",
        f"/api/v1/customers/{huge}",
        f"/api/v1/jobs/{huge}",
        f"/api/v1/dispatch/plans/{huge}",
        f"/console/api/orders/{huge}",
    ):
        _problem(client.get(path, headers=h), 404)
    body = _problem(client.get(f"/api/v1/workorders?technician_id={huge}", headers=h), 422)
    assert "technician_id" in body["errors"]
    assert client.get("/api/v1/workorders?technician_id=5", headers=h).status_code == 200
    body = _problem(
        client.post(
            "/api/v1/workorders",
            headers=h,
            json={"kind": "repair", "product": "adsl", "customer_id": huge, "site_id": 1},
        ),
        422,
    )
    assert "customer_id" in body["errors"]
    spec = client.get("/openapi.json").get_json()
    param = spec["paths"]["/api/v1/workorders/{order_id}"]["parameters"][0]
    assert param["schema"]["maximum"] == 2_147_483_647
