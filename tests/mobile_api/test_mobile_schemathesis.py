"""Property-based run of the /mobile/v1 part of the OpenAPI spec with schemathesis.

Bounded: for every operation, 25 derandomized examples of valid data and 25 of invalid
data, sent to the WSGI app with a real technician token and orders on the route. No
answer may be a 5xx, and every answer (status code, content type, headers, body) must
match what the spec says.

schemathesis' own pytest plugin (`from_fixture`) does not run on pytest 9, so the
operations are driven with their hypothesis strategies directly.
"""

from __future__ import annotations

import traceback

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.factories import Field

EXAMPLES_PER_MODE = 25
# Valid by the schema is not always possible in the field: a time before 2000, a status
# the order's state does not allow, an arrival without a GPS fix, a random file that is not
# an image. The API refuses those with 409/413/415/422 problem details, as documented.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "413", "415", "422"]
            }
        }
    }
)
# Logging out would revoke the token the rest of the run uses.
SKIPPED_PATHS = ("/mobile/v1/auth/logout",)


@pytest.fixture()
def field(world, client) -> Field:
    field = Field(world, client)
    for hour in (9, 10, 11):
        field.order("adsl", kind="install", hour=hour)
    field.arrive(field.order("iptv_adsl", kind="install", hour=14))
    return field


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


def test_mobile_api_matches_its_spec(app, field):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG).include(
        path_regex="^/mobile/v1/"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.path not in SKIPPED_PATHS]
    assert len(operations) >= 15, [op.label for op in operations]
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, field.tech)
            except Exception as exc:  # noqa: BLE001 - report every operation, then fail
                failures.append(
                    f"{operation.label} [{mode.value}]: "
                    + "".join(traceback.format_exception_only(exc))[:3000]
                )
    assert not failures, "\n\n".join(failures)
