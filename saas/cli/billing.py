"""`chamyeo billing`: plans, subsidy programs, the billing calendar's jobs, and the auditor's
export and verify. Stripe is the one configured by STRIPE_API_KEY (or STRIPE_API_BASE for the
fake); the commands that only read the ledger need neither."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from saas.cli.context import attached_settings, database_engine

if TYPE_CHECKING:
    from saas.control.billing.models import SubsidyProgram

ACTOR = "cli"


@contextmanager
def _engine() -> Iterator[Engine]:
    """The database engine, with this process's Stripe gateway taken from the same settings."""
    from saas.control.billing import gateway

    with attached_settings() as settings, database_engine(settings) as engine:
        gateway.configure_unless_set(settings)
        yield engine


@contextmanager
def _session() -> Iterator[Session]:
    from saas.core.tenancy.binding import session_without_tenant

    with _engine() as engine, session_without_tenant(engine) as session:
        yield session


def _program(session: Session, code_or_id: str) -> SubsidyProgram:
    from saas.control.billing.models import SubsidyProgram

    statement = select(SubsidyProgram).where(SubsidyProgram.code == code_or_id)
    program = session.scalar(statement)
    if program is None and code_or_id.isdigit():
        program = session.get(SubsidyProgram, int(code_or_id))
    if program is None:
        raise click.ClickException(f"no subsidy program {code_or_id!r}")
    return program


def _tier(text: str) -> dict[str, Any]:
    """`NAME:RATE_BP:MIN_PCT:MAX_PCT`, e.g. `low:7000:0:20` (70 % for ratios in [0, 20))."""
    try:
        name, rate, low, high = text.split(":")
        return {"tier": name, "rate_bp": int(rate), "min_pct": int(low), "max_pct": int(high)}
    except ValueError:
        raise click.BadParameter(f"{text!r} is not NAME:RATE_BP:MIN_PCT:MAX_PCT") from None


