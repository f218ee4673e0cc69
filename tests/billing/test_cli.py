"""`chamyeo billing` against the test database and the fake Stripe (the gateway the fixture
installs is the one the commands use)."""

from __future__ import annotations

import json
from datetime import date

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select, text

from saas.cli import main
from saas.control.billing import reconciliation
from saas.control.billing.models import (
    BillingAlert,
    BillingInvoice,
    LedgerEntry,
    Subscription,
    SubsidyProgram,
    TierAssignment,
)
from saas.control.billing.services import subsidy
from saas.core.tenancy.binding import session_without_tenant
from tests.billing.stripe_events import deliver, pay_out_of_band, process


@pytest.fixture
def run(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["billing", *args], catch_exceptions=False)

    return invoke


def _unused_year(engine) -> int:
    with session_without_tenant(engine) as session:
        return max(session.scalar(select(func.max(SubsidyProgram.fiscal_year))) or 0, 2200) + 1


def test_plans_are_created_once_and_listed_with_the_default_marked(run, stripe_fake, engine):
    created = run("plans", "create", "cli-basic", "--name", "Basic", "--amount", "900000")
    assert created.exit_code == 0, created.output
    assert "cli-basic\t900000 won/month\tprice_" in created.output
    again = run("plans", "create", "cli-basic", "--name", "Basic", "--amount", "1")
    assert again.exit_code == 1 and "exists already" in again.output
    listing = run("plans", "list").output
    assert "  cli-basic\tBasic\t900000 won/month" in listing  # not the default: no *


def test_a_program_takes_tier_rates_and_assignments_with_evidence(run, engine, make_tenant):
    year = str(_unused_year(engine))
    tenant = make_tenant("mokpo_cli_tiers", low_tier=True)
    tiers = ["--tier", "low:7000:0:20", "--tier", "high:3000:20:101"]
    bad = run(
        "programs", "create", f"pb-{year}", "--name", "PB", "--year", year, "--budget", "5", "--tier", "x"
    )
    assert bad.exit_code == 2 and "NAME:RATE_BP:MIN_PCT:MAX_PCT" in bad.output
    created = run("programs", "create", f"pb-{year}", "--name", "PB", "--year", year, "--budget", "5000000",
                  "--basic-only", *tiers)  # fmt: skip
    assert created.exit_code == 0, created.output
    without_evidence = run("programs", "assign", f"pb-{year}", tenant.slug, "--from", f"{year}-01-01",
                           "--tier", "high")  # fmt: skip
    assert without_evidence.exit_code == 2 and "--evidence" in without_evidence.output
    assigned = run("programs", "assign", f"pb-{year}", tenant.slug, "--from", f"{year}-01-01",
                   "--tier", "high", "--evidence", "행정안전부 결정 2024-17")  # fmt: skip
    assert assigned.exit_code == 0, assigned.output
    versioned = run("programs", "rates", f"pb-{year}", "--from", f"{year}-07-01", "--tier", "high:4000:0:101")
    assert versioned.exit_code == 0 and "rates version 2" in versioned.output
    wrong_year = run("programs", "rates", f"pb-{year}", "--from", "2001-07-01", "--tier", "high:1:0:101")
    assert wrong_year.exit_code == 1 and f"fiscal year {year}" in wrong_year.output
    unknown_tier = run("programs", "assign", f"pb-{year}", tenant.slug, "--from", f"{year}-08-01",
                       "--tier", "low", "--evidence", "x")  # fmt: skip
    assert unknown_tier.exit_code == 1 and "no tier 'low'" in unknown_tier.output  # version 2 has none
    with session_without_tenant(engine) as session:
        rows = session.scalars(select(TierAssignment).where(TierAssignment.tenant_id == tenant.id)).all()
    assert [(r.tier, r.evidence, r.created_by) for r in rows] == [("high", "행정안전부 결정 2024-17", "cli")]
    listing = run("programs", "list", "--year", year).output
    assert f"pb-{year}\t{year}\tbudget=5000000 available=5000000 reserved=0" in listing


