"""Which envelopes a voter may vote in, who may vote, and whether a ballot is valid.

Every refusal names the rule that failed, so a resident (or the officer entering a paper
ballot) knows what to change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from saas.core import clock
from saas.core.refusals import Invalid
from tenants.cycles.models import Cycle, Envelope
from tenants.proposals.models import Project
from tenants.voting.refusals import BallotRuleBroken, NotEligible, NotVerifiedEnough

BASES = ("resident", "worker", "student")
# The assurance (`acr`) with which the national IdP vouches that it verified who a person is.
VERIFIED_ACR = "urn:chamyeo:acr:verified"


def online_acr_values(eligibility: dict[str, Any]) -> tuple[str, ...]:
    """The assurance levels, one of which a sign-in needs to vote online in a cycle with these
    eligibility rules; empty: any. A template names them (`online_acr`); without that,
    `online_requires_national_idp` asks for a resident verified by the national IdP (the
    rule since templates first had the flag), so the verified level."""
    named = eligibility.get("online_acr")
    if named:
        return tuple(named)
    return (VERIFIED_ACR,) if eligibility.get("online_requires_national_idp") else ()


def check_online_identity(cycle: Cycle, *, national: bool, acr: str | None) -> None:
    """Whether a sign-in may vote online in `cycle`: through the national IdP if the cycle
    says so, and at the assurance it asks for. Raises Forbidden saying what is needed."""
    rules = cycle.eligibility
    if rules.get("online_requires_national_idp") and not national:
        raise NotVerifiedEnough(
            "This cycle takes online votes only from residents signed in through the national "
            "identity provider."
        )
    needed = online_acr_values(rules)
    if needed and acr not in needed:
        raise NotVerifiedEnough(
            "This cycle takes online votes only from residents whose identity was verified: sign "
            f"in again at the assurance level {' or '.join(needed)} (this sign-in has "
            f"{acr or 'none'}), or vote on site.",
            errors={"acr": [f"needs {' or '.join(needed)}"]},
        )


def check_eligibility(cycle: Cycle, *, basis: str, birth_year: int) -> None:
    rules = cycle.eligibility
    if not rules.get(f"{basis}s", False):
        raise NotEligible(
            f"This cycle is not open to {basis}s.", reason="basis", errors={"basis": ["not eligible"]}
        )
    # The Korean calendar year: voting opened at 00:30 on 1 January in Seoul is still the
    # previous year in UTC.
    year = clock.korean_date(cycle.voting_opened_at).year if cycle.voting_opened_at else cycle.fiscal_year
    age = year - birth_year  # age reached in the voting year, as Korean PB ordinances count it
    if age < rules["min_age"]:
        raise NotEligible(
            f"Voters must be at least {rules['min_age']} in {year}.",
            reason="too_young",
            limit=rules["min_age"],
            year=year,
            errors={"birth_year": ["too young"]},
        )
    if rules.get("max_age") is not None and age > rules["max_age"]:
        raise NotEligible(
            f"Voters must be at most {rules['max_age']} in {year}.",
            reason="too_old",
            limit=rules["max_age"],
            year=year,
            errors={"birth_year": ["too old"]},
        )


def entitled_envelopes(envelopes: Iterable[Envelope], district_code: str | None) -> list[Envelope]:
    """Of `envelopes`, the citywide and district ones for everyone; a dong's for its residents."""
    return [e for e in envelopes if e.scope != "dong" or (district_code and e.area_code == district_code)]


def validate_ballot(
    cycle: Cycle,
    envelopes: list[Envelope],
    projects: dict[int, Project],
    choices: list[dict[str, Any]],
) -> dict[int, list[tuple[Project, int]]]:
    """Check the choices against the cycle's ballot rules, envelope by envelope.

    Returns {envelope id: [(project, value)]}; raises Invalid naming the failed rule."""
    if not choices:
        raise BallotRuleBroken(
            "The ballot is empty.", rule="empty", errors={"choices": ["choose at least one project"]}
        )
    allowed = {e.id: e for e in envelopes}
    seen: set[int] = set()
    by_envelope: dict[int, list[tuple[Project, int]]] = defaultdict(list)
    for choice in choices:
        project = projects.get(choice["project_id"])
        if project is None or project.envelope_id not in allowed:
            raise BallotRuleBroken(
                f"Project {choice['project_id']} is not on your ballot.",
                rule="not_on_ballot",
                errors={"choices": [f"project {choice['project_id']} is not on your ballot"]},
            )
        if project.id in seen:
            raise BallotRuleBroken(
                f"Project {project.code} is chosen twice.",
                rule="duplicate",
                errors={"choices": ["duplicate project"]},
            )
        seen.add(project.id)
        by_envelope[project.envelope_id].append((project, choice.get("value", 1)))
    rules = cycle.ballot
    for envelope_id, chosen in by_envelope.items():
        _check_envelope(rules, allowed[envelope_id], chosen)
    return dict(by_envelope)


