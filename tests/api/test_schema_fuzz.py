"""Schemathesis against the OpenAPI schema: no generated input may cause a 5xx.

Operations are driven by hand (rather than by schemathesis' pytest plugin, which does not
support the pytest in use), with a small, derandomised example budget per operation."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.sync_app import build_sync_app

MAX_EXAMPLES = 5


def test_no_server_errors_on_generated_input(tmp_path: Path) -> None:
    built = build_sync_app(tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", built.app)
    headers = {"Authorization": f"Bearer {built.tokens['admin']}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200}"
                    f" -> {response.status_code}: {response.text[:300]}"
                )

        exercise()
    assert operations >= 40
    assert not failures, "\n".join(failures[:20])
