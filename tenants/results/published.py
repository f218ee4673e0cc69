"""Published results as residents read them: per envelope every project with its cost, votes
and whether it was funded, why (a structured reason from the counting engine's record: the
page puts it into words, in the reader's language), the rule, turnout, and how to recount.

Nothing here is shown before publication: an unpublished envelope is a `PendingResult`,
which carries no count at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core.refusals import N_, NotFound
from saas.core.tenancy.context import TenantRef
from tenants.cycles.models import Cycle, Envelope
from tenants.cycles.services import cycle_or_404
from tenants.proposals.models import Project
from tenants.results.models import Result
from tenants.results.services import export_pabulib
from tenants.results.turnout import Eligible, Turnout, cycle_turnout, eligible_population, envelope_turnout
from tenants.voting.models import BallotChoice

# What a reason can say (the template has a sentence for each).
FREE = "free"  # funded: costs nothing and someone wants it
GREEDY_FUNDED = "greedy_funded"  # rank, budget_left (before it), measure
GREEDY_SKIPPED = "greedy_skipped"  # rank, cost, budget_left: did not fit when its turn came
GREEDY_NOT_REACHED = "greedy_not_reached"  # counting stopped before its turn (no-skip rule)
BELOW_THRESHOLD = "below_threshold"  # votes, threshold
BLENDED_FUNDED = "blended_funded"  # rank, budget_left
BLENDED_SKIPPED = "blended_skipped"  # rank, cost, budget_left
MES_FUNDED = "mes_funded"  # round, per_supporter (the most one supporter paid; cost rule only)
MES_SHORT = "mes_short"  # round, supporters_money, cost, fill_left (the fill's last remainder)
FILL_FUNDED = "fill_funded"  # rank, budget_left: spent from what MES left
NO_SUPPORTERS = "no_supporters"
UNEXPLAINED = "unexplained"  # a record of a rule this page does not know: the engine's text

# pabutools' satisfaction classes for the engine's satisfactions.
PABUTOOLS_SAT = {
    "cost": "Cost_Sat",
    "cardinality": "Cardinality_Sat",
    "points": "Additive_Cardinal_Sat",
    "borda": "Additive_Borda_Sat",
}
# Refusals a page shows (fixed sentences, so that the pages' catalogue translates them).
NO_SUCH_RESULT = N_("This portal has no such cycle or budget.")
BALLOTS_WITH_RESULTS = N_("The ballots are published with the results.")
# The measure greedy ranks by, from the satisfaction the rule counted with.
MEASURES = {"cost": "votes", "points": "points_per_won", "borda": "borda_per_won"}


@dataclass(frozen=True)
class Reason:
    kind: str
    facts: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # the engine's own words (English), for UNEXPLAINED


@dataclass(frozen=True)
class ProjectResult:
    code: str
    title_ko: str
    title_en: str
    cost: int
    votes: int  # voters who chose it
    points: int | None  # cumulative ballots: the points given to it
    funded: bool
    funded_position: int | None  # 1 for the first funded in the counting order
    reason: Reason
    # Greedy by votes: how many other projects had as many votes (the tie-breaks ordered them).
    ties: int = 0
    # MES, not funded: the most voted project funded by the equal shares with fewer votes than
    # this one (its own supporters could still pay for it), if any: "why that one, not this".
    fewer_votes_funded: ProjectResult | None = None


@dataclass(frozen=True)
class CycleRef:
    id: int
    name_ko: str
    name_en: str
    fiscal_year: int


@dataclass(frozen=True)
class EnvelopeRef:
    key: str
    name_ko: str
    name_en: str
    scope: str
    budget: int


@dataclass(frozen=True)
class RuleUsed:
    rule: str  # greedy | greedy-threshold | mes | blended
    vote_type: str  # the ballot: knapsack | approval | cumulative | ranked
    measure: str  # votes | points_per_won | borda_per_won
    completion: str | None  # MES: none | add1 | add1-full
    fill: bool  # MES: what is left spent greedily
    tie_break: str  # the engine's chain (max-votes,min-cost,lot:SEED ...)
    threshold: str | None  # greedy-threshold: the minimum number of votes
    vote_weight: str | None  # blended
    committee_weight: str | None
    channel_weights: dict[str, str]
    weighted: bool  # some channel counts other than 1
    starting_share: int | None  # MES: budget / voters, whole won (before any completion)


@dataclass(frozen=True)
class Recount:
    filename: str
    command: str  # the platform's own counting command, with the record's parameters
    pabutools_code: str  # a Python script counting the same rule with pabutools
    # Whether pabutools counts exactly this rule (up to ties, which it breaks by project id):
    # not for the blended rule (committee scores) nor for add1-full (no pabutools option).
    exact: bool


@dataclass(frozen=True)
class EnvelopeResult:
    cycle: CycleRef
    envelope: EnvelopeRef
    published_at: datetime
    rule: RuleUsed
    projects: tuple[ProjectResult, ...]  # funded in counting order, then the others by votes
    voters: int
    total_cost: int
    turnout: Turnout
    recount: Recount
    input_hash: str
    result_hash: str
    published: bool = True

    @property
    def funded(self) -> tuple[ProjectResult, ...]:
        return tuple(p for p in self.projects if p.funded)

    @property
    def left(self) -> int:
        return self.envelope.budget - self.total_cost


@dataclass(frozen=True)
class PendingResult:
    """An envelope whose result is not published: its names only, never a number."""

    cycle: CycleRef
    envelope: EnvelopeRef
    published: bool = False


@dataclass(frozen=True)
class EnvelopeSummary:
    envelope: EnvelopeRef
    voters: int
    funded: int
    projects: int
    total_cost: int


@dataclass(frozen=True)
class PublishedCycle:
    cycle: CycleRef
    published_at: datetime
    envelopes: tuple[EnvelopeSummary, ...]
    turnout: Turnout


def _whole(value: Any) -> int:
    """A record number (an int, or {"approx", "exact"} for a fraction) as whole won, rounded
    down: money shown is never more than there was."""
    if isinstance(value, dict):
        numerator, denominator = (int(part) for part in value["exact"].split("/"))
        return numerator // denominator
    return int(value)


def _fraction(value: Any) -> Fraction:
    if isinstance(value, dict):
        return Fraction(value["exact"])
    return Fraction(value)


def explain(record: dict[str, Any], code: str, costs: dict[str, int]) -> Reason:
    """The reason the record gives for project `code`, as a kind with its facts in won."""
    entry = record["reasons"].get(code)
    if entry is None:
        return Reason(UNEXPLAINED)
    text = entry.get("reason", "")
    selected = entry.get("status") == "selected"
    rule = record.get("rule")
    if not selected and text == "no supporter":
        return Reason(NO_SUPPORTERS)
    if "threshold" in entry and not selected:
        return Reason(
            BELOW_THRESHOLD, {"votes": _whole(entry["votes"]), "threshold": str(entry["threshold"])}
        )
    if "blended_score" in entry:
        left = _blended_left(record, code, costs)
        if selected:
            return Reason(BLENDED_FUNDED, {"rank": entry["rank"], "budget_left": left})
        return Reason(BLENDED_SKIPPED, {"rank": entry["rank"], "cost": costs[code], "budget_left": left})
    if "budget_left" in entry:
        facts = {"rank": entry["rank"], "cost": costs[code], "budget_left": _whole(entry["budget_left"])}
        if rule == "mes":  # only the greedy fill after MES records a rank
            return Reason(FILL_FUNDED if selected else GREEDY_SKIPPED, facts)
        if selected:
            return Reason(GREEDY_FUNDED, facts)
        if text.startswith("not reached"):
            return Reason(GREEDY_NOT_REACHED, facts)
        return Reason(GREEDY_SKIPPED, facts)
    if "price_per_utility" in entry and selected:
        facts = {"round": entry["round"], "per_supporter": None}
        if record["spec"].get("sat") == "cost":
            # With cost satisfaction a supporter's utility is the cost, so the most any one
            # supporter paid is rho x cost.
            facts["per_supporter"] = _ceil(_fraction(entry["price_per_utility"]) * costs[code])
        return Reason(MES_FUNDED, facts)
    if "supporters_money" in entry and not selected:
        fill_left = None
        if record["spec"].get("fill") == "greedy":
            fill_left = _whole(record["budget"]) - _whole(record["total_cost"])
        return Reason(
            MES_SHORT,
            {
                "round": entry["round"],
                "supporters_money": _whole(entry["supporters_money"]),
                "cost": costs[code],
                "fill_left": fill_left,
            },
        )
    if selected and entry.get("round") == 0:
        return Reason(FREE)
    return Reason(UNEXPLAINED, text=text)


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


def _blended_left(record: dict[str, Any], code: str, costs: dict[str, int]) -> int:
    """What was left of the budget when the blended ranking reached `code` (the record keeps
    the ranks; the money left follows from the funded projects ranked before it)."""
    rank = record["reasons"][code]["rank"]
    spent = sum(costs[p] for p in record["order"] if record["reasons"].get(p, {}).get("rank", rank) < rank)
    return _whole(record["budget"]) - spent


def _rule(record: dict[str, Any], vote_type: str) -> RuleUsed:
    spec = record["spec"]
    weights = dict(record.get("channel_weights", {}))
    voters = record["voters"]
    mes = record["rule"] == "mes"
    return RuleUsed(
        rule=record["rule"],
        vote_type=vote_type,
        measure=MEASURES.get(spec.get("sat", "cost"), "votes"),
        completion=spec.get("completion") if mes else None,
        fill=mes and spec.get("fill") == "greedy",
        tie_break=record["tie_break"],
        threshold=spec.get("threshold"),
        vote_weight=None if spec.get("vote_weight") is None else str(spec["vote_weight"]),
        committee_weight=None if spec.get("committee_weight") is None else str(spec["committee_weight"]),
        channel_weights=weights,
        weighted=any(Fraction(w) != 1 for w in weights.values()),
        starting_share=_whole(record["budget"]) // voters if mes and voters else None,
    )


def _recount(tenant: TenantRef, cycle: Cycle, envelope: Envelope, record: dict[str, Any]) -> Recount:
    spec = record["spec"]
    rule = record["rule"]
    filename = pabulib_filename(tenant, cycle, envelope)
    sat = spec.get("sat", "cost")
    parts = ["chamyeo", "count", filename]
    if rule == "blended":
        # The blend needs the committee's scores, which a pabulib file does not carry.
        parts += ["--rule", "greedy"]
    elif rule == "mes":
        parts += ["--rule", "mes", "--sat", sat, "--completion", spec["completion"], "--fill", spec["fill"]]
    else:
        parts += ["--rule", rule, "--sat", sat]
        if spec.get("threshold") is not None:
            parts += ["--threshold", str(spec["threshold"])]
    parts += ["--tie-break", f"'{record['tie_break']}'"]
    sat_class = PABUTOOLS_SAT.get(sat, "Cost_Sat")
    lines = [
        f"from pabutools.election import parse_pabulib, {sat_class}",
        "from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares",
        "",
        f'instance, profile = parse_pabulib("{filename}")',
    ]
    if rule == "mes":
        increment = "1" if spec.get("completion") in ("add1", "add1-full") else "None"
        lines.append(
            f"funded = method_of_equal_shares(instance, profile, sat_class={sat_class}, "
            f"voter_budget_increment={increment})"
        )
        if spec.get("fill") == "greedy":
            lines.append(
                f"funded = greedy_utilitarian_welfare(instance, profile, sat_class={sat_class}, "
                "is_sat_additive=True, initial_budget_allocation=funded)"
            )
    else:
        lines.append(
            f"funded = greedy_utilitarian_welfare(instance, profile, sat_class={sat_class}, "
            "is_sat_additive=True)"
        )
    lines.append("print(sorted(project.name for project in funded))")
    return Recount(
        filename,
        " ".join(parts),
        "\n".join(lines),
        exact=rule != "blended" and spec.get("completion") != "add1-full",
    )


def pabulib_filename(tenant: TenantRef, cycle: Cycle, envelope: Envelope) -> str:
    return f"{tenant.slug}_{cycle.id}_{envelope.key}.pb"


def _cycle_ref(cycle: Cycle) -> CycleRef:
    return CycleRef(cycle.id, cycle.name_ko, cycle.name_en, cycle.fiscal_year)


def _envelope_ref(envelope: Envelope) -> EnvelopeRef:
    return EnvelopeRef(envelope.key, envelope.name_ko, envelope.name_en, envelope.scope, envelope.budget)


def area_code(tenant: TenantRef, envelope: Envelope) -> str | None:
    """The official area whose residents an envelope counts: the municipality for a citywide
    budget, the dong (or the district's code, where it is an official one) otherwise."""
    if envelope.scope == "citywide":
        return tenant.region_code
    return envelope.area_code


def _eligible(tenant: TenantRef, cycle: Cycle, code: str | None) -> Eligible | None:
    rules = cycle.eligibility or {}
    return eligible_population(code, int(rules.get("min_age") or 0), rules.get("max_age"))


def _published(session: Session, cycle_id: int) -> dict[int, Result]:
    results = session.scalars(
        select(Result).where(Result.cycle_id == cycle_id, Result.published_at.is_not(None))
    )
    return {r.envelope_id: r for r in results}


def _cycle(session: Session, cycle_id: int) -> Cycle:
    try:
        return cycle_or_404(session, cycle_id)
    except NotFound:
        raise NotFound(NO_SUCH_RESULT) from None


def _envelope(cycle: Cycle, key: str) -> Envelope:
    envelope = next((e for e in cycle.envelopes if e.key == key), None)
    if envelope is None:
        raise NotFound(NO_SUCH_RESULT)
    return envelope


def published_cycles(session: Session, tenant: TenantRef) -> list[PublishedCycle]:
    """The cycles with published results, newest first, each envelope that had projects
    summarised."""
    cycle_ids = session.scalars(
        select(Result.cycle_id)
        .where(Result.published_at.is_not(None))
        .group_by(Result.cycle_id)
        .order_by(Result.cycle_id.desc())
    ).all()
    shown = []
    for cycle_id in cycle_ids:
        cycle = cycle_or_404(session, cycle_id)
        results = _published(session, cycle.id)
        summaries = tuple(
            EnvelopeSummary(
                _envelope_ref(e),
                results[e.id].record["voters"],
                len(results[e.id].record["selected"]),
                len(results[e.id].record["reasons"]),
                _whole(results[e.id].record["total_cost"]),
            )
            for e in cycle.envelopes
            if e.id in results and results[e.id].record["reasons"]  # envelopes with projects
        )
        shown.append(
            PublishedCycle(
                _cycle_ref(cycle),
                min(r.published_at for r in results.values() if r.published_at is not None),
                summaries,
                cycle_turnout(session, cycle.id, _eligible(tenant, cycle, tenant.region_code)),
            )
        )
    shown.sort(key=lambda c: (c.cycle.fiscal_year, c.cycle.id), reverse=True)
    return shown


def envelope_result(
    session: Session, tenant: TenantRef, cycle_id: int, envelope_key: str
) -> EnvelopeResult | PendingResult:
    """One envelope's published result; a `PendingResult` (names only) before publication.
    NotFound for a cycle or envelope the tenant does not have."""
    cycle = _cycle(session, cycle_id)
    envelope = _envelope(cycle, envelope_key)
    result = _published(session, cycle.id).get(envelope.id)
    if result is None or result.published_at is None:
        return PendingResult(_cycle_ref(cycle), _envelope_ref(envelope))
    record = result.record
    projects = list(
        session.scalars(select(Project).where(Project.envelope_id == envelope.id).order_by(Project.code))
    )
    tally = {
        project_id: (voters, points)
        for project_id, voters, points in session.execute(
            select(BallotChoice.project_id, func.count(), func.sum(BallotChoice.value))
            .where(BallotChoice.envelope_id == envelope.id)
            .group_by(BallotChoice.project_id)
        ).all()
    }
    costs = {p.code: p.cost for p in projects}
    selected = set(record["selected"])
    position = {code: i for i, code in enumerate(record["order"], 1)}
    cumulative = cycle.ballot.get("type") == "cumulative"
    rows = []
    for p in projects:
        voters, points = tally.get(p.id, (0, 0))
        rows.append(
            ProjectResult(
                code=p.code,
                title_ko=p.title_ko,
                title_en=p.title_en,
                cost=p.cost,
                votes=voters,
                points=int(points or 0) if cumulative else None,
                funded=p.code in selected,
                funded_position=position.get(p.code) if p.code in selected else None,
                reason=explain(record, p.code, costs),
            )
        )
    rule = _rule(record, cycle.ballot.get("type", ""))
    if rule.measure == "votes" and not rule.weighted:
        same = Counter(r.votes for r in rows)
        rows = [
            replace(r, ties=same[r.votes] - 1) if r.reason.kind in (GREEDY_FUNDED, GREEDY_SKIPPED) else r
            for r in rows
        ]
    if rule.rule == "mes":
        bought = [r for r in rows if r.reason.kind == MES_FUNDED]
        rows = [
            replace(r, fewer_votes_funded=max(fewer, key=lambda f: (f.votes, f.code)))
            if r.reason.kind == MES_SHORT and (fewer := [b for b in bought if b.votes < r.votes])
            else r
            for r in rows
        ]
    rows.sort(key=lambda r: (not r.funded, r.funded_position or 0, -r.votes, r.code))
    return EnvelopeResult(
        cycle=_cycle_ref(cycle),
        envelope=_envelope_ref(envelope),
        published_at=result.published_at,
        rule=rule,
        projects=tuple(rows),
        voters=record["voters"],
        total_cost=_whole(record["total_cost"]),
        turnout=envelope_turnout(session, envelope.id, _eligible(tenant, cycle, area_code(tenant, envelope))),
        recount=_recount(tenant, cycle, envelope, record),
        input_hash=result.input_hash,
        result_hash=result.result_hash,
    )


def published_pabulib(
    session: Session, tenant: TenantRef, cycle_id: int, envelope_key: str
) -> tuple[str, str]:
    """(file name, text) of an envelope's ballots as pabulib, the export's very text; NotFound
    before the result is published (the ballots are published with the results)."""
    cycle = _cycle(session, cycle_id)
    envelope = _envelope(cycle, envelope_key)
    if envelope.id not in _published(session, cycle.id):
        raise NotFound(BALLOTS_WITH_RESULTS)
    return pabulib_filename(tenant, cycle, envelope), export_pabulib(session, tenant, cycle_id, envelope_key)
