"""Rebuild ``saas/regions/data/`` from the kr-admin reference tables.

Maintainer tool, never imported by the product: the running service reads only the files
this script writes into the package. Run from the repository root::

    python -m saas.regions.build_data ../shared/kr-admin

The output is deterministic (sorted rows, gzip without a timestamp), so a rebuild that changes
nothing leaves ``git status`` clean; ``tests/regions`` rebuilds into a temporary folder and
compares when the source folder is present.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SNAPSHOT = "2026-07-01"
BANDS = [f"{a:02d}_{a + 4:02d}" for a in range(0, 100, 5)] + ["100p"]
AGE_SEX_COLUMNS = [f"{s}_{b}" for s in ("m", "f") for b in BANDS]

# The SGIS 2018 English names drop the hyphen before the unit suffix for a few units, and give
# 경기 광주시 as bare "Gwangju" (ambiguous with the former 광역시). Corrected one by one here
# rather than by a rule, so every changed spelling is visible in review.
NAME_EN_CORRECTIONS = {
    "36110": "Sejong-si",
    "41590": "Hwaseong-si",
    "41610": "Gwangju-si",
    "41630": "Yangju-si",
    "41650": "Pocheon-si",
    "43745": "Jeungpyeong-gun",
    "44250": "Gyeryong-si",
    "44270": "Dangjin-si",
}
# The README of the source names these two current official English names (renamed in 2023/24).
SIDO_NAME_EN_CURRENT = {"51": "Gangwon State", "52": "Jeonbuk State"}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write_gz(path: Path, columns: list[str], rows: Sequence[Mapping[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({c: row.get(c, "") for c in columns})
    # mtime=0 and no file name in the header: identical input gives identical bytes.
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(buf.getvalue().encode("utf-8"))


def _hyphenate_unit(word: str) -> str:
    for suffix in ("gun", "gu", "si"):
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)].capitalize() + "-" + suffix
    return word.capitalize()


def _english_names(sigungu: list[dict[str, str]]) -> dict[str, tuple[str, str]]:
    """Best English name per sgg_code, with how it was obtained.

    SGIS 2018 writes 일반구 as one word, city + ward (``Suwonsijangangu``). The city part is the
    longest common prefix ending in ``si`` of a city's wards; the rest is the ward.
    """
    out: dict[str, tuple[str, str]] = {}
    wards: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in sigungu:
        if r["unit_type"] == "일반구":
            wards[r["parent_city_code"]].append(r)
    for r in sigungu:
        raw = r["name_en_sgis2018"]
        if r["sgg_code"] in NAME_EN_CORRECTIONS:
            out[r["sgg_code"]] = (NAME_EN_CORRECTIONS[r["sgg_code"]], "sgis2018_corrected")
        elif raw and r["unit_type"] != "일반구":
            out[r["sgg_code"]] = (raw, "sgis2018")
    for city, rows in wards.items():
        raws = [r["name_en_sgis2018"] for r in rows if r["name_en_sgis2018"]]
        if len(raws) != len(rows):
            continue  # 부천·화성: wards created after 2018, no name
        if all("-" in x for x in raws):  # 포항: already "Nam-gu"
            for r in rows:
                out[r["sgg_code"]] = (r["name_en_sgis2018"], "sgis2018")
            continue
        prefix = raws[0]
        for x in raws[1:]:
            while not x.startswith(prefix):
                prefix = prefix[:-1]
        prefix = prefix[: prefix.rfind("si") + 2] if "si" in prefix else ""
        for r in rows:
            ward = r["name_en_sgis2018"][len(prefix) :]
            out[r["sgg_code"]] = (_hyphenate_unit(ward), "sgis2018_split")
        if prefix and city not in out:
            out[city] = (_hyphenate_unit(prefix), "sgis2018_from_wards")
    return out


def build(src: Path, dst: Path) -> dict[str, object]:
    """Write the package data files from ``src`` (a kr-admin folder); return a summary."""
    dst.mkdir(parents=True, exist_ok=True)
    sido = _read(src / f"sido_{SNAPSHOT}.csv")
    sigungu = _read(src / f"sigungu_{SNAPSHOT}.csv")
    admdong = _read(src / f"admdong_{SNAPSHOT}.csv")
    crosswalk = _read(src / "crosswalk_2026-04-01_to_2026-07-01.csv")
    population = _read(src / "population_2026-08.csv")
    fiscal = _read(src / "fiscal_independence_kosis.csv")
    age_sex = _read(src / "population_age_sex_2025-06.csv")

    for r in sido:
        r["name_en"] = SIDO_NAME_EN_CURRENT.get(r["sido_code"], r["name_en_sgis2018"])
    _write_gz(
        dst / "sido.csv.gz",
        [
            "sido_code",
            "adm_code10",
            "name_ko",
            "sido_type_ko",
            "sido_type_en",
            "name_en",
            "name_en_sgis2018",
            "prev_sido_codes",
        ],
        sido,
    )

    english = _english_names(sigungu)
    for r in sigungu:
        r["name_en"], r["name_en_source"] = english.get(r["sgg_code"], ("", ""))
    _write_gz(
        dst / "sigungu.csv.gz",
        [
            "sgg_code",
            "adm_code10",
            "name_ko",
            "full_name_ko",
            "sido_code",
            "sido_name_ko",
            "unit_type",
            "is_basic_local_gov",
            "parent_city_code",
            "has_ilban_gu",
            "kostat_code5",
            "name_en",
            "name_en_source",
            "name_en_sgis2018",
            "prev_sgg_code",
        ],
        sigungu,
    )
    # Names of 시군구/시도 are joined back on load; dropping them roughly halves the file.
    _write_gz(
        dst / "admdong.csv.gz",
        [
            "adm_code10",
            "kostat_code8",
            "name_ko",
            "name_sgis",
            "emd_type",
            "sgg_code",
            "lg_code",
            "in_admdongkor_boundaries",
            "name_source",
            "prev_adm_code10",
        ],
        sorted(admdong, key=lambda r: r["adm_code10"]),
    )
    _write_gz(
        dst / "crosswalk_2026-04-01_to_2026-07-01.csv.gz",
        ["level", "old_code", "old_name", "new_code", "new_name", "note"],
        crosswalk,
    )
    _write_gz(
        dst / "population_2026-08.csv.gz",
        ["adm_code10", "name_ko", "level", "population"],
        population,
    )
    _write_gz(
        dst / "fiscal_independence.csv.gz",
        [
            "level",
            "sido_name_src",
            "sgg_name_src",
            "code_2026_04",
            "code_2026_07",
            "fiscal_independence_pct",
        ],
        fiscal,
    )
    summary = _build_age_sex(age_sex, sido, sigungu, admdong, crosswalk, dst)
    (dst / "age_sex_mapping.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return summary


def _build_age_sex(age_sex, sido, sigungu, admdong, crosswalk, dst: Path) -> dict[str, object]:
    """Re-key the June-2025 age/sex table to current codes.

    A row is shipped under a current code only when exactly one June-2025 row lands on that
    code and the unit kept its area: unchanged codes, one-to-one crosswalk re-codings, and
    행정동 re-coded without a crosswalk row (화성시 2026-02) matched by identical name inside
    the same government. 전남광주통합특별시 (12) is the sum of the whole 광주 (29) and 전남
    (46) rows. Everything else (splits, merged wards, new 동, 출장소) is left out and counted.
    """
    names: dict[str, tuple[str, str]] = {}
    for r in sido:
        names[r["adm_code10"]] = ("sido", r["name_ko"])
    for r in sigungu:
        names[r["adm_code10"]] = ("sigungu", r["full_name_ko"])
    for r in admdong:
        names[r["adm_code10"]] = ("emd", r["full_name_ko"])
    targets: dict[str, list[str]] = defaultdict(list)
    for c in crosswalk:
        targets[c["old_code"]].append(c["new_code"])
    sources_of: dict[str, int] = defaultdict(int)
    for c in crosswalk:
        sources_of[c["new_code"]] += 1

    dong_by_lg_name: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in admdong:
        dong_by_lg_name[(r["lg_code"], r["name_ko"])].append(r["adm_code10"])
    direct_codes = {r["adm_code10"] for r in age_sex}

    mapped: dict[str, tuple[dict[str, str], str]] = {}
    unmapped: list[dict[str, str]] = []
    for r in age_sex:
        old = r["adm_code10"]
        new, how = None, ""
        if r["is_branch_office"] == "1":
            how = "branch_office"
        elif old in targets:
            t = targets[old]
            if len(t) == 1 and sources_of[t[0]] == 1:
                new, how = t[0], "crosswalk"
            else:
                how = "split_or_merged"
        elif old in names:
            new, how = old, "same_code"
        elif r["level"] == "emd":
            short = r["name_ko"].rsplit(" ", 1)[-1]
            cands = [c for c in dong_by_lg_name.get((old[:5], short), []) if c not in direct_codes]
            if len(cands) == 1:
                new, how = cands[0], "name_match"
            else:
                how = "no_current_unit"
        else:
            how = "no_current_unit"
        if new is None:
            unmapped.append(
                {
                    "adm_code10_2025_06": old,
                    "name_ko": r["name_ko"],
                    "level": r["level"],
                    "reason": how,
                    "total": r["total"],
                }
            )
        else:
            mapped[new] = (r, how)

    merged = [r for r in age_sex if r["adm_code10"] in ("2900000000", "4600000000")]
    unmapped = [u for u in unmapped if u["adm_code10_2025_06"] not in ("2900000000", "4600000000")]
    rows = []
    if len(merged) == 2:
        agg = {
            k: str(sum(int(m[k]) for m in merged))
            for k in ["total", "m_total", "f_total", *AGE_SEX_COLUMNS]
        }
        agg["adm_code10"] = "2900000000;4600000000"
        mapped["1200000000"] = (agg, "sum_of_merged_sido")
    for new, (r, how) in mapped.items():
        level = names[new][0]
        # Names, level and totals are derivable (from the code and the bands), so they are
        # not stored: the band counts dominate the package size.
        rows.append(
            {
                "adm_code10": new,
                "level": level,
                "adm_code10_2025_06": "" if r["adm_code10"] == new else r["adm_code10"],
                "mapping": how,
                **{k: r[k] for k in AGE_SEX_COLUMNS},
            }
        )
    rows.sort(key=lambda x: x["adm_code10"])
    _write_gz(
        dst / "population_age_sex.csv.gz",
        ["adm_code10", "adm_code10_2025_06", "mapping", *AGE_SEX_COLUMNS],
        rows,
    )

    by_reason: dict[str, int] = defaultdict(int)
    for u in unmapped:
        by_reason[f"{u['level']}:{u['reason']}"] += 1
    by_mapping: dict[str, int] = defaultdict(int)
    for r in rows:
        by_mapping[f"{r['level']}:{r['mapping']}"] += 1
    current_emd_without = sorted(r["adm_code10"] for r in admdong if r["adm_code10"] not in mapped)
    current_sgg_without = sorted(r["sgg_code"] for r in sigungu if r["adm_code10"] not in mapped)
    return {
        "source_rows": len(age_sex),
        "shipped_rows": len(rows),
        "source_rows_not_mapped": len(unmapped),
        "source_rows_not_mapped_by_reason": dict(sorted(by_reason.items())),
        "shipped_rows_by_mapping": dict(sorted(by_mapping.items())),
        "current_admdong_without_age_sex": current_emd_without,
        "current_sigungu_without_age_sex": current_sgg_without,
        "not_mapped": unmapped,
    }


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/kr-admin")
    result = build(source, Path(__file__).with_name("data"))
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "not_mapped"}, ensure_ascii=False, indent=1
        )
    )
