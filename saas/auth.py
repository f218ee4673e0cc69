"""Who is calling: the principal behind a request's bearer token, and role checks.

Interim: API tokens stand for people until sign-in through the identity hub exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import g, request
from flask_smorest import abort

from saas.accounts.models import Role
from saas.accounts.tokens import token_for_secret
from saas.tenancy.context import current_tenant, db_session

F = TypeVar("F", bound=Callable[..., Any])
_UNSET = object()


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    role: Role
    tenant_id: int | None

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}"


def current_principal() -> Principal | None:
    """The caller, from `Authorization: Bearer <token>`; 401 for a malformed or unknown token."""
    cached = g.get("principal", _UNSET)
    if cached is not _UNSET:
        return cached
    header = request.headers.get("Authorization", "")
    principal = None
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            abort(401, message="Use 'Authorization: Bearer <token>'.")
        token = token_for_secret(db_session(), secret.strip())
        if token is None:
            abort(401, message="The token is unknown or revoked.")
        principal = Principal(token.id, token.name, token.role, token.tenant_id)
    g.principal = principal
    return principal


def _require(check: Callable[[Principal], bool], roles: tuple[Role, ...]) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                abort(401)
            if principal.role not in roles or not check(principal):
                abort(403, message=f"This needs one of the roles: {', '.join(r.value for r in roles)}.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def require_platform_role(*roles: Role) -> Callable[[F], F]:
    """For control-plane routes: a platform-wide role (ministry admin, auditor)."""
    return _require(lambda p: p.tenant_id is None, roles)


def require_tenant_role(*roles: Role) -> Callable[[F], F]:
    """For tenant routes: a role held in the request's own tenant."""
    return _require(lambda p: p.tenant_id == current_tenant().id, roles)


def actor() -> str:
    principal = current_principal()
    return principal.actor if principal is not None else "anonymous"
