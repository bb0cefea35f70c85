"""Property-based tests of the whole API from its own ``/openapi.json`` (schemathesis): whatever a client sends,
valid or not, the server never answers 5xx. A real server with a token and no models (so that generated
requests cannot start long jobs)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

TOKEN = "schema-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def live(start_server):
    return start_server(token=TOKEN, extra=("--no-hf-cache",), plugins=False)


def test_no_request_gets_a_server_error(live):
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json", headers=AUTH)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 11
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(mode))
            @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def call(case):
                response = case.call(base_url=live.url, headers=AUTH, timeout=30)
                case.validate_response(response, checks=[not_a_server_error])

            call()
