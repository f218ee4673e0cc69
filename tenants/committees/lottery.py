"""The stratified lottery that fills a committee's seats from its applicants.

Pure Python, no database: anyone holding the published record of a draw (the seed, the
quotas and the applicant snapshot, as `GET …/committees/<id>/lottery` answers it) can re-run
it with `python -m tenants.committees.lottery record.json` and must get the same seats.

Algorithm `chamyeo-stratified-hmac-sha256-v1`:

1. **Order.** Each applicant gets the key HMAC-SHA256(key = seed as UTF-8, message = the
   applicant id in decimal); applicants are ordered by the key's hex digest, ascending (then by
   id, which never matters in practice). The applicant list is fixed by its snapshot hash:
   SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the snapshot list ordered
   by id. A seed chosen in public (e.g. announced numbers) after applications close keeps the
   municipality from choosing a seed that favours someone.
2. **Reserved seats first**, group by group in the committee's order: each group's seats go to
   the first applicants in lottery order who applied for that group. Reserved seats left
   empty stay empty (the municipality may appoint to them later); they are reported.
3. **Then the general seats** (seats minus reserved seats), one at a time. Quotas are
   minimums in three dimensions: sex (`min_per_sex` for each of female and male), age band
   (`min_seats` of each band) and dong (`min_per_dong` for each dong listed). A quota is capped
   at the applicants who could meet it (drawn or not), since no draw can do better. The *need*
   of a dimension is the sum of its unmet (capped) minimums. For each seat, take the first
   applicant in lottery order, not yet drawn, after whose draw every dimension's need still
   fits in the seats left. If nobody qualifies (the quotas cannot all be met together), take
   the first applicant who lowers the total need the most.
4. **Shortfalls**: every quota (and the seat total) whose drawn count is below its uncapped
   minimum is reported with the number required, filled and short.

Applicants drawn in reserved seats count towards the sex, age and dong quotas too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

ALGORITHM = "chamyeo-stratified-hmac-sha256-v1"
SEXES = ("female", "male")


@dataclass(frozen=True)
class Entry:
    """One applicant as the draw sees it: no name, the age only as its quota band."""

    id: int
    sex: str | None
    age_band: str | None
    dong: str | None
    reserved: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sex": self.sex,
            "age_band": self.age_band,
            "dong": self.dong,
            "reserved": self.reserved,
        }


@dataclass(frozen=True)
class Quotas:
    seats: int
    min_per_sex: int = 0
    age_bands: tuple[tuple[str, int], ...] = ()  # (band key, min seats), committee order
    min_per_dong: int = 0
    dongs: tuple[str, ...] = ()  # the dongs `min_per_dong` applies to
    reserved: tuple[tuple[str, int], ...] = ()  # (group key, seats), committee order

    def as_json(self) -> dict[str, Any]:
        return {
            "seats": self.seats,
            "min_per_sex": self.min_per_sex,
            "age_bands": [{"key": k, "min_seats": n} for k, n in self.age_bands],
            "min_per_dong": self.min_per_dong,
            "dongs": list(self.dongs),
            "reserved": [{"key": k, "seats": n} for k, n in self.reserved],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quotas:
        return cls(
            seats=int(data["seats"]),
            min_per_sex=int(data.get("min_per_sex", 0)),
            age_bands=tuple((str(b["key"]), int(b["min_seats"])) for b in data.get("age_bands", ())),
            min_per_dong=int(data.get("min_per_dong", 0)),
            dongs=tuple(str(d) for d in data.get("dongs", ())),
            reserved=tuple((str(r["key"]), int(r["seats"])) for r in data.get("reserved", ())),
        )


@dataclass(frozen=True)
class Shortfall:
    quota: str  # seats | reserved | sex | age_band | dong
    category: str | None
    required: int
    filled: int

    @property
    def short(self) -> int:
        return self.required - self.filled

    def as_json(self) -> dict[str, Any]:
        return {
            "quota": self.quota,
            "category": self.category,
            "required": self.required,
            "filled": self.filled,
            "short": self.short,
        }


@dataclass
class Draw:
    seats: list[tuple[int, str]] = field(default_factory=list)  # (applicant id, seat) in draw order
    shortfalls: list[Shortfall] = field(default_factory=list)

    def seats_json(self) -> list[dict[str, Any]]:
        return [{"applicant_id": i, "seat": s} for i, s in self.seats]


def band_key(min_age: int, max_age: int | None) -> str:
    return f"{min_age}+" if max_age is None else f"{min_age}-{max_age}"


def lottery_key(seed: str, applicant_id: int) -> str:
    return hmac.new(seed.encode(), str(applicant_id).encode(), hashlib.sha256).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def snapshot_hash(entries: Iterable[Entry]) -> str:
    snapshot = [e.as_json() for e in sorted(entries, key=lambda e: e.id)]
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


def lottery_order(seed: str, entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (lottery_key(seed, e.id), e.id))


_Dimension = tuple[str, Callable[[Entry], str | None], dict[str, int]]


def _dimensions(quotas: Quotas) -> list[_Dimension]:
    dims: list[_Dimension] = []
    if quotas.min_per_sex:
        dims.append(("sex", lambda e: e.sex, dict.fromkeys(SEXES, quotas.min_per_sex)))
    bands = {k: n for k, n in quotas.age_bands if n}
    if bands:
        dims.append(("age_band", lambda e: e.age_band, bands))
    if quotas.min_per_dong and quotas.dongs:
        dims.append(("dong", lambda e: e.dong, dict.fromkeys(quotas.dongs, quotas.min_per_dong)))
    return dims


def draw(seed: str, entries: Sequence[Entry], quotas: Quotas) -> Draw:
    """Fill `quotas.seats` from `entries` (see the module docstring). Deterministic in its
    arguments; the order of `entries` does not matter."""
    order = lottery_order(seed, entries)
    result = Draw()
    chosen: set[int] = set()

    def take(entry: Entry, seat: str) -> None:
        chosen.add(entry.id)
        result.seats.append((entry.id, seat))

    for group, seats in quotas.reserved:
        members = [e for e in order if e.reserved == group and e.id not in chosen][:seats]
        for entry in members:
            take(entry, f"reserved:{group}")
        if len(members) < seats:
            result.shortfalls.append(Shortfall("reserved", group, seats, len(members)))

    general = max(0, quotas.seats - sum(n for _, n in quotas.reserved))
    dims = _dimensions(quotas)
    # count + still-available is invariant while drawing, so the capped minimums are fixed.
    capped = [
        {c: min(n, sum(1 for e in order if of(e) == c)) for c, n in minimums.items()}
        for _, of, minimums in dims
    ]
    counts = [{c: sum(1 for e in order if e.id in chosen and of(e) == c) for c in m} for _, of, m in dims]

    def need_after(entry: Entry | None) -> list[int]:
        needs = []
        for (_, of, _m), cap, count in zip(dims, capped, counts, strict=True):
            category = of(entry) if entry is not None else None
            needs.append(sum(max(0, n - count[c] - (c == category)) for c, n in cap.items()))
        return needs

    for seat in range(general):
        pool = [e for e in order if e.id not in chosen]
        if not pool:
            break
        left_after = general - seat - 1
        pick = next((e for e in pool if max(need_after(e), default=0) <= left_after), None)
        if pick is None:
            now = sum(need_after(None))
            pick = max(pool, key=lambda e: now - sum(need_after(e)))  # first of the best: max is stable
        take(pick, "lottery")
        for (_, of, _m), count in zip(dims, counts, strict=True):
            category = of(pick)
            if category in count:
                count[category] += 1

    for (name, _of, minimums), count in zip(dims, counts, strict=True):
        for category, required in minimums.items():
            if count[category] < required:
                result.shortfalls.append(Shortfall(name, category, required, count[category]))
    if len(result.seats) < quotas.seats:
        result.shortfalls.insert(0, Shortfall("seats", None, quotas.seats, len(result.seats)))
    return result


def record(seed: str, entries: Sequence[Entry], quotas: Quotas) -> dict[str, Any]:
    """The publishable record of a draw: everything needed to re-run it, and its outcome."""
    outcome = draw(seed, entries, quotas)
    return {
        "algorithm": ALGORITHM,
        "seed": seed,
        "quotas": quotas.as_json(),
        "applicants": [e.as_json() for e in sorted(entries, key=lambda e: e.id)],
        "snapshot_hash": snapshot_hash(entries),
        "seats": outcome.seats_json(),
        "shortfalls": [s.as_json() for s in outcome.shortfalls],
    }


def entries_from_json(items: Iterable[dict[str, Any]]) -> list[Entry]:
    return [
        Entry(int(a["id"]), a.get("sex"), a.get("age_band"), a.get("dong"), a.get("reserved")) for a in items
    ]


def rerun(published: dict[str, Any]) -> dict[str, Any]:
    """Re-run a published record; says whether the snapshot hash and the seats match."""
    entries = entries_from_json(published["applicants"])
    again = record(published["seed"], entries, Quotas.from_json(published["quotas"]))
    return {
        "snapshot_hash": again["snapshot_hash"],
        "snapshot_matches": again["snapshot_hash"] == published.get("snapshot_hash"),
        "seats": again["seats"],
        "seats_match": again["seats"] == published.get("seats"),
        "shortfalls": again["shortfalls"],
    }


if __name__ == "__main__":  # python -m tenants.committees.lottery record.json
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(rerun(json.load(handle)), indent=2, ensure_ascii=False))
