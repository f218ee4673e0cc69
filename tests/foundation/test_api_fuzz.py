"""Fuzz every operation of the OpenAPI document with valid and invalid inputs: never a 5xx;
and send each the hostile shapes no generator from the document makes: a JSON 4xx.

Schemathesis generates the cases; Hypothesis drives them (schemathesis' pytest plugin does
not support pytest 9 yet, so the loop is ours)."""

import json

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from saas.core.tenancy.slugs import is_valid_slug

EXAMPLES_PER_OPERATION_AND_MODE = 10


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


def _hostile_bodies(operation) -> list[tuple[str, str | bytes, tuple[int, ...]]]:
    """(name, raw body, statuses it may get) for one operation: the shapes a fuzzer from the
    document does not make (nesting thousands deep, lone surrogates, NUL, arrays where an
    object is expected), at the top and in each documented property."""
    from saas.core.api.bodies import MAX_JSON_DEPTH

    deep = "[" * 3000 + "]" * 3000
    just_too_deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    shapes = [
        ("deep array", deep, (400,)),
        ("deep object", '{"a":' * 3000 + "0" + "}" * 3000, (400,)),
        ("one level too deep", just_too_deep, (400,)),
        ("array for the object", "[{}]", (422,)),
        ("string for the object", '"x"', (422,)),
        ("null for the object", "null", (422,)),
        ("number for the object", "7", (422,)),
        ("invalid UTF-8", b'{"a": "\xed\xa0\x80"}', (400,)),
    ]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    for name in sorted(schema.get("_properties", {})):
        key = json.dumps(name)
        shapes += [
            (f"{name}: deep", "{" + key + ":" + deep + "}", (400,)),
            (f"{name}: lone surrogate", "{" + key + ': "\\ud800"}', (400,)),
            (f"{name}: NUL", "{" + key + ': "a\\u0000b"}', (422,)),
            (f"{name}: array", "{" + key + ": [[]]}", (422,)),
            (f"{name}: NUL in an array", "{" + key + ': ["\\u0000"]}', (422,)),
            (f"{name}: 5000 digits", "{" + key + ": " + "7" * 5000 + "}", (400,)),
            (f"{name}: NaN", "{" + key + ": NaN}", (400,)),
            (f"{name}: Infinity", "{" + key + ": [-Infinity]}", (400,)),
            (f"{name}: 1e400", "{" + key + ": 1e400}", (400,)),
        ]
    shapes.append(("lone surrogate in a key", '{"\\udfff": 1}', (400,)))
    return shapes


def test_hostile_shapes_in_every_body_and_url_get_a_json_4xx(app, client, alpha, platform_tokens):
    """Every operation of the document (a route added later too) gets each hostile shape
    with a credential its role rule lets through, so the body, not the role, is judged."""
    from tests.foundation.api_routes import credential_for, operations

    document = client.get("/api/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    wrong = []
    found = operations(app, client)
    for op in found:
        headers = credential_for(op, alpha, platform_tokens)
        if op.takes_body:
            operation = dict(op.operation)
            body = operation["requestBody"]["content"].get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "").rsplit("/", 1)[-1]
            props = schemas.get(ref, {}).get("properties", {})
            operation["requestBody"] = {"content": {"application/json": {"schema": {"_properties": props}}}}
            takes_json = "application/json" in op.operation["requestBody"]["content"]
            for name, raw, statuses in _hostile_bodies(operation):
                if not takes_json:
                    statuses = (*statuses, 422)  # a JSON body is not its input (a file upload)
                response = client.open(
                    op.url,
                    method=op.method,
                    data=raw,
                    headers={**headers, "Content-Type": "application/json"},
                )
                answer = response.get_json(silent=True) or {}
                # 403/404/409: the route refused the caller (an online vote from a token, not a
                # national sign-in), the target or the state before reading the body.
                if response.status_code not in (*statuses, 403, 404, 409) or not answer.get("message"):
                    wrong.append(
                        f"{op} [{name}] -> {response.status_code} {response.get_data(as_text=True)[:100]}"
                    )
        # A NUL in the query string, on every operation.
        response = client.open(f"{op.url}?q=%00", method=op.method, headers=headers)
        if response.status_code != 400:
            wrong.append(f"{op} [NUL in the query] -> {response.status_code}")
    assert len(found) >= 60
    assert wrong == []
