"""The official list of Korean local governments, read from data files inside the package.

Nothing is read at import. The first call to any public function loads every table (about
0.4 MB compressed, a few tens of milliseconds) and keeps it for the life of the process;
the tables never change at run time, so there is nothing to invalidate.

Codes: a 시군구-level unit is named by its 5-digit code (``11680``) or the 10-digit
행정기관코드 ``SSGGG00000`` (``1168000000``); a 행정동/읍/면 by its 10-digit code. The list is the
2026-07-01 snapshot, after 광주광역시 and 전라남도 were merged into 전남광주통합특별시 (code 12)
and 인천 중구·동구·서구 were reorganised; codes of the earlier snapshot that were re-issued are
recognised and either followed or reported (see :class:`RegionRecoded`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from saas.regions.romanize import dong_name_en

SNAPSHOT = "2026-07-01"
POPULATION_MONTH = "2026-08"
AGE_SEX_MONTH = "2025-06"
# The 재정자립도 table does not state its year (see SOURCES.md); anything shown to people must
# say so until it is confirmed.
FISCAL_INDEPENDENCE_YEAR_CONFIRMED = False
FISCAL_INDEPENDENCE_NOTE = (
    "재정자립도(세입과목 개편 후, %), KOSIS; 기준연도 미확인 / "
    "fiscal independence ratio (%), KOSIS; reference year not confirmed"
)

_BANDS = tuple(f"{a:02d}_{a + 4:02d}" for a in range(0, 100, 5)) + ("100p",)
_EXAMPLE = "a 5-digit 시군구 code such as 11680 or a 10-digit 행정기관코드 such as 1168000000"


class UnknownRegion(LookupError):
    """The code is malformed, or names no 시군구-level unit in the current list."""

    def __init__(self, code: object, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class RegionRecoded(UnknownRegion):
    """The code belonged to the 2026-04-01 list and was re-issued on 2026-07-01.

    ``new_codes`` holds the 5-digit code(s) now in force: one for a re-coding (광주·전남 →
    전남광주통합특별시), two for a split (인천 중구 → 제물포구 and 영종구).
    """

    def __init__(self, code: str, old_name: str, new: list[tuple[str, str]]) -> None:
        self.new_codes = tuple(c for c, _ in new)
        listed = ", ".join(f"{c} ({n})" for c, n in new)
        if len(new) == 1:
            what = f"was re-issued on {SNAPSHOT} as {listed}; use the new code"
        else:
            what = f"was split on {SNAPSHOT} into {listed}; choose one of the new codes"
        super().__init__(code, f"region code {code} ({old_name}) {what}")


@dataclass(frozen=True, slots=True)
class LocalGovernment:
    """A 시군구-level unit: 시, 군, 자치구 (basic local governments), or 일반구 / 행정시 /
    세종 (coding levels that are not separate governments; ``is_basic_local_gov`` is False)."""

    sgg_code: str
    adm_code10: str
    name_ko: str
    full_name_ko: str
    name_en: str | None
    sido_code: str
    sido_name_ko: str
    unit_type: str
    is_basic_local_gov: bool
    population: int | None
    fiscal_independence_pct: float | None
    parent_city_code: str | None
    has_ilban_gu: bool


@dataclass(frozen=True, slots=True)
class Sido:
    """A 시도 (metropolitan or provincial level)."""

    sido_code: str
    adm_code10: str
    name_ko: str
    name_en: str | None
    sido_type_ko: str
    population: int | None
    fiscal_independence_pct: float | None


@dataclass(frozen=True, slots=True)
class Dong:
    """A 행정동/읍/면. ``sgg_code`` is the lowest 시군구-level unit (the 일반구 where one
    exists); ``lg_code`` the local government it belongs to. ``has_boundary`` is False only
    for the five uninhabited 면 north of the civilian control line."""

    adm_code10: str
    name_ko: str
    emd_type: str
    sgg_code: str
    lg_code: str
    has_boundary: bool

    @property
    def name_en(self) -> str:
        """The English name, romanised from the Korean one (the official lists have none)."""
        return dong_name_en(self.name_ko)


@dataclass(frozen=True, slots=True)
class AgeBand:
    """Residents of one 5-year age band; ``max_age`` is None for the open band 100+."""

    min_age: int
    max_age: int | None
    male: int
    female: int

    @property
    def total(self) -> int:
        return self.male + self.female


@dataclass(frozen=True, slots=True)
class AgeSexProfile:
    """Population by sex and age band of one unit, month :data:`AGE_SEX_MONTH`.

    ``source_code`` is the unit's code in the June-2025 statistics when it differs from the
    current code (a re-coding), and ``mapping`` says how the row was carried over
    (``same_code``, ``crosswalk``, ``name_match``, ``sum_of_merged_sido``)."""

    adm_code10: str
    name_ko: str
    month: str
    source_code: str | None
    mapping: str
    bands: tuple[AgeBand, ...]

    @property
    def male(self) -> int:
        return sum(b.male for b in self.bands)

    @property
    def female(self) -> int:
        return sum(b.female for b in self.bands)

    @property
    def total(self) -> int:
        return self.male + self.female


class _Registry:
    def __init__(self) -> None:
        sido_rows = _read("sido.csv.gz")
        sgg_rows = _read("sigungu.csv.gz")
        population = {
            r["adm_code10"]: int(r["population"]) for r in _read("population_2026-08.csv.gz")
        }
        fiscal = {
            r["code_2026_07"]: float(r["fiscal_independence_pct"])
            for r in _read("fiscal_independence.csv.gz")
            if r["code_2026_07"] and r["level"] != "national"
        }
        self.sido = {
            r["sido_code"]: Sido(
                sido_code=r["sido_code"],
                adm_code10=r["adm_code10"],
                name_ko=r["name_ko"],
                name_en=r["name_en"] or None,
                sido_type_ko=r["sido_type_ko"],
                population=population.get(r["adm_code10"]),
                fiscal_independence_pct=fiscal.get(r["adm_code10"]),
            )
            for r in sido_rows
        }
        self.governments: dict[str, LocalGovernment] = {}
        for r in sgg_rows:
            pct = fiscal.get(r["adm_code10"])
            if r["unit_type"] == "특별자치시(단층제)":
                # 세종 is single-tier: its only budget is the 시도-level one.
                pct = fiscal.get(f"{r['sido_code']}00000000")
            self.governments[r["sgg_code"]] = LocalGovernment(
                sgg_code=r["sgg_code"],
                adm_code10=r["adm_code10"],
                name_ko=r["name_ko"],
                full_name_ko=r["full_name_ko"],
                name_en=r["name_en"] or None,
                sido_code=r["sido_code"],
                sido_name_ko=r["sido_name_ko"],
                unit_type=r["unit_type"],
                is_basic_local_gov=r["is_basic_local_gov"] == "1",
                population=population.get(r["adm_code10"]),
                fiscal_independence_pct=pct,
                parent_city_code=r["parent_city_code"] or None,
                has_ilban_gu=r["has_ilban_gu"] == "1",
            )
        self.dongs: dict[str, Dong] = {}
        self.dong_names: dict[str, str] = {}
        self.dongs_of: dict[str, list[Dong]] = {}
        for r in _read("admdong.csv.gz"):
            d = Dong(
                adm_code10=r["adm_code10"],
                name_ko=r["name_ko"],
                emd_type=r["emd_type"],
                sgg_code=r["sgg_code"],
                lg_code=r["lg_code"],
                has_boundary=r["in_admdongkor_boundaries"] == "1",
            )
            self.dongs[d.adm_code10] = d
            self.dong_names[d.adm_code10] = (
                f"{self.governments[d.sgg_code].full_name_ko} {d.name_ko}"
            )
            for key in {d.sgg_code, d.lg_code}:
                self.dongs_of.setdefault(key, []).append(d)
        for lst in self.dongs_of.values():
            lst.sort(key=lambda d: d.adm_code10)
        # old 10-digit code -> [(new 10-digit code, new name)], and old names
        self.recoded: dict[str, list[tuple[str, str]]] = {}
        self.old_names: dict[str, str] = {}
        for r in _read("crosswalk_2026-04-01_to_2026-07-01.csv.gz"):
            self.recoded.setdefault(r["old_code"], []).append((r["new_code"], r["new_name"]))
            self.old_names[r["old_code"]] = r["old_name"]
        self.age_sex_rows = {r["adm_code10"]: r for r in _read("population_age_sex.csv.gz")}

    def name_of(self, adm_code10: str) -> str:
        if adm_code10 in self.dong_names:
            return self.dong_names[adm_code10]
        gov = self.governments.get(adm_code10[:5])
        if gov is not None and adm_code10.endswith("00000"):
            return gov.full_name_ko
        return self.sido[adm_code10[:2]].name_ko


def _read(name: str) -> list[dict[str, str]]:
    raw = resources.files(__package__).joinpath("data", name).read_bytes()
    return list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))


@cache
def _registry() -> _Registry:
    return _Registry()


def _normalise(code: object) -> str:
    if not isinstance(code, str):
        raise UnknownRegion(
            code, f"region code must be a string of digits ({_EXAMPLE}), got {type(code).__name__}"
        )
    text = code.strip()
    if not (text.isascii() and text.isdigit() and len(text) in (5, 10)):
        raise UnknownRegion(code, f"{code!r} is not a region code: expected {_EXAMPLE}")
    return text


def _resolve_government(code: object, follow_recode: bool) -> LocalGovernment:
    text = _normalise(code)
    reg = _registry()
    if len(text) == 10 and not text.endswith("00000"):
        if text in reg.dongs:
            d = reg.dongs[text]
            lg = reg.governments[d.lg_code]
            raise UnknownRegion(
                code,
                f"{text} is the code of the 행정동 {reg.dong_names[text]}, not of a local "
                f"government; it belongs to {lg.sgg_code} ({lg.full_name_ko})",
            )
        if text in reg.recoded:
            raise UnknownRegion(
                code,
                f"{text} ({reg.old_names[text]}) is a 행정동 code re-issued on {SNAPSHOT} as "
                f"{reg.recoded[text][0][0]}, and not the code of a local government",
            )
        raise UnknownRegion(
            code, f"{text} is not a code in the {SNAPSHOT} list: expected {_EXAMPLE}"
        )
    sgg = text[:5]
    if sgg in reg.governments:
        return reg.governments[sgg]
    if sgg.endswith("000") and sgg[:2] in reg.sido:
        s = reg.sido[sgg[:2]]
        raise UnknownRegion(
            code,
            f"{text} is the code of the 시도 {s.name_ko}, not of a 시군구-level government "
            f"(see all_sido())",
        )
    old10 = f"{sgg}00000"
    if old10 in reg.recoded:
        new = [(c[:5], n) for c, n in reg.recoded[old10]]
        if follow_recode and len(new) == 1:
            return reg.governments[new[0][0]]
        raise RegionRecoded(text, reg.old_names[old10], new)
    if sgg[:2] in ("29", "46"):
        raise UnknownRegion(
            code,
            f"{text} has a 광주광역시/전라남도 prefix, which were merged into 전남광주통합특별시 "
            f"(12) on {SNAPSHOT}, and is not a code of the earlier list either",
        )
    raise UnknownRegion(code, f"no local government has the code {text} in the {SNAPSHOT} list")


def lookup(code: str, *, follow_recode: bool = False) -> LocalGovernment:
    """Return the 시군구-level unit named by ``code``.

    ``code`` is a 5-digit 시군구 code (``"11680"``) or its 10-digit 행정기관코드
    (``"1168000000"``); surrounding whitespace is ignored. Any unit of the 269 in the list is
    found, including 일반구, 행정시 and 세종 — check ``is_basic_local_gov`` before treating it
    as a government of its own.

    A code of the 2026-04-01 list that was re-issued (광주 29110, 전남 46110, 인천 28110 …)
    raises :class:`RegionRecoded` naming the new code(s); with ``follow_recode=True`` a
    one-to-one re-coding returns the new unit instead (a split still raises).

    Raises :class:`UnknownRegion` (a ``LookupError``) for a malformed code, a 시도 code, a
    행정동 code, or a code that is in neither list; the message says which.
    """
    return _resolve_government(code, follow_recode)


def dongs(code: str, *, follow_recode: bool = False) -> tuple[Dong, ...]:
    """Return the 행정동/읍/면 of the unit named by ``code``, in code order.

    For a city divided into 일반구 (수원시 41110) these are the 행정동 of all its 일반구; for
    one 일반구 (41111) only its own; for 세종 (36110) and the 제주 행정시 their own. ``code``
    and ``follow_recode`` are read as in :func:`lookup`, which raises the same errors.
    """
    gov = _resolve_government(code, follow_recode)
    return tuple(_registry().dongs_of.get(gov.sgg_code, ()))


def dong(code: str) -> Dong:
    """Return the 행정동/읍/면 with the 10-digit code ``code``.

    Raises :class:`RegionRecoded` for a 2026-04-01 code that was re-issued (with the new code)
    and :class:`UnknownRegion` otherwise.
    """
    text = _normalise(code)
    reg = _registry()
    if text in reg.dongs:
        return reg.dongs[text]
    if text in reg.recoded and len(text) == 10 and not text.endswith("00000"):
        raise RegionRecoded(text, reg.old_names[text], reg.recoded[text])
    raise UnknownRegion(code, f"no 행정동/읍/면 has the code {text} in the {SNAPSHOT} list")


def all_local_governments(basic_only: bool = True) -> tuple[LocalGovernment, ...]:
    """Return the 시군구-level units in code order.

    With ``basic_only`` (the default) the 227 basic local governments (시·군·자치구) that can be
    onboarded; otherwise all 269 units, adding the 39 일반구, 제주시/서귀포시 and 세종.
    """
    govs = _registry().governments.values()
    return tuple(g for g in govs if g.is_basic_local_gov or not basic_only)


def all_sido() -> tuple[Sido, ...]:
    """Return the 16 시도 of the current list in code order."""
    return tuple(sorted(_registry().sido.values(), key=lambda s: s.sido_code))


def population_by_age_sex(code: str) -> AgeSexProfile | None:
    """Return the population by sex and 5-year age band of a unit, for a representativeness
    report.

    ``code`` names a 시군구-level unit as in :func:`lookup` (same errors), or a 행정동 by its
    10-digit code (for a dong committee), or a 시도 by its 10-digit code ``SS00000000``.
    Figures are for :data:`AGE_SEX_MONTH`, carried over to current codes. Returns None when
    the unit exists but no figure could be carried over (units created or split after June
    2025, e.g. 인천 제물포구 28125; the uninhabited 면); see SOURCES.md for the list.
    """
    text = _normalise(code)
    reg = _registry()
    if len(text) == 10 and (text in reg.dongs or (text[2:] == "00000000" and text[:2] in reg.sido)):
        key = text
    elif len(text) == 10 and text in reg.recoded and not text.endswith("00000"):
        raise RegionRecoded(text, reg.old_names[text], reg.recoded[text])
    else:
        key = _resolve_government(code, False).adm_code10
    row = reg.age_sex_rows.get(key)
    if row is None:
        return None
    bands = tuple(
        AgeBand(
            min_age=100 if b == "100p" else int(b[:2]),
            max_age=None if b == "100p" else int(b[3:]),
            male=int(row[f"m_{b}"]),
            female=int(row[f"f_{b}"]),
        )
        for b in _BANDS
    )
    return AgeSexProfile(
        adm_code10=key,
        name_ko=reg.name_of(key),
        month=AGE_SEX_MONTH,
        source_code=row["adm_code10_2025_06"] or None,
        mapping=row["mapping"],
        bands=bands,
    )


def age_sex_coverage() -> dict[str, object]:
    """Return the summary of how the June-2025 age/sex table was carried over to current
    codes (counts by mapping, rows not mapped and why), as written by ``build_data``."""
    raw = resources.files(__package__).joinpath("data", "age_sex_mapping.json").read_text("utf-8")
    return json.loads(raw)


def onboardable_governments() -> tuple[LocalGovernment, ...]:
    """The governments a portal can be onboarded for, in code order: the 227 basic local
    governments and 세종 (single-tier: it runs its own PB although it is not a 시·군·구)."""
    govs = _registry().governments.values()
    return tuple(
        sorted(
            (g for g in govs if g.is_basic_local_gov or g.unit_type.startswith("특별자치시")),
            key=lambda g: g.sgg_code,
        )
    )


def _folded(text: str) -> str:
    return "".join(text.lower().replace("-", "").split())


def search(query: str | None) -> list[LocalGovernment]:
    """Onboardable governments matching `query`, in code order: a code prefix (digits: the
    5-digit 시군구 code or the 10-digit one), else part of the Korean name (with or without
    the 시도, such as 강남 or 서울특별시 강남구) or of the English name (case, spaces and hyphens
    ignored: gangnam, Gangnam-gu). No query: all of them."""
    query = (query or "").strip()
    govs = onboardable_governments()
    if not query:
        return list(govs)
    if query.isdigit():
        return [g for g in govs if g.adm_code10.startswith(query)]
    folded = _folded(query)
    return [g for g in govs if any(folded in _folded(name or "") for name in (g.full_name_ko, g.name_en))]
