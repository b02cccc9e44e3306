"""Property-based run of the staff and customer API (/api/v1) against its OpenAPI spec.

Bounded in CI: for every operation, derandomized examples of valid and of invalid data,
sent to the WSGI app with a dispatcher's token and with an enterprise customer's token
(another company's orders exist). No answer may be a 5xx, and every answer must match
the spec. A longer run: ``SCHEMATHESIS_EXAMPLES=300 .venv/bin/python -m pytest
tests/application/test_api_schemathesis.py tests/mobile_api/test_mobile_schemathesis.py``.
"""

from __future__ import annotations

import os
import traceback

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

EXAMPLES_PER_MODE = int(os.environ.get("SCHEMATHESIS_EXAMPLES", 8))
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "413", "415", "422"]
            }
        }
    }
)
# Logging in, out and refreshing are the hostile-input and lockout tests' to cover
# (random passwords here would lock the accounts this run uses).
SKIPPED = "^/api/v1/auth/"


@pytest.fixture()
def people(client, world):
    world.user("disp", "dispatcher")
    mine = world.customer(
        "政企甲", kind="enterprise", tier="group", access_type="lan", route_length_m=None, occupancy_pct=20
    )
    theirs = world.customer(
        "政企乙", kind="enterprise", tier="local_b", access_type="lan", route_length_m=None, occupancy_pct=20
    )
    world.user("cust", "customer", customer_id=mine["customer_id"])
    world.technician("wang", ["adsl", "lan", "enterprise_circuit"])
    h = world.headers("disp")
    for ids in (mine, theirs):
        resp = client.post(
            "/api/v1/workorders",
            headers=h,
            json={
                "kind": "repair",
                "product": "lan",
                "priority": "P2",
                **{k: ids[k] for k in ("customer_id", "site_id")},
            },
        )
        assert resp.status_code == 201
    return {"dispatcher": h, "customer": world.headers("cust")}


def _run(operation, mode: GenerationMode, headers: dict) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(headers=headers)

    check()


@pytest.mark.parametrize("role", ["dispatcher", "customer"])
def test_staff_and_customer_api_matches_its_spec(app, people, role):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG).include(
        path_regex="^/api/v1/"
    )
    schema = schema.exclude(path_regex=SKIPPED)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, people[role])
            except Exception as exc:  # noqa: BLE001 - report every operation, then fail
                failures.append(
                    f"{operation.label} [{mode.value}]: "
                    + "".join(traceback.format_exception_only(exc))[:2000]
                )
    assert not failures, "\n\n".join(failures)