def _fail(envelope: Envelope, rule: str, message: str) -> Invalid:
    return BallotRuleBroken(
        f"{envelope.name_en}: {message}",
        rule=rule,
        envelope_id=envelope.id,
        errors={"choices": [f"{rule}: {message}"]},
    )


def _check_envelope(rules: dict[str, Any], envelope: Envelope, chosen: list[tuple[Project, int]]) -> None:
    kind = rules["type"]
    values = [value for _, value in chosen]
    if kind == "approval":
        if any(v != 1 for v in values):
            raise _fail(envelope, "approval", "approval ballots take no points")
        if len(chosen) > rules["k"]:
            raise _fail(envelope, "k", f"choose at most {rules['k']} projects")
        if len(chosen) < rules.get("min_k", 1):
            raise _fail(envelope, "min_k", f"choose at least {rules['min_k']} projects")
    elif kind == "knapsack":
        if any(v != 1 for v in values):
            raise _fail(envelope, "knapsack", "knapsack ballots take no points")
        spent = sum(project.cost for project, _ in chosen)
        if spent > envelope.budget:
            raise _fail(
                envelope,
                "budget",
                f"the chosen projects cost {spent:,} won, over the budget of {envelope.budget:,} won",
            )
        minimum = int(envelope.budget * rules.get("min_spend_share", 0))
        if spent < minimum:
            raise _fail(envelope, "min_spend_share", f"use at least {minimum:,} won of the budget")
    elif kind == "cumulative":
        if any(v < 1 for v in values):
            raise _fail(envelope, "points", "give each chosen project at least 1 point")
        cap = rules.get("max_points_per_project")
        if cap is not None and max(values) > cap:
            raise _fail(envelope, "max_points_per_project", f"give a project at most {cap} points")
        if sum(values) > rules["points"]:
            raise _fail(envelope, "points", f"distribute at most {rules['points']} points")
    elif kind == "ranked":
        if sorted(values) != list(range(1, len(values) + 1)):
            raise _fail(envelope, "ranks", "rank the chosen projects 1, 2, 3, … without gaps or repeats")
        if len(values) > rules["max_rank"]:
            raise _fail(envelope, "max_rank", f"rank at most {rules['max_rank']} projects")


def _percent(share: float) -> str:
    percent = round(share * 100, 1)
    return f"{percent:g} %"


def ballot_instructions(rules: dict[str, Any]) -> dict[str, str]:
    """What a voter is told to do, in Korean and English, derived from the ballot rules (a
    template's own sentence could say "at least half" of a rule that asks for 30 %)."""
    kind = rules["type"]
    if kind == "approval":
        k, min_k = rules["k"], rules.get("min_k", 1)
        if min_k > 1:
            return {
                "ko": f"꼭 필요하다고 생각하는 사업을 {min_k}개 이상 {k}개 이하로 고르세요.",
                "en": f"Choose at least {min_k} and at most {k} of the projects you think are most needed.",
            }
        return {
            "ko": f"꼭 필요하다고 생각하는 사업을 최대 {k}개까지 고르세요.",
            "en": f"Choose up to {k} of the projects you think are most needed.",
        }
    if kind == "knapsack":
        share = rules.get("min_spend_share") or 0
        ko = "예산 한도 안에서 지지하는 사업을 담으세요."
        en = "Add the projects you support without going over the budget."
        if share >= 1:
            ko += " 예산을 모두 담아야 투표가 완료됩니다."
            en += " Use the whole budget to complete your ballot."
        elif share > 0:
            ko += f" 한도의 {_percent(share)} 이상을 담아야 투표가 완료됩니다."
            en += f" Use at least {_percent(share)} of the budget to complete your ballot."
        return {"ko": ko, "en": en}
    if kind == "cumulative":
        points, cap = rules["points"], rules.get("max_points_per_project")
        ko = f"지지하는 사업에 모두 {points}점까지 나누어 주세요."
        en = f"Share up to {points} points among the projects you support."
        if cap is not None:
            ko += f" 한 사업에는 {cap}점까지 줄 수 있습니다."
            en += f" Give a project at most {cap} points."
        return {"ko": ko, "en": en}
    # ranked
    max_rank = rules["max_rank"]
    return {
        "ko": f"지지하는 사업을 {max_rank}개까지 1위부터 차례로 순위를 매기세요.",
        "en": f"Rank up to {max_rank} projects you support, 1 first, without gaps or repeats.",
    }


def with_instructions(rules: dict[str, Any]) -> dict[str, Any]:
    """The ballot rules with their instructions derived from them."""
    return {**rules, "instructions": ballot_instructions(rules)}
