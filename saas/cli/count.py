"""`chamyeo count FILE.pb`: count a pabulib file and print the outcome as JSON."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from fractions import Fraction
from typing import Any

import click

from tenants.counting.election import format_number
from tenants.counting.mes import COMPLETIONS
from tenants.counting.outcome import json_number
from tenants.counting.pabulib import PabulibError, read_pabulib
from tenants.counting.rules import FILLS, RULES, spec_from_meta
from tenants.counting.rules import count as count_outcome
from tenants.counting.satisfaction import SATISFACTIONS


def money(value: Fraction) -> int | str:
    """Whole amounts as JSON numbers; others as exact decimal strings (never a float)."""
    if value.denominator == 1:
        return value.numerator
    try:
        return format_number(value)
    except ValueError:
        return f"{value.numerator}/{value.denominator}"


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rule", type=click.Choice(RULES), help="default: the file's META rule")
@click.option("--sat", type=click.Choice(SATISFACTIONS), default="cost", show_default=True)
@click.option("--completion", type=click.Choice(COMPLETIONS), help="MES only")
@click.option("--fill", type=click.Choice(FILLS), help="MES only: spend what is left greedily")
@click.option("--tie-break", default="id", show_default=True,
              help="id, or a chain such as min-cost,max-votes,lot:SEED")
@click.option("--threshold", help="greedy-threshold: minimum votes (default: META)")
@click.option("--explain", is_flag=True, help="add why each project is in or out")
def count(file, rule, sat, completion, fill, tie_break, threshold, explain):
    """Count a pabulib FILE and print the outcome as JSON."""
    try:
        election = read_pabulib(file)
    except PabulibError as exc:
        raise SystemExit(fail(f"{file}: {exc}")) from None
    spec = spec_from_meta(election.meta)
    if rule is not None and rule != spec.rule:
        spec = replace(spec_from_meta({}), rule=rule, threshold=spec.threshold)
    spec = replace(spec, sat=sat, tie_break=tie_break)
    if completion is not None:
        spec = replace(spec, completion=completion)
    if fill is not None:
        spec = replace(spec, fill=fill)
    try:
        if threshold is not None:
            spec = replace(spec, threshold=Fraction(threshold))
        start = time.perf_counter()
        outcome = count_outcome(election, spec)
        seconds = time.perf_counter() - start
    except ValueError as exc:
        raise SystemExit(fail(str(exc))) from None
    result: dict[str, Any] = {
        "rule": spec.rule,
        "sat": spec.sat,
        "completion": spec.completion if spec.rule == "mes" else None,
        "fill": spec.fill if spec.rule == "mes" else None,
        "tie_break": spec.tie_break,
        "budget": money(election.budget),
        "selected": outcome.selected,
        "order": outcome.order,
        "total_cost": money(outcome.total_cost),
        "seconds": round(seconds, 4),
    }
    if spec.rule == "greedy-threshold":
        assert spec.threshold is not None  # the rule's spec always carries one
        result["threshold"] = money(spec.threshold)
    if explain:
        result["details"] = json_number(outcome.details)
        result["projects"] = {p: r.as_json() for p, r in outcome.reasons.items()}
    click.echo(json.dumps(result, ensure_ascii=False, indent=1))


def fail(message: str) -> int:
    click.echo(f"error: {message}", err=True)
    return 2
