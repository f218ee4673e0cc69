"""The official municipality list shipped in ``saas.regions``."""

from __future__ import annotations

import csv
import gzip
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

import saas.regions as regions
from saas.regions import RegionRecoded, UnknownRegion

REPO = Path(__file__).resolve().parents[2]
KR_ADMIN = REPO.parent / "shared" / "kr-admin"
needs_kr_admin = pytest.mark.skipif(
    not KR_ADMIN.is_dir(), reason=f"kr-admin reference tables not found at {KR_ADMIN}"
)
DATA = resources.files("saas.regions").joinpath("data")


def data_files():
    return [f for f in DATA.iterdir() if f.name.endswith((".csv.gz", ".json"))]


def test_importing_the_package_reads_no_data_file():
    code = (
        "import saas.regions, saas.regions.registry as reg\n"
        "assert reg._registry.cache_info().currsize == 0\n"
        "saas.regions.lookup('11680')\n"
        "assert reg._registry.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_lookup_by_five_and_ten_digit_code_gives_the_same_government():
    a = regions.lookup("11680")
    assert a is regions.lookup("1168000000")
    assert a.name_ko == "강남구"
    assert a.full_name_ko == "서울특별시 강남구"
    assert a.name_en == "Gangnam-gu"
    assert (a.sido_code, a.sido_name_ko) == ("11", "서울특별시")
    assert a.unit_type == "자치구" and a.is_basic_local_gov
    assert a.population and a.population > 400_000
    assert isinstance(a.fiscal_independence_pct, float)


def test_local_government_is_frozen():
    with pytest.raises(AttributeError):
        regions.lookup("11680").name_ko = "x"  # type: ignore[misc]


def test_whitespace_around_a_code_is_ignored():
    assert regions.lookup(" 11680\n").sgg_code == "11680"


def test_suwon_dongs_are_the_dongs_of_its_four_ilban_gu():
    suwon = regions.lookup("41110")
    assert suwon.is_basic_local_gov and suwon.has_ilban_gu
    ds = regions.dongs("41110")
    assert {d.sgg_code for d in ds} == {"41111", "41113", "41115", "41117"}
    assert all(d.lg_code == "41110" for d in ds)
    assert [d.adm_code10 for d in ds] == sorted(d.adm_code10 for d in ds)
    jangan = regions.dongs("41111")
    assert 0 < len(jangan) < len(ds)
    assert set(jangan) <= set(ds)
    assert not regions.lookup("41111").is_basic_local_gov
    assert regions.lookup("41111").parent_city_code == "41110"
    assert regions.lookup("41111").name_en == "Jangan-gu"


def test_sejong_is_a_single_tier_unit_with_its_own_dongs():
    sejong = regions.lookup("36110")
    assert sejong.unit_type == "특별자치시(단층제)"
    assert not sejong.is_basic_local_gov
    assert len(regions.dongs("3611000000")) == 24
    assert sejong.fiscal_independence_pct is not None


def test_a_jeonnam_gwangju_government_has_its_new_code():
    donggu = regions.lookup("12210")
    assert donggu.full_name_ko == "전남광주통합특별시 동구"
    assert donggu.sido_code == "12"
    assert all(d.adm_code10.startswith("12210") for d in regions.dongs("12210"))


@pytest.mark.parametrize("old", ["29110", "2911000000"])
def test_an_old_gwangju_code_names_the_new_code(old):
    with pytest.raises(RegionRecoded) as e:
        regions.lookup(old)
    assert e.value.new_codes == ("12210",)
    assert "re-issued" in str(e.value) and "12210" in str(e.value)
    with pytest.raises(RegionRecoded):
        regions.dongs(old)


def test_an_old_code_is_followed_on_request():
    assert regions.lookup("29110", follow_recode=True).sgg_code == "12210"
    assert regions.dongs("29110", follow_recode=True) == regions.dongs("12210")


def test_a_split_incheon_ward_lists_both_successors_even_when_following():
    with pytest.raises(RegionRecoded) as e:
        regions.lookup("28110", follow_recode=True)
    assert e.value.new_codes == ("28125", "28155")
    assert "split" in str(e.value)


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("99999", "no local government"),
        ("1168000001", "not a code"),
        ("abc", "not a region code"),
        ("1168", "not a region code"),
        ("", "not a region code"),
        ("١١٦٨٠", "not a region code"),  # Arabic-Indic digits pass str.isdigit()
        (11680, "must be a string"),
        (None, "must be a string"),
        ("1100000000", "시도"),
        ("11000", "시도"),
        ("1168051000", "행정동"),
        ("2911052500", "행정동 code re-issued"),
    ],
)
def test_unknown_and_malformed_codes_raise_a_lookup_error_saying_why(code, says):
    with pytest.raises(UnknownRegion) as e:
        regions.lookup(code)
    assert isinstance(e.value, LookupError)
    assert says in str(e.value)


def test_counts_match_the_current_snapshot():
    assert len(regions.all_local_governments()) == 227
    assert len(regions.all_local_governments(basic_only=False)) == 269
    assert len(regions.all_sido()) == 16
    types = [g.unit_type for g in regions.all_local_governments()]
    assert (types.count("시"), types.count("군"), types.count("자치구")) == (75, 82, 70)
    everything = {
        d
        for g in regions.all_local_governments(basic_only=False)
        for d in regions.dongs(g.sgg_code)
    }
    assert len(everything) == 3563
    # every 행정동 belongs to exactly one of: a basic government, 세종, a 제주 행정시
    owners = [g.sgg_code for g in regions.all_local_governments()] + ["36110", "50110", "50130"]
    assert sum(len(regions.dongs(c)) for c in owners) == 3563


