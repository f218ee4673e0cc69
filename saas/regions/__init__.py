"""The official municipality list: Korean 시도, 시군구 and 행정동/읍/면 with their codes,
population and fiscal figures, shipped as data files in this package (see SOURCES.md).

Importing this package reads nothing; the tables load on first use and are cached.
"""

from saas.regions.registry import (
    AGE_SEX_MONTH,
    FISCAL_INDEPENDENCE_NOTE,
    FISCAL_INDEPENDENCE_YEAR_CONFIRMED,
    POPULATION_MONTH,
    SNAPSHOT,
    AgeBand,
    AgeSexProfile,
    Dong,
    LocalGovernment,
    RegionRecoded,
    Sido,
    UnknownRegion,
    age_sex_coverage,
    all_local_governments,
    all_sido,
    dong,
    dongs,
    lookup,
    onboardable_governments,
    population_by_age_sex,
    search,
)

__all__ = [
    "AGE_SEX_MONTH",
    "FISCAL_INDEPENDENCE_NOTE",
    "FISCAL_INDEPENDENCE_YEAR_CONFIRMED",
    "POPULATION_MONTH",
    "SNAPSHOT",
    "AgeBand",
    "AgeSexProfile",
    "Dong",
    "LocalGovernment",
    "RegionRecoded",
    "Sido",
    "UnknownRegion",
    "age_sex_coverage",
    "all_local_governments",
    "all_sido",
    "dong",
    "dongs",
    "lookup",
    "onboardable_governments",
    "population_by_age_sex",
    "search",
]
