"""Tenant slugs and the schema names made from them: the one place they are validated."""

from __future__ import annotations

import re

SLUG_PATTERN = r"[a-z][a-z0-9_]{1,38}"
_SLUG_RE = re.compile(rf"^{SLUG_PATTERN}\Z")
SCHEMA_PREFIX = "t_"
# Reserved: they would collide with platform host names, our own schemas or the words of the
# control plane's URLs (/api/v1/tenants/import).
RESERVED_SLUGS = frozenset(
    {"api", "www", "admin", "control", "static", "auth", "billing", "public", "import"}
)


class InvalidSlug(ValueError):
    pass


def is_valid_slug(slug: object) -> bool:
    return isinstance(slug, str) and bool(_SLUG_RE.match(slug)) and slug not in RESERVED_SLUGS


def validate_slug(slug: object) -> str:
    """Return `slug` if it may name a tenant; raise `InvalidSlug` saying why otherwise."""
    if not isinstance(slug, str) or not _SLUG_RE.match(slug):
        raise InvalidSlug(
            "a tenant slug is 2-39 characters: a lowercase letter, then lowercase letters, "
            "digits or underscores"
        )
    if slug in RESERVED_SLUGS:
        raise InvalidSlug(f"{slug!r} is reserved")
    return slug


def schema_for(slug: str) -> str:
    """The PostgreSQL schema that holds the tenant's data (`t_<slug>`)."""
    return SCHEMA_PREFIX + validate_slug(slug)
