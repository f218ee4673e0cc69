"""The OpenAPI document as served: what flask-smorest and apispec generate, made to tell the
truth where their defaults do not.

- Every operation lists the 4xx it answers, from what the platform knows about the route:
  its role rule (`saas.core.auth.access_of`: 401, 403), its path (404 for an unknown id or
  portal; 503 for a suspended portal), its body (400 malformed or hostile JSON, 413, 422),
  and the refusals of its action (`KNOWN_REFUSALS`: 409 and the like); any URL holding a NUL
  answers 400. The catch-all `default` goes, so a client (or schemathesis) can tell a
  documented 409 from a surprise.
- Schema keywords apispec writes for marshmallow validators that JSON Schema spells
  otherwise: `Length` on a dict is `minProperties`/`maxProperties`; `format: url` is `uri`;
  a `Range` of dates (written as `x-minimum`/`x-maximum`, which no validator reads) becomes
  a `pattern` on the year, the bound JSON Schema can express for a date string.
- A request body whose schema requires no property is documented as optional, as the server
  treats it (an absent body loads as `{}`).
- Documented fields (`ChamyeoApi.document_field`): a field that takes a free-form dict in
  its schema but is validated in full by its service is documented with the schema the
  service applies.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}

# Refusals of actions that the route's shape does not tell: (METHOD, path) -> {status: why}.
# A test checks that every key names an operation of the document.
_STATE = "the action does not fit the current state"
_PHASE = "not in this phase of the cycle, or the cycle is frozen, counted or closed"
KNOWN_REFUSALS: dict[tuple[str, str], dict[int, str]] = {
    ("POST", "/api/v1/tenants"): {409: "the slug, the region's portal or a domain is taken"},
    ("POST", "/api/v1/tenants/{slug}/suspend"): {409: "the tenant is not active"},
    ("POST", "/api/v1/tenants/{slug}/resume"): {409: "the tenant is not suspended"},
    ("POST", "/api/v1/tenants/{slug}/retry"): {409: "the tenant has nothing to retry"},
    ("GET", "/api/v1/tenants/{slug}/export"): {409: "only a built portal exports"},
    ("POST", "/api/v1/tenants/import"): {409: "the tenant, its schema or a domain exists"},
    ("POST", "/api/v1/identity-providers"): {409: "the key or the issuer is registered already"},
    ("POST", "/t/{slug}/api/v1/identity-providers"): {409: "the key or the issuer is registered already"},
    ("POST", "/api/v1/billing/plans"): {409: "a plan with this code exists, or Stripe is not connected"},
    ("POST", "/api/v1/billing/programs"): {409: "the program is refused (year, budget, code)"},
    ("POST", "/api/v1/billing/programs/{program_id}/rates"): {409: "the rate version is refused"},
    ("POST", "/api/v1/billing/programs/{program_id}/tiers"): {409: "the assignment is refused"},
    ("POST", "/billing/stripe/webhook"): {404: "webhooks are not configured here"},
    ("POST", "/api/v1/identity-providers/{key}/test"): {
        422: "the IdP is not usable",
        429: "too many tests of this IdP, or by this caller (Retry-After says when to try again)",
    },
    ("POST", "/t/{slug}/api/v1/identity-providers/{key}/test"): {
        422: "the IdP is not usable",
        429: "too many tests of this IdP, or by this caller (Retry-After says when to try again)",
    },
    ("PUT", "/api/v1/tenants/{slug}/domains"): {409: "a domain belongs to another tenant"},
    ("POST", "/api/v1/tenants/{slug}/invitation"): {
        409: "the tenant was created without a municipal admin, or is not built"
    },
    ("POST", "/t/{slug}/api/v1/invitations/{code}/accept"): {
        401: "sign in at this portal (through the hub) as the invited person first",
        403: "the invitation is for another person",
        409: "the invitation was accepted already",
        410: "the invitation has expired",
    },
    ("POST", "/api/v1/tenants/{slug}/template-upgrade"): {
        409: "the tenant is not active",
        422: "the template version is refused",
    },
    ("POST", "/t/{slug}/api/v1/members"): {409: "the e-mail is a member already"},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/phase"): {409: _PHASE},
    ("PATCH", "/t/{slug}/api/v1/cycles/{cycle_id}/envelopes/{envelope_id}"): {409: _PHASE},
    ("PUT", "/t/{slug}/api/v1/cycles/{cycle_id}/ballot-rules"): {409: _PHASE},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/proposals"): {409: _PHASE},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/proposals/{proposal_id}/supports"): {
        409: "supported already, or the proposal is hidden"
    },
    ("PUT", "/t/{slug}/api/v1/cycles/{cycle_id}/proposals/{proposal_id}/review"): {409: _PHASE},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/projects"): {409: _PHASE},
    ("DELETE", "/t/{slug}/api/v1/cycles/{cycle_id}/projects/{project_id}"): {409: _PHASE},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/votes"): {
        403: "or the sign-in is not of the identity or assurance the cycle asks for online votes",
        409: "voting is not open, or this person has voted already (on any channel)",
    },
    (
        "POST",
        "/t/{slug}/api/v1/cycles/{cycle_id}/committees/{committee_id}/meetings/{meeting_id}/attendance",
    ): {403: "or a member records another member's attendance, or holds no seat"},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/check-ins"): {
        409: "voting is not open, this person has voted already, or the paper ballot was issued"
    },
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/paper-batches"): {
        409: "the batch exists or overlaps another, or the cycle is counted"
    },
    ("PUT", "/t/{slug}/api/v1/cycles/{cycle_id}/paper-batches/{batch_id}/entries/{round_}"): {
        403: "or the credential names no person (a token not issued to an account)",
        409: "the batch is reconciled, the other round was entered by the same person, or counted",
    },
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/paper-batches/{batch_id}/reconcile"): {
        409: "reconciled already, both rounds by one person, or the cycle is counted"
    },
    ("PUT", "/t/{slug}/api/v1/cycles/{cycle_id}/planning-ratings"): {409: _PHASE},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/committees"): {409: "the cycle has that committee"},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/committees/{committee_id}/applications"): {
        409: "applied already, or the draw has taken place"
    },
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/committees/{committee_id}/lottery"): {
        409: "drawn already, or the committee is appointed"
    },
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/committees/{committee_id}/members"): {
        409: "the seats are filled, or drawn committees take only reserved seats"
    },
    ("PUT", "/t/{slug}/api/v1/cycles/{cycle_id}/committees/{committee_id}/scores/{project_id}"): {
        403: "or the credential holds no seat on this committee",
        409: _PHASE,
    },
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/results"): {409: _PHASE},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/results/publish"): {409: "the cycle is not counted"},
    ("POST", "/t/{slug}/api/v1/cycles/{cycle_id}/results/verify"): {409: "there is no result to verify"},
}

_MESSAGES = {
    400: "Malformed or hostile input: JSON that does not parse, nests too deep or holds a lone "
    "surrogate; a NUL character in the URL.",
    401: "No credential, or an unknown or revoked one: send 'Authorization: Bearer <token>'.",
    404: "Not found: an unknown id, or a portal that does not exist (or another portal's credential).",
    413: "The body is too large.",
    422: "The input did not pass validation; 'errors' names the fields.",
    503: "The portal is suspended.",
}


def truthful_document(
    document: dict[str, Any], app: Flask, documented_fields: dict[tuple[str, str], str]
) -> dict[str, Any]:
    """A copy of `document` (apispec's dict) corrected as the module's docstring says;
    `documented_fields` maps (component, property) to the component that documents it."""
    document = copy.deepcopy(document)
    schemas = document.get("components", {}).get("schemas", {})
    for (component, prop), target in documented_fields.items():
        field = schemas.get(component, {}).get("properties", {}).get(prop)
        if field is not None:
            description = field.get("description")
            field.clear()
            field["allOf"] = [{"$ref": f"#/components/schemas/{target}"}]
            if description:
                field["description"] = description
    _fix_keywords(document)
    _document_refusals(document, app, schemas)
    return document


def _fix_keywords(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _fix_keywords(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("format") == "url":
        node["format"] = "uri"
    if node.get("type") == "object":
        for length, count in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
            if length in node:
                node[count] = node.pop(length)
    if "x-minimum" in node or "x-maximum" in node:
        _real_bounds(node)
    for value in node.values():
        _fix_keywords(value)


_YEAR_START = re.compile(r"^(\d{4})-01-01$")
_YEAR_END = re.compile(r"^(\d{4})-12-31$")


def _real_bounds(node: dict[str, Any]) -> None:
    low, high = node.get("x-minimum"), node.get("x-maximum")
    if node.get("format") == "date" and isinstance(low, str) and isinstance(high, str):
        first, last = _YEAR_START.match(low), _YEAR_END.match(high)
        if first and last:
            node.pop("x-minimum")
            node.pop("x-maximum")
            node["pattern"] = f"^{_year_range(int(first.group(1)), int(last.group(1)))}-"
            note = f"From {low} to {high}."
            node["description"] = f"{node['description']} {note}" if node.get("description") else note
            return
    if isinstance(low, int | float) and not isinstance(low, bool):
        node["minimum"] = node.pop("x-minimum")
    if isinstance(high, int | float) and not isinstance(high, bool):
        node["maximum"] = node.pop("x-maximum")


def _year_range(first: int, last: int) -> str:
    """A regular expression matching the four-digit years first..last, whole centuries and
    decades written as digit classes (2000..2100: `(?:20[0-9]{2}|2100)`)."""
    parts: list[str] = []
    year = first
    while year <= last:
        if year % 100 == 0 and year + 99 <= last:
            parts.append(f"{str(year)[:2]}[0-9]{{2}}")
            year += 100
        elif year % 10 == 0 and year + 9 <= last:
            parts.append(f"{str(year)[:3]}[0-9]")
            year += 10
        else:
            parts.append(str(year))
            year += 1
    return "(?:" + "|".join(parts) + ")"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}


def _document_refusals(document: dict[str, Any], app: Flask, schemas: dict[str, Any]) -> None:
    from flask_smorest.spec.plugins import FlaskPlugin

    from saas.core.auth import access_of

    # One path may be served by several rules, each for some of its methods.
    endpoints: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods or ():
            endpoints[(FlaskPlugin.flaskpath2openapi(rule.rule), method.lower())] = rule.endpoint
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            endpoint = endpoints.get((path, method))
            view = app.view_functions.get(endpoint) if endpoint is not None else None
            responses = operation.setdefault("responses", {})
            responses.pop("default", None)
            access = access_of(view, method) if view is not None else None
            refusals: dict[int, str] = {400: _MESSAGES[400]}
            if access is not None:
                roles = ", ".join(role.value for role in access.roles)
                refusals[401] = _MESSAGES[401]
                refusals[403] = f"The credential does not hold one of the roles: {roles}."
                operation.setdefault("security", [{"bearer": []}])
            if "{" in path:
                refusals[404] = _MESSAGES[404]
            body = operation.get("requestBody")
            if body is not None:
                refusals[413] = _MESSAGES[413]
                refusals[422] = _MESSAGES[422]
                if not _requires_a_property(body, schemas):
                    body["required"] = False
            if "422" in responses:
                refusals[422] = _MESSAGES[422]
            for status, why in KNOWN_REFUSALS.get((method.upper(), path), {}).items():
                sentence = why[:1].upper() + why[1:] + "."
                refusals[status] = f"{refusals[status]} {sentence}" if status in refusals else sentence
            if path.startswith("/t/{slug}/"):
                refusals[503] = _MESSAGES[503]
            for status, why in sorted(refusals.items()):
                responses[str(status)] = _error(why)


def _requires_a_property(body: dict[str, Any], schemas: dict[str, Any]) -> bool:
    content = body.get("content", {})
    if "application/json" not in content:
        return True  # a file upload: the file is the body
    schema = content["application/json"].get("schema", {})
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = schemas.get(ref.rsplit("/", 1)[1], {})
    return bool(schema.get("required")) or schema.get("type") not in (None, "object")