def test_renewal_month_close_and_reconciliation_from_the_command_line(
    run, engine, webhook_app, stripe_fake, stripe_gateway, default_plan, current_programs, make_tenant
):
    client = webhook_app.test_client()
    tenant = make_tenant("mokpo_cli_flow", low_tier=True)
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    with session_without_tenant(engine) as session:
        subscription = session.scalar(select(Subscription).where(Subscription.tenant_id == tenant.id))
    paying = current_programs.paying_the_renewal_of(stripe_gateway, subscription)
    prepared = run("prepare-renewals")
    assert prepared.exit_code == 0, prepared.output
    mine = next(line for line in prepared.output.splitlines() if line.startswith(f"{tenant.slug}\t"))
    amount = int(mine.split("\t")[1].removesuffix(" won"))
    assert amount == default_plan.amount * 7000 // 10000  # 목포시 is in the 70 % tier
    run("prepare-renewals")  # again: the line already waiting is not added twice
    pending = stripe_gateway.pending_invoice_items(customer=subscription.stripe_customer_id)
    assert [item["amount"] for item in pending] == [-amount]

    renewed = requests.post(
        f"{stripe_fake.url}/_fake/subscriptions/{subscription.stripe_subscription_id}/renew",
        headers={"Authorization": "Bearer sk_test_x"},
        timeout=5,
    ).json()
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    with session_without_tenant(engine) as session:
        assert subsidy.live_subsidy_on_invoice(session, renewed["id"]) == amount
        draft = session.scalar(
            select(BillingInvoice).where(
                BillingInvoice.program_id == paying.id, BillingInvoice.status == "draft"
            )
        )
    closed = run("close-month", "--month", f"{draft.month:%Y-%m}")
    assert closed.exit_code == 0, closed.output
    assert (
        f"{paying.code}\t{draft.month:%Y-%m}\t{draft.stripe_invoice_id}\topen\t" in closed.output
    )
    # The month closes for every program with lines in it (in December, this year's program
    # took the first invoice and next year's the renewal): the ministry pays each invoice.
    for sent in (line.split("\t")[2] for line in closed.output.splitlines() if "\topen\t" in line):
        pay_out_of_band(stripe_fake, sent)
    process(engine, stripe_gateway, deliver(client, stripe_fake))

    stripe_gateway.create_credit_note(
        invoice=renewed["id"],
        amount=777,
        memo="by hand",
        metadata={"chamyeo": "subsidy"},
        idempotency_key="cli",
    )
    stripe_fake.fake.take_outbox()
    found = run("reconcile")
    with session_without_tenant(engine) as session:
        expected = reconciliation.reconcile(session, stripe_gateway)
        alert = session.scalar(select(BillingAlert).where(BillingAlert.key.contains(renewed["id"])))
    assert found.exit_code == 1 and "difference(s) between Stripe and the ledger" in found.output
    assert (
        f"{renewed['id']}\ttenant {tenant.id}\tmunicipality subsidy\tStripe {amount + 777} won"
        in found.output
    )
    assert len([line for line in found.output.splitlines() if "\t" in line]) == len(expected)
    assert alert is not None and alert.kind == "reconciliation"


def test_export_is_byte_identical_and_verify_names_the_tampered_entry(run, engine, make_program, tmp_path):
    program = make_program(3_000_000)
    with session_without_tenant(engine) as session:
        session.add(
            TierAssignment(program_id=program.id, tenant_id=4242, tier="middle",
                           valid_from=date(program.fiscal_year, 1, 1), evidence="test", created_by="test")
        )  # fmt: skip
        session.commit()
        subsidy.do_reserve(
            session,
            tenant_id=4242,
            service_start=date(program.fiscal_year, 3, 1),
            subsidizable=10,
            subtotal=10,
        )
    for fmt in ("csv", "json"):
        first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        assert run("export", program.code, "--format", fmt, str(first)).exit_code == 0
        assert run("export", str(program.id), "--format", fmt, str(second)).exit_code == 0
        assert first.read_bytes() == second.read_bytes()
    rows = json.loads((tmp_path / "a.json").read_bytes())
    assert [(r["kind"], r["account"], r["amount"]) for r in rows][-2:] == [
        ("reservation", "available", -5),
        ("reservation", "reserved", 5),
    ]
    assert run("verify", program.code).output == f"{program.code}: ledger intact, 2 entries\n"
    assert run("verify", "no-such-program").exit_code == 1

    with session_without_tenant(engine) as session:
        reservation = session.scalar(
            select(LedgerEntry).where(LedgerEntry.program_id == program.id, LedgerEntry.kind == "reservation")
        )
    _tamper(engine, reservation.id, '{"amount": 1}')
    try:
        broken = run("verify", program.code)
        assert broken.exit_code == 1
        assert f"entry {reservation.id}: content does not match its hash" in broken.output
    finally:
        _tamper(engine, reservation.id, '{"amount": 5}')
    assert run("verify", program.code).exit_code == 0


def _tamper(engine, entry_id: int, patch: str) -> None:
    """What an intruder with superuser rights could do. DDL is transactional: the trigger is
    off only inside this transaction, which nobody else sees."""
    with engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE control.ledger_entries DISABLE TRIGGER ledger_entries_append_only")
        )
        connection.execute(
            text("UPDATE control.ledger_entries SET inputs = inputs || CAST(:p AS jsonb) WHERE id = :e"),
            {"p": patch, "e": entry_id},
        )
        connection.execute(
            text("ALTER TABLE control.ledger_entries ENABLE TRIGGER ledger_entries_append_only")
        )
