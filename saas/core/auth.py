"""Who is calling: the principal behind a request, and role checks.

Machines send API tokens (`Authorization: Bearer <token>`). People sign in through the
identity hub, which lives in the control plane: the core does not know its sessions, so the
hub registers a person loader on the app (`register_person_loader`) and the core asks it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request
from flask_smorest import abort

from saas.core.accounts.models import Role
from saas.core.accounts.tokens import token_for_secret
from saas.core.tenancy.context import current_tenant, db_autocommit

F = TypeVar("F", bound=Callable[..., Any])
_UNSET = object()


@dataclass(frozen=True)
class Principal:
    actor: str  # "token:<id>" or "account:<id>", as audit events name it
    name: str
    roles: frozenset[Role]
    tenant_id: int | None
    acr: str | None = None  # the assurance of a person's sign-in (None for tokens)
    issuer: str | None = None  # the upstream IdP that vouched for a person's sign-in
    # (issuer, subject) when that IdP is a national one: the person as the state knows them,
    # the same on every portal and session (voter eligibility and voter keys use it).
    national_identity: tuple[str, str] | None = None
    # The account of the person behind the call: the signed-in person's, or the one an API
    # token was issued to (None: a machine's token, which names no one).
    account_id: int | None = None

    @property
    def person(self) -> str | None:
        """Who the caller is as a person (`account:<id>`), whatever credential they used; None
        when the credential names no one. Two credentials of one account are one person."""
        return f"account:{self.account_id}" if self.account_id is not None else None

    @property
    def role(self) -> Role:
        """One role, for callers that show a single one (tokens hold exactly one)."""
        return sorted(self.roles, key=list(Role).index)[0]


def _token_principal(header: str) -> Principal:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        abort(401, message="Use 'Authorization: Bearer <token>'.")
    token = token_for_secret(db_autocommit(), secret.strip())  # needs no transaction
    if token is None:
        abort(401, message="The token is unknown or revoked.")
    return Principal(
        f"token:{token.id}", token.name, frozenset({token.role}), token.tenant_id, account_id=token.account_id
    )


PERSON_LOADER = "chamyeo.person_principal"


def register_person_loader(app: Flask, loader: Callable[[], Principal | None]) -> None:
    """Say how this app finds the signed-in person behind a request (the identity hub plugs
    its sessions in here at init). Kept on the app, so two apps in one process each have their
    own; an app without one knows only API tokens."""
    app.extensions[PERSON_LOADER] = loader


def _person_principal() -> Principal | None:
    loader = current_app.extensions.get(PERSON_LOADER)
    return loader() if loader is not None else None


def current_principal() -> Principal | None:
    """The caller: an API token (401 for a malformed or unknown one), else a signed-in person."""
    cached = g.get("principal", _UNSET)
    if cached is not _UNSET:
        return cached
    header = request.headers.get("Authorization", "")
    principal = _token_principal(header) if header else _person_principal()
    g.principal = principal
    return principal


@dataclass(frozen=True)
class Access:
    """Who may call a view: one of `roles`, and `check` (platform-wide, or this tenant's)."""

    check: Callable[[Principal], bool]
    roles: tuple[Role, ...]

    def enforce(self) -> None:
        """401 without a credential, 403 without the role; the principal is cached on `g`."""
        principal = current_principal()
        if principal is None:
            abort(401)
        if not principal.roles & set(self.roles) or not self.check(principal):
            abort(403, message=f"This needs one of the roles: {', '.join(r.value for r in self.roles)}.")


ACCESS_ATTRIBUTE = "_chamyeo_access"


def _require(check: Callable[[Principal], bool], roles: tuple[Role, ...]) -> Callable[[F], F]:
    access = Access(check, roles)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            access.enforce()
            return view(*args, **kwargs)

        # The decorators stacked above this one (flask-smorest's arguments and response)
        # copy the attribute up with functools.wraps, so `access_of` finds it on the view
        # however the decorators are ordered.
        setattr(wrapper, ACCESS_ATTRIBUTE, access)
        return cast(F, wrapper)  # functools.wraps keeps the view's signature

    return decorator


def access_of(view: Callable[..., Any] | None, method: str) -> Access | None:
    """The access rule of the view (a function, or a MethodView's handler of `method`)."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method.upper() == "HEAD":
            handler = getattr(view_class, "get", None)
        view = handler
    return getattr(view, ACCESS_ATTRIBUTE, None)


def check_access_before_the_body() -> None:
    """A `before_request` hook: the route's role check, before any body or query is parsed
    or validated (flask-smorest's `arguments` runs outside the role decorator when it is
    stacked above it), so a caller without the role learns nothing from validation errors:
    401 without a credential, 403 with the wrong role, then 400/422 for the body."""
    if request.endpoint is None or request.method == "OPTIONS":
        return  # no route, or Flask's own answer naming the methods: no view runs
    access = access_of(current_app.view_functions.get(request.endpoint), request.method)
    if access is not None:
        access.enforce()


def require_platform_role(*roles: Role) -> Callable[[F], F]:
    """For control-plane routes: a platform-wide role (ministry admin, auditor)."""
    return _require(lambda p: p.tenant_id is None, roles)


def require_tenant_role(*roles: Role) -> Callable[[F], F]:
    """For tenant routes: a role held in the request's own tenant."""
    return _require(lambda p: p.tenant_id == current_tenant().id, roles)


def holds_tenant_role(*roles: Role) -> bool:
    """Whether the caller holds one of `roles` in the request's tenant (for views that show
    staff more than the public)."""
    principal = current_principal()
    return (
        principal is not None
        and principal.tenant_id == current_tenant().id
        and bool(principal.roles & set(roles))
    )


def actor() -> str:
    principal = current_principal()
    return principal.actor if principal is not None else "anonymous"


def person() -> str | None:
    """The person behind the call (`Principal.person`), None if it names no one."""
    principal = current_principal()
    return principal.person if principal is not None else None
