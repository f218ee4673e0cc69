"""Receipt codes: what a voter keeps to check, later and publicly, that their ballot was
recorded and counted, without the code revealing (to them or anyone they show it to) how
they voted.

A code is 100 random bits written as 20 characters of Crockford's base32 in groups of four
(``7KQ2-M9XD-…``), so guessing one is hopeless (≈10⁻²³ per guess against ten million
ballots) and the check is rate-limited besides. Only its SHA-256 is stored, on the ballot;
a check looks the digest up through a unique index, so no comparison of the secret itself
runs in Python and what a lookup's timing could reveal is a prefix of a digest, which helps
find no code. A check answers when and on which channel the ballot was cast and whether the
cycle has been counted since, never a choice.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core.limits import count_use
from saas.core.refusals import Invalid
from tenants.cycles.models import Cycle
from tenants.results.models import Result
from tenants.voting.models import Ballot

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 20  # characters: 100 bits
# Read as the digit they look like (Crockford's decoding).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# A person checks a code or two; a script guessing codes meets this long before a hit.
CHECKS_PER_WINDOW, WINDOW_SECONDS = 30, 600


def new_code() -> str:
    """A fresh receipt code, grouped for reading: XXXX-XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normalise(code: str) -> str:
    """The code as stored (its digest's input): upper case, without spaces or dashes, with the
    look-alike letters O, I, L read as 0, 1, 1. Raises Invalid (field `code`) when what is
    left is not 20 characters of the alphabet."""
    kept = "".join(ch for ch in code.upper() if not ch.isspace() and ch not in "-–—")
    kept = kept.translate(_LOOKALIKES)
    if len(kept) != LENGTH or any(ch not in ALPHABET for ch in kept):
        raise Invalid(
            f"A receipt code has {LENGTH} letters and digits, in groups of four "
            "(like 7KQ2-M9XD-4HBT-0PWE-R3NA).",
            field="code",
        )
    return kept


def digest(code: str) -> str:
    """The SHA-256 (hex) stored for `code` (normalised first)."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()


@dataclass(frozen=True)
class ReceiptCheck:
    """What checking a code says. Not found: `found` False and nothing else. Found: when and
    on which channel the ballot was cast, its cycle, and when the cycle was counted (None:
    not yet). Never a choice."""

    found: bool
    cast_at: datetime | None = None
    channel: str | None = None
    cycle_id: int | None = None
    cycle_name_ko: str | None = None
    cycle_name_en: str | None = None
    counted_at: datetime | None = None


def check_receipt(session: Session, code: str, *, asked_by: str, counter: redis.Redis) -> ReceiptCheck:
    """Whether `code` is the receipt of a ballot in the session's tenant, for anyone who asks
    (public). `asked_by` is where the check comes from (the client address): checks are
    counted per address across every tenant, CHECKS_PER_WINDOW per WINDOW_SECONDS, in Redis
    (`counter`); past that TooMany (429), and Unavailable (503) if Redis cannot count.
    Raises Invalid (field `code`) for what is no receipt code (not counted against the
    limit: it cannot be a guess)."""
    stored = digest(code)
    count_use(
        counter,
        f"receipt-check:{asked_by}",
        limit=CHECKS_PER_WINDOW,
        window=WINDOW_SECONDS,
        what="Checking receipt codes",
    )
    row = session.execute(
        select(Ballot.cast_at, Ballot.channel, Cycle.id, Cycle.name_ko, Cycle.name_en)
        .join(Cycle, Cycle.id == Ballot.cycle_id)
        .where(Ballot.receipt == stored)
    ).first()
    if row is None:
        return ReceiptCheck(found=False)
    counted_at = session.scalar(select(func.max(Result.counted_at)).where(Result.cycle_id == row.id))
    return ReceiptCheck(
        found=True,
        cast_at=row.cast_at,
        channel=row.channel,
        cycle_id=row.id,
        cycle_name_ko=row.name_ko,
        cycle_name_en=row.name_en,
        counted_at=counted_at,
    )
