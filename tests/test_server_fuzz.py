"""schemathesis against the API's own OpenAPI schema, over real HTTP: no 5xx, no response
that breaks the schema; bad input gets a 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from .server_harness import Running, running_server  # noqa: E402


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAVI_INTEGRATIONS_HOME", str(tmp_path_factory.mktemp("navi-fuzz")))
        patch.setenv("NAVI_INTEGRATIONS_KEYRING", "0")
        patch.delenv("NAVI_INTEGRATIONS_DB_URL", raising=False)
        # Nothing answers here: a connect that passes validation fails fast, offline.
        patch.setenv("NAVI_LINEAR_API_URL", "http://127.0.0.1:9/graphql")
        with running_server() as running:
            yield running


def test_api_fuzz(fuzzed: Running) -> None:
    from hypothesis import given

    with fuzzed.client() as client:
        document = client.get("/openapi.json").json()
    # The event stream never ends and /metrics is text: both are tested in test_server.py.
    schema = schemathesis.openapi.from_dict(document).exclude(path="/api/events")
    schema = schema.exclude(path="/metrics")
    headers = {"Authorization": f"Bearer {fuzzed.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: Any) -> None:
            response = case.call(base_url=fuzzed.url, headers=headers)
            where = (case.method, case.formatted_path, response.text[:300])
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert response.json().get("message"), where  # one clear line, not a bare code
            case.validate_response(response)

        check()
