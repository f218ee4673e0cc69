"""The operations of the OpenAPI document as requests a test can send: every route the
document lists (control plane and tenants), with its path filled in for the fixture tenant
`alpha` and the role rule of its view (`saas.core.auth.access_of`), so a route added later is
walked too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from saas.core.auth import Access, access_of

WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # as the document writes it
    url: str  # filled in for the tenant alpha
    access: Access | None  # None: a public route
    operation: dict[str, Any]

    @property
    def takes_body(self) -> bool:
        return "requestBody" in self.operation

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


def _fill(path: str, parameters: list[dict[str, Any]], slug: str) -> str:
    kinds = {p["name"]: p.get("schema", {}).get("type") for p in parameters if p.get("in") == "path"}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "slug":
            return slug
        return "1" if kinds.get(name) == "integer" else "notice"

    return re.sub(r"\{([^}]+)\}", value, path)


def operations(app, client, slug: str = "alpha") -> list[Operation]:
    spec = client.get("/api/openapi.json").get_json()
    adapter = app.url_map.bind("localhost")
    found = []
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            url = _fill(path, shared + operation.get("parameters", []), slug)
            endpoint, _ = adapter.match(url, method=method.upper())
            access = access_of(app.view_functions[endpoint], method)
            found.append(Operation(method.upper(), path, url, access, operation))
    return found


def credential_for(op: Operation, alpha: Any, platform_tokens: dict[str, str]) -> dict[str, str]:
    """A fixture credential the operation's role rule lets through (none for a public one), so
    what gets judged is the input, not the caller."""
    if op.access is None:
        return {}
    for role in op.access.roles:
        if op.url.startswith("/t/") and role.value in alpha.tokens:
            return alpha.auth(role.value)
        if not op.url.startswith("/t/") and role.value in platform_tokens:
            return {"Authorization": f"Bearer {platform_tokens[role.value]}"}
    raise AssertionError(f"no fixture credential for {op}")
