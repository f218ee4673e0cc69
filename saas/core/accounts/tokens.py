"""API tokens: created with a secret shown once, stored as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, NamedTuple, cast

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.accounts.models import ApiToken, Role
from saas.core.audit import services as audit
from saas.core.tenancy.binding import DriverStatement

TOKEN_PREFIX = "chy_"  # noqa: S105 - the public prefix that marks a token, not a secret


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    name: str,
    role: Role,
    tenant_id: int | None = None,
    account_id: int | None = None,
    actor: str,
) -> tuple[ApiToken, str]:
    """Create a token and commit; return it with its secret (the only time it is known).
    `account_id`: the person it is issued to (None: a machine's token, which names no one)."""
    if role.is_platform_wide and tenant_id is not None:
        raise ValueError(f"{role.value} is a platform-wide role: it takes no tenant")
    if not role.is_platform_wide and tenant_id is None:
        raise ValueError(f"{role.value} is a role inside one tenant: name the tenant")
    public = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        name=name,
        role=role,
        tenant_id=tenant_id,
        account_id=account_id,
        prefix=f"{TOKEN_PREFIX}{public}",
        secret_hash=_hash(secret),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        target=f"token:{token.id}",
        data={"name": name, "role": role.value, "tenant_id": tenant_id, "account_id": account_id},
    )
    session.commit()
    return token, secret


class LiveToken(NamedTuple):
    """What a principal is made of."""

    id: int
    name: str
    role: Role
    tenant_id: int | None
    account_id: int | None  # the person it was issued to


# Every API call looks its token up: the statement is rendered once and run on the driver
# (see DriverStatement), reading only what a principal is made of.
_LIVE_TOKEN = DriverStatement(
    select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.tenant_id, ApiToken.account_id).where(
        ApiToken.secret_hash == bindparam("secret_hash"), ApiToken.revoked_at.is_(None)
    )
)


def token_for_secret(connection: Connection, secret: str) -> LiveToken | None:
    """The unrevoked token with this secret; None if unknown."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = _LIVE_TOKEN.first(connection, {"secret_hash": _hash(secret)})
    if row is None:
        return None
    token_id, name, role, tenant_id, account_id = row
    return LiveToken(token_id, name, Role(role), tenant_id, account_id)


def revoke_token(session: Session, token_id: int, *, actor: str) -> bool:
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    changed = cast("CursorResult[Any]", result).rowcount  # an UPDATE's result is a cursor's
    if changed:
        audit.record(session, actor=actor, action="token.revoke", target=f"token:{token_id}")
    session.commit()
    return bool(changed)
