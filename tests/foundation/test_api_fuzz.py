"""Fuzz every operation of the OpenAPI document with valid and invalid inputs: never a 5xx.

Schemathesis generates the cases; Hypothesis drives them (schemathesis' pytest plugin does
not support pytest 9 yet, so the loop is ours)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from saas.tenancy.slugs import is_valid_slug

EXAMPLES_PER_OPERATION_AND_MODE = 10


@pytest.fixture
def no_default_plan_left(engine):
    """Fuzzed requests may mark a billing plan as the default; later tests provision tenants
    without a Stripe gateway, so the default is cleared afterwards."""
    yield
    from sqlalchemy import update

    from saas.billing.models import Plan

    with engine.begin() as connection:
        connection.execute(update(Plan).values(is_default=False))


def test_no_input_makes_the_api_fail_with_5xx(app, alpha, beta, platform_tokens, no_default_plan_left):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    tenant_auth = {"Authorization": f"Bearer {alpha.tokens['tenant_admin']}"}
    platform_auth = {"Authorization": f"Bearer {platform_tokens['ministry_admin']}"}
    server_errors = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def exercise(case):
                slug = (case.path_parameters or {}).get("slug")
                headers = platform_auth
                if slug is not None:
                    headers = tenant_auth
                    # Most cases hit a real tenant, so tenant routes get past resolution.
                    if isinstance(slug, str) and is_valid_slug(slug) and len(slug) % 4:
                        case.path_parameters["slug"] = "alpha"
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    server_errors.append(
                        (case.method, case.formatted_path, response.status_code, response.text[:200])
                    )

            exercise()
    assert server_errors == []