def _month(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not YYYY-MM") from None


TIER_HELP = "NAME:RATE_BP:MIN_PCT:MAX_PCT (repeat), e.g. low:7000:0:20 = 70 % below 20 % independence"


@click.group()
def billing() -> None:
    """Plans, subsidy programs, renewals, the ministry's monthly invoice, reconciliation."""


# ---- plans ----------------------------------------------------------------------------------
@billing.group()
def plans() -> None:
    """What municipalities subscribe to."""


@plans.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--amount", type=click.IntRange(min=0), required=True, help="Won per interval.")
@click.option("--interval", type=click.Choice(["month", "year"]), default="month", show_default=True)
@click.option("--default", "is_default", is_flag=True, help="New tenants subscribe to it.")
def create_plan(code: str, name: str, amount: int, interval: str, is_default: bool) -> None:
    """Create a plan and its Stripe product and price."""
    from saas.control.billing import gateway
    from saas.control.billing.services.subscriptions import do_create_plan

    with _session() as session:
        plan = do_create_plan(
            session,
            gateway.current(),
            code=code,
            name=name,
            amount=amount,
            interval=interval,
            is_default=is_default,
            actor=ACTOR,
        )
        click.echo(f"{plan.code}\t{plan.amount} won/{plan.interval}\t{plan.stripe_price_id}")


@plans.command("list")
def list_plans() -> None:
    """Every plan; the default one is marked with *."""
    from saas.control.billing.models import Plan

    with _session() as session:
        for plan in session.scalars(select(Plan).order_by(Plan.code)):
            mark = "*" if plan.is_default else " "
            click.echo(f"{mark} {plan.code}\t{plan.name}\t{plan.amount} won/{plan.interval}")


# ---- subsidy programs -----------------------------------------------------------------------
@billing.group()
def programs() -> None:
    """The ministry's subsidy programs, their tier rates and tier assignments."""


@programs.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--year", "fiscal_year", type=click.IntRange(2000, 2999), required=True)
@click.option("--budget", type=click.IntRange(min=0), required=True, help="Won.")
@click.option(
    "--tier",
    "tiers",
    multiple=True,
    required=True,
    callback=lambda c, p, v: [_tier(t) for t in v],
    help=TIER_HELP,
)
@click.option("--basic-only", is_flag=True, help="Only 시·군·자치구 are eligible.")
@click.option("--max-fiscal-pct", type=int, help="Only municipalities below this independence ratio.")
@click.option("--region-prefix", "prefixes", multiple=True, help="Only these 시도 codes (repeat).")
def create_program(
    code: str,
    name: str,
    fiscal_year: int,
    budget: int,
    tiers: list[dict[str, Any]],
    basic_only: bool,
    max_fiscal_pct: int | None,
    prefixes: tuple[str, ...],
) -> None:
    """Open a program for a fiscal year: its budget enters the ledger, rates are version 1."""
    from saas.control.billing.services.programs import do_create_program

    eligibility: dict[str, Any] = {}
    if basic_only:
        eligibility["basic_local_gov_only"] = True
    if max_fiscal_pct is not None:
        eligibility["max_fiscal_independence_pct"] = max_fiscal_pct
    if prefixes:
        eligibility["region_prefixes"] = list(prefixes)
    with _session() as session:
        program = do_create_program(
            session,
            code=code,
            name=name,
            fiscal_year=fiscal_year,
            budget=budget,
            tiers=tiers,
            eligibility=eligibility,
            actor=ACTOR,
        )
        click.echo(f"{program.code}\tfiscal year {program.fiscal_year}\tbudget {program.budget} won")


@programs.command("list")
@click.option("--year", "fiscal_year", type=int)
def list_programs(fiscal_year: int | None) -> None:
    """Each program's budget and where its money is: available, reserved, applied, billed, settled."""
    from saas.control.billing.services import reports

    with _session() as session:
        for view in reports.list_programs(session, fiscal_year):
            amounts = view["amounts"]
            stages = " ".join(
                f"{k}={amounts[k]}" for k in ("available", "reserved", "applied", "billed", "settled")
            )
            click.echo(f"{view['code']}\t{view['fiscal_year']}\tbudget={amounts['budget']} {stages}")


@programs.command("rates")
@click.argument("program")
@click.option(
    "--from",
    "effective_from",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="First service-period day the new rates apply to.",
)
@click.option(
    "--tier",
    "tiers",
    multiple=True,
    required=True,
    callback=lambda c, p, v: [_tier(t) for t in v],
    help=TIER_HELP,
)
def set_rates(program: str, effective_from: Any, tiers: list[dict[str, Any]]) -> None:
    """A new version of the tier rates (earlier service periods keep the old version)."""
    from saas.control.billing.services.programs import do_add_rate_version

    with _session() as session:
        found = _program(session, program)
        version = do_add_rate_version(
            session, found.id, effective_from=effective_from.date(), tiers=tiers, actor=ACTOR
        )
        click.echo(f"{found.code}\trates version {version} from {effective_from:%Y-%m-%d}")


@programs.command("assign")
@click.argument("program")
@click.argument("tenant")
@click.option("--from", "valid_from", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--tier", help="Default: the tier of the municipality's official fiscal independence ratio.")
@click.option("--evidence", help="What the tier rests on (a document, a decision); required with --tier.")
def assign_tier(program: str, tenant: str, valid_from: Any, tier: str | None, evidence: str | None) -> None:
    """Assign a municipality's tier from a date on, with its evidence."""
    from saas.control.billing.services.programs import do_assign_tier
    from saas.core.registry.models import Tenant

    if tier and not evidence:
        raise click.UsageError("a tier set by hand needs --evidence")
    with _session() as session:
        found = _program(session, program)
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
        if tenant_id is None:
            raise click.ClickException(f"no tenant {tenant!r}")
        assignment = do_assign_tier(
            session,
            found.id,
            tenant_id,
            valid_from=valid_from.date(),
            tier=tier,
            evidence=evidence,
            actor=ACTOR,
        )
        click.echo(f"{tenant}\t{assignment.tier}\tfrom {assignment.valid_from}\t{assignment.evidence}")


# ---- the billing calendar -------------------------------------------------------------------
@billing.command("prepare-renewals")
def prepare_renewals() -> None:
    """Reserve each subscription's coming subsidy and put its line on the upcoming invoice."""
    from saas.control.billing import jobs
    from saas.core.registry.models import Tenant

    with _engine() as engine:
        outcomes = jobs.prepare_renewals(engine)
        with _session() as session:
            slugs = {row.id: row.slug for row in session.execute(select(Tenant.id, Tenant.slug))}
    for outcome in outcomes:
        slug = slugs.get(outcome.tenant_id, outcome.tenant_id)
        if outcome.error:
            click.echo(f"{slug}\tFAILED\t{outcome.error}")
        elif outcome.amount:
            inputs = outcome.inputs
            click.echo(
                f"{slug}\t{outcome.amount} won\tfrom {inputs['service_period_start']}\t"
                f"tier {inputs['tier']} {inputs['rate_bp']} bp\tcap {inputs['cap_applied']}"
            )
        else:
            click.echo(f"{slug}\t0 won\t{outcome.inputs.get('reason') or outcome.inputs.get('cap_applied')}")
    failed = sum(1 for o in outcomes if o.error)
    if failed:
        raise click.ClickException(f"{failed} of {len(outcomes)} renewals not prepared")


@billing.command("close-month")
@click.option("--month", help="YYYY-MM (default: the previous month, Korean time).")
def close_month(month: str | None) -> None:
    """Finalize and send the ministry's invoice of each program for the month."""
    from saas.control.billing import jobs

    with _engine() as engine:
        closed = jobs.close_month(_month(month), engine)
    if not closed:
        click.echo("no ministry invoice for that month")
    for row in closed:
        click.echo(
            f"{row['program']}\t{row['month'][:7]}\t{row['invoice']}\t{row['status']}\t{row['amount']} won"
        )


@billing.command()
def reconcile() -> None:
    """Compare Stripe's invoices with the ledger; print every difference (exit 1 if any)."""
    from saas.control.billing import jobs

    with _engine() as engine:
        differences = jobs.reconcile(engine)
    for d in differences:
        who = f"tenant {d['tenant_id']}" if d["tenant_id"] else f"program {d['program_id']}"
        click.echo(
            f"{d['stripe_invoice_id']}\t{who}\t{d['what']}\tStripe {d['stripe_amount']} won\t"
            f"ledger {d['ledger_amount']} won"
        )
    if differences:
        raise click.ClickException(f"{len(differences)} difference(s) between Stripe and the ledger")
    click.echo("Stripe and the ledger agree")


@billing.command()
@click.option(
    "--every", type=click.IntRange(min=1), help="Keep ticking every N seconds (a scheduler process)."
)
def tick(every: int | None) -> None:
    """Enqueue the billing jobs that are due (run it from cron, e.g. hourly)."""
    from saas.control.billing.schedule import tick as enqueue_due
    from saas.core.queue import Queues

    with attached_settings(redis=True) as settings:
        queues = Queues()
        queues.configure(settings)
        while True:
            for name in enqueue_due(queues.get("billing")):
                click.echo(f"enqueued {name}")
            if every is None:
                return
            time.sleep(every)


# ---- the auditor ----------------------------------------------------------------------------
@billing.command()
@click.argument("program")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option("--from", "period_from", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "period_to", type=click.DateTime(["%Y-%m-%d"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export(program: str, fmt: str, period_from: Any, period_to: Any, file: Path) -> None:
    """Write a program's ledger, one row per line (same period, same bytes); FILE - is stdout."""
    from saas.control.billing.services import reports

    with _session() as session:
        found = _program(session, program)
        rows = reports.export_rows(
            session,
            found.id,
            period_from.date() if period_from else None,
            period_to.date() if period_to else None,
        )
    data = reports.export_csv(rows) if fmt == "csv" else reports.export_json(rows)
    if str(file) == "-":
        click.echo(data, nl=False)
        return
    file.write_bytes(data)
    click.echo(f"{len(rows)} lines of {found.code} written to {file}", err=True)


@billing.command()
@click.argument("program")
@click.option("--json", "as_json", is_flag=True)
def verify(program: str, as_json: bool) -> None:
    """Recompute the hash chain and the invariants; name the first broken entry (exit 1)."""
    from saas.control.billing.services import ledger

    with _session() as session:
        found = _program(session, program)
        report = ledger.verify(session, found.id)
    if as_json:
        click.echo(json.dumps({**report.__dict__, "ok": report.ok}))
    if not report.ok:
        raise click.ClickException(
            f"entry {report.first_broken_id}: {report.problem} ({report.entries} checked)"
        )
    if not as_json:
        click.echo(f"{found.code}: ledger intact, {report.entries} entries")
