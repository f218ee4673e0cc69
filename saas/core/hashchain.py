"""Hash chains of append-only rows (the audit trail, the subsidy ledger's programs).

Each row stores the previous row's hash (`prev_hash`, the genesis hash for the first) and its
own (`hash`): SHA-256 of the canonical JSON of `[prev_hash, *fields]`. Editing, removing or
reordering a row breaks the link after it, which `verify` names.

The encoding is part of the stored data: hashes in a database were computed with it, so it
never changes (tests/foundation/test_hashchain.py holds hashes computed before this module).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

GENESIS_HASH = "0" * 64


class Link(Protocol):
    id: int
    prev_hash: str
    hash: str


L = TypeVar("L", bound=Link)


def as_stored(value: Any) -> Any:
    """What JSONB gives back for `value` (so a hash recomputes from the stored row)."""
    return json.loads(json.dumps(value, default=str))


def moment(value: datetime) -> str:
    """A timestamp as hashed: ISO 8601 in UTC, whatever zone it was read in."""
    return value.astimezone(UTC).isoformat()


def link_hash(prev_hash: str, fields: list[Any]) -> str:
    """The hash of a row whose predecessor's hash is `prev_hash` and whose content is `fields`
    (JSON values; timestamps through `moment`)."""
    canonical = json.dumps([prev_hash, *fields], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    """`links` rows read, up to and including the first broken one (named with its problem)."""

    links: int
    first_broken_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify(
    rows: Iterable[L],
    hash_of: Callable[[L], str],
    also: Callable[[L], str | None] = lambda row: None,
) -> ChainCheck:
    """Walk `rows` in chain order: each must link to the one before, match its hash as
    `hash_of` recomputes it (with `link_hash`), and pass `also` (a further check of the row,
    called in order; it names a problem or returns None); the first row that fails is named."""
    expected_prev = GENESIS_HASH
    count = 0
    for row in rows:
        count += 1
        if row.prev_hash != expected_prev:
            return ChainCheck(count, row.id, "previous-hash link does not match")
        if hash_of(row) != row.hash:
            return ChainCheck(count, row.id, "content does not match its hash")
        problem = also(row)
        if problem is not None:
            return ChainCheck(count, row.id, problem)
        expected_prev = row.hash
    return ChainCheck(count, None, None)
