"""The people of a busy day, for locust (driven by ``python -m bench load``).

Technicians sync and ping from their phones, dispatchers keep the console
open (it polls its feeds), enterprise customers look at their orders and the
portal. Counts come from the environment (LOAD_TECHNICIANS, LOAD_DISPATCHERS,
LOAD_CUSTOMERS); every user logs in once as a demo user (password demo1234).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from locust import HttpUser, between, task

PASSWORD = "demo1234"
CITY = ZoneInfo(os.environ.get("CITY_TZ", "Asia/Shanghai"))
_technician_numbers = itertools.count(1)
_dispatcher_numbers = itertools.count(1)
_customer_numbers = itertools.count(1)


def city_now() -> str:
    return datetime.now(CITY).replace(tzinfo=None, microsecond=0).isoformat()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _web_login(client, username: str) -> str:
    page = client.get("/login", name="/login").text
    client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page)},
        name="/login [POST]",
    )
    return _csrf(client.get("/console", name="/console").text) if username.startswith("disp") else ""


class Technician(HttpUser):
    fixed_count = int(os.environ.get("LOAD_TECHNICIANS", 200))
    wait_time = between(5, 15)

    def on_start(self) -> None:
        number = next(_technician_numbers)
        answer = self.client.post(
            "/mobile/v1/auth/login",
            json={"username": f"tech{number:02d}", "password": PASSWORD},
            name="/mobile/v1/auth/login",
        ).json()
        self.client.headers["Authorization"] = f"Bearer {answer['access_token']}"
        route = self.client.get("/mobile/v1/route", name="/mobile/v1/route").json()
        stops = route.get("stops") or []
        self.here = (stops[0]["lat"], stops[0]["lon"]) if stops else (31.82, 117.23)

    def _ping(self) -> dict:
        lat, lon = self.here
        self.here = (lat + random.uniform(-0.001, 0.001), lon + random.uniform(-0.001, 0.001))
        return {
            "lat": round(self.here[0], 6),
            "lon": round(self.here[1], 6),
            "accuracy_m": 12,
            "recorded_at": city_now(),
        }

    @task(3)
    def ping(self) -> None:
        self.client.post("/mobile/v1/location", json={"pings": [self._ping()]}, name="/mobile/v1/location")

    @task(2)
    def route(self) -> None:
        self.client.get("/mobile/v1/route", name="/mobile/v1/route")

    @task(1)
    def sync(self) -> None:
        action = {
            "id": uuid.uuid4().hex,
            "type": "location",
            "order_id": None,
            "payload": {"pings": [self._ping(), self._ping()]},
            "client_time": city_now(),
        }
        with self.client.post(
            "/mobile/v1/sync", json={"actions": [action]}, name="/mobile/v1/sync", catch_response=True
        ) as resp:
            if resp.status_code == 200 and resp.json()["results"][0]["status"] not in (
                "applied",
                "duplicate",
            ):
                resp.failure(f"sync refused: {resp.text[:200]}")


class Dispatcher(HttpUser):
    fixed_count = int(os.environ.get("LOAD_DISPATCHERS", 10))
    wait_time = between(10, 20)  # the console polls every 15 s

    def on_start(self) -> None:
        token = _web_login(self.client, f"disp{next(_dispatcher_numbers):02d}")
        self.client.headers["X-CSRFToken"] = token
        self.since = None
        self.order_ids = [
            f["id"]
            for f in self.client.get("/console/api/orders", name="/console/api/orders").json()["features"]
        ]

    @task(3)
    def live(self) -> None:
        params = {"since": self.since} if self.since else {}
        answer = self.client.get("/console/api/live", params=params, name="/console/api/live").json()
        self.since = answer.get("generated_at") or city_now()

    @task(1)
    def feeds(self) -> None:
        for feed in ("orders", "technicians", "routes"):
            self.client.get(f"/console/api/{feed}", name=f"/console/api/{feed}")

    @task(1)
    def open_order(self) -> None:
        if self.order_ids:
            order_id = random.choice(self.order_ids)
            self.client.get(f"/console/api/orders/{order_id}", name="/console/api/orders/{id}")
            self.client.get(
                f"/console/api/orders/{order_id}/candidates", name="/console/api/orders/{id}/candidates"
            )


class Customer(HttpUser):
    fixed_count = int(os.environ.get("LOAD_CUSTOMERS", 5))
    wait_time = between(10, 30)

    def on_start(self) -> None:
        username = f"cust{next(_customer_numbers):02d}"
        answer = self.client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}, name="/api/v1/auth/token"
        ).json()
        self.bearer = {"Authorization": f"Bearer {answer['access_token']}"}
        _web_login(self.client, username)

    @task(2)
    def orders(self) -> None:
        orders = self.client.get("/api/v1/workorders", headers=self.bearer, name="/api/v1/workorders").json()
        if orders:
            self.client.get(
                f"/api/v1/workorders/{orders[0]['id']}", headers=self.bearer, name="/api/v1/workorders/{id}"
            )

    @task(1)
    def portal(self) -> None:
        self.client.get("/", name="/ (portal)")