def test_every_basic_government_has_population_and_dongs():
    for g in regions.all_local_governments():
        assert g.population and g.population > 0, g
        assert regions.dongs(g.sgg_code), g


def test_population_totals_add_up_per_sido():
    for s in regions.all_sido():
        govs = [g for g in regions.all_local_governments() if g.sido_code == s.sido_code]
        if govs:
            assert sum(g.population for g in govs) == s.population, s.name_ko


def test_fiscal_independence_is_flagged_as_unconfirmed():
    assert regions.FISCAL_INDEPENDENCE_YEAR_CONFIRMED is False
    assert "미확인" in regions.FISCAL_INDEPENDENCE_NOTE
    assert all(
        0 < g.fiscal_independence_pct < 100
        for g in regions.all_local_governments()
        if g.fiscal_independence_pct
    )
    assert regions.lookup("28125").fiscal_independence_pct is None  # split after the table


def test_population_by_age_sex_for_a_government_and_a_dong():
    p = regions.population_by_age_sex("11680")
    assert p.month == "2025-06" and p.mapping == "same_code"
    assert len(p.bands) == 21
    assert p.bands[0].min_age == 0 and p.bands[0].max_age == 4
    assert p.bands[-1].min_age == 100 and p.bands[-1].max_age is None
    assert p.total == p.male + p.female > 400_000
    dong = regions.dongs("11680")[0]
    assert regions.population_by_age_sex(dong.adm_code10).total > 0


def test_population_by_age_sex_follows_recoding_and_merge():
    p = regions.population_by_age_sex("12210")
    assert p.source_code == "2911000000" and p.mapping == "crosswalk"
    merged = regions.population_by_age_sex("1200000000")
    assert merged.mapping == "sum_of_merged_sido"
    hwaseong = regions.population_by_age_sex(regions.dongs("41591")[0].adm_code10)
    # 화성시 was split into districts after the table: its dongs are matched by name.
    assert hwaseong is not None and hwaseong.mapping == "name_match"


def test_population_by_age_sex_is_none_for_a_unit_created_after_june_2025():
    assert regions.population_by_age_sex("28125") is None


def test_age_sex_coverage_states_the_unmapped_rows():
    c = regions.age_sex_coverage()
    assert c["source_rows"] == 3910
    assert c["source_rows_not_mapped"] == len(c["not_mapped"]) == 87
    assert c["shipped_rows"] == 3822


def test_sources_file_states_snapshot_licence_and_attribution():
    text = resources.files("saas.regions").joinpath("SOURCES.md").read_text("utf-8")
    assert "2026-07-01" in text
    assert "CC BY 4.0" in text
    assert "KOGL Type 1" in text
    assert "vuski/admdongkor" in text
    assert "not stated" in text and "unconfirmed" in text  # 재정자립도 year


def test_every_data_file_is_described_in_sources():
    text = resources.files("saas.regions").joinpath("SOURCES.md").read_text("utf-8")
    for f in data_files():
        assert f"`{f.name}`" in text, f.name


def test_package_data_stays_small():
    total = sum(len(f.read_bytes()) for f in data_files())
    assert total < 500_000


@needs_kr_admin
def test_kr_admin_readme_attribution_is_quoted_exactly():
    readme = (KR_ADMIN / "README.md").read_text("utf-8")
    start = readme.index("본 데이터는")
    attribution = readme[start : readme.index('"', start)]
    sources = resources.files("saas.regions").joinpath("SOURCES.md").read_text("utf-8")
    assert attribution in sources


@needs_kr_admin
def test_shipped_tables_equal_the_reference_tables():
    def rows(name):
        with (KR_ADMIN / name).open(encoding="utf-8") as f:
            return list(csv.DictReader(f))

    def shipped(name):
        with gzip.open(DATA.joinpath(name), "rt", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    ref = rows("admdong_2026-07-01.csv")
    mine = {r["adm_code10"]: r for r in shipped("admdong.csv.gz")}
    assert len(mine) == len(ref) == 3563
    for r in ref:
        assert mine[r["adm_code10"]]["name_ko"] == r["name_ko"]
        d = regions.dong(r["adm_code10"])
        assert (d.sgg_code, d.lg_code, d.emd_type) == (r["sgg_code"], r["lg_code"], r["emd_type"])
    for r in rows("sigungu_2026-07-01.csv"):
        g = regions.lookup(r["sgg_code"])
        assert (g.full_name_ko, g.unit_type) == (r["full_name_ko"], r["unit_type"])
        assert g.is_basic_local_gov == (r["is_basic_local_gov"] == "1")


@needs_kr_admin
def test_rebuilding_the_data_gives_identical_files(tmp_path):
    from saas.regions.build_data import build

    build(KR_ADMIN, tmp_path)
    for f in data_files():
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name


@pytest.mark.parametrize(
    ("korean", "english"),
    [
        ("청운효자동", "Cheongunhyoja-dong"),
        ("역삼1동", "Yeoksam 1-dong"),
        ("종로1·2·3·4가동", "Jongno 1.2.3.4ga-dong"),
        ("봉담읍", "Bongdam-eup"),
        ("일원본동", "Irwonbon-dong"),
        ("신라동", "Silla-dong"),
        ("백마동", "Baengma-dong"),
        ("남가좌제1동", "Namgajwa 1-dong"),
    ],
)
def test_a_dongs_english_name_is_romanised_from_the_official_korean_one(korean, english):
    from saas.regions.romanize import dong_name_en

    assert dong_name_en(korean) == english


def test_every_dong_has_an_english_name_in_latin_letters():
    for dong in regions.dongs("11680") + regions.dongs("41110"):
        assert dong.name_en and dong.name_en.isascii(), dong
