"""The ledger's invariants: floor rounding, the budget cap, no overdraft under concurrency,
fiscal year by service period, versioned tiers, append-only tables, tamper detection."""

from __future__ import annotations

import threading
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from saas.control.billing.models import BillingAlert, LedgerEntry, TierAssignment
from saas.control.billing.services import ledger, subsidy
from saas.core.tenancy.binding import session_without_tenant

PLAN = 1_000_000


def _assign_directly(engine, program, tenant_ids, tier="middle", valid_from=None):
    # Reservations need only a tier assignment; these tenant ids stand for municipalities.
    with session_without_tenant(engine) as session:
        for tenant_id in tenant_ids:
            session.add(
                TierAssignment(
                    program_id=program.id,
                    tenant_id=tenant_id,
                    tier=tier,
                    valid_from=valid_from or date(program.fiscal_year, 1, 1),
                    evidence="test",
                    created_by="test",
                )
            )
        session.commit()


def _reserve(engine, program, tenant_id, *, start=None, amount=PLAN):
    with session_without_tenant(engine) as session:
        return subsidy.do_reserve(
            session,
            tenant_id=tenant_id,
            service_start=start or date(program.fiscal_year, 3, 1),
            subsidizable=amount,
            subtotal=amount,
        )


def test_the_rate_is_floored_to_the_won(engine, make_program):
    program = make_program(10**9)
    _assign_directly(engine, program, [501], tier="high")
    reservation = _reserve(engine, program, 501, amount=999_999)
    assert reservation.amount == 333_299  # 999,999 × 33.33 % = 333,299.6667
    assert reservation.inputs["rate_bp"] == 3333 and reservation.inputs["cap_applied"] == "none"


def test_the_third_gets_the_remainder_and_the_fourth_none_with_an_alert(engine, make_program, db_session):
    program = make_program(1_250_000)  # two full subsidies of 500,000 and half of one
    _assign_directly(engine, program, [601, 602, 603, 604])
    granted = [_reserve(engine, program, t).amount for t in (601, 602, 603, 604)]
    assert granted == [500_000, 500_000, 250_000, 0]
    fourth = _reserve(engine, program, 604)
    assert fourth.inputs["cap_applied"] == "budget" and fourth.inputs["budget_before"] == 0
    alerts = db_session.scalars(select(BillingAlert).where(BillingAlert.program_id == program.id)).all()
    assert {a.tenant_id for a in alerts} == {603, 604}
    assert ledger.balances(db_session, program.id)["available"] == 0


def test_twenty_concurrent_reservations_never_overdraw_a_budget_for_five(engine, make_program, db_session):
    program = make_program(5 * 500_000)
    tenants = list(range(701, 721))
    _assign_directly(engine, program, tenants)
    barrier = threading.Barrier(len(tenants))
    results: dict[int, int] = {}

    def reserve(tenant_id: int) -> None:
        barrier.wait()
        results[tenant_id] = _reserve(engine, program, tenant_id).amount

    threads = [threading.Thread(target=reserve, args=(t,)) for t in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values(), reverse=True)[:6] == [500_000] * 5 + [0]
    assert sum(results.values()) == 5 * 500_000
    balances = ledger.balances(db_session, program.id)
    assert balances["available"] == 0 and balances["reserved"] == 5 * 500_000
    assert ledger.verify(db_session, program.id).ok


def test_the_service_period_decides_the_fiscal_year(engine, make_program):
    first = make_program(10**9, fiscal_year=2071)
    second = make_program(
        10**9, fiscal_year=2072, tiers=[{"tier": "middle", "rate_bp": 1000, "min_pct": 0, "max_pct": 101}]
    )
    _assign_directly(engine, first, [801])
    _assign_directly(engine, second, [801])
    december = _reserve(engine, first, 801, start=date(2071, 12, 31))
    january = _reserve(engine, first, 801, start=date(2072, 1, 1))  # billed in 2071, served in 2072
    assert (december.program_id, december.amount) == (first.id, 500_000)
    assert (january.program_id, january.amount) == (second.id, 100_000)


def test_a_mid_year_tier_change_applies_from_its_date(engine, make_program, db_session):
    program = make_program(10**9)
    year = program.fiscal_year
    _assign_directly(engine, program, [901], tier="low")
    _assign_directly(engine, program, [901], tier="high", valid_from=date(year, 7, 1))
    assert _reserve(engine, program, 901, start=date(year, 6, 1)).amount == 700_000
    assert _reserve(engine, program, 901, start=date(year, 7, 1)).amount == 333_300
    # a new rate version from October changes later periods only
    from saas.control.billing.services.programs import do_add_rate_version

    tiers = [{"tier": "high", "rate_bp": 2000, "min_pct": 0, "max_pct": 101}]
    do_add_rate_version(db_session, program.id, effective_from=date(year, 10, 1), tiers=tiers, actor="test")
    assert _reserve(engine, program, 901, start=date(year, 9, 1)).inputs["rate_version"] == 1
    assert _reserve(engine, program, 901, start=date(year, 10, 1)).amount == 200_000


def test_an_event_is_recorded_once_and_reversed_once(engine, make_program, db_session):
    program = make_program(10**6)
    lines = [ledger.Line("available", -10), ledger.Line("reserved", 10, 1)]
    first, created = ledger.post(
        db_session, program_id=program.id, idempotency_key=f"k{program.id}", kind="reservation", lines=lines
    )
    again, created_again = ledger.post(
        db_session, program_id=program.id, idempotency_key=f"k{program.id}", kind="reservation", lines=lines
    )
    assert created and not created_again and again.id == first.id
    reversal, _ = ledger.reverse(db_session, first, idempotency_key=f"r{program.id}", reason="test")
    second, _ = ledger.reverse(db_session, first, idempotency_key=f"r2{program.id}", reason="test")
    assert second.id == reversal.id
    db_session.commit()
    assert ledger.balances(db_session, program.id)["reserved"] == 0
    with pytest.raises(ledger.LedgerError):
        ledger.post(
            db_session,
            program_id=program.id,
            idempotency_key="x",
            kind="bad",
            lines=[ledger.Line("available", -10), ledger.Line("reserved", 9)],
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE control.ledger_lines SET amount = amount + 1",
        "DELETE FROM control.ledger_entries",
        "UPDATE control.ledger_entries SET kind = 'x'",
        "TRUNCATE control.ledger_lines CASCADE",
        "DELETE FROM control.subsidy_tier_assignments",
        "UPDATE control.subsidy_tier_rates SET rate_bp = 10000",
    ],
)
def test_the_database_refuses_to_change_the_ledger(engine, make_program, statement):
    make_program(100)
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(statement))


def test_the_database_refuses_an_entry_whose_lines_do_not_balance(engine, make_program, db_session):
    program = make_program(100)
    entry = db_session.scalar(select(LedgerEntry).where(LedgerEntry.program_id == program.id))
    db_session.execute(
        text("INSERT INTO control.ledger_lines (entry_id, account, amount) VALUES (:e, 'available', 1)"),
        {"e": entry.id},
    )
    with pytest.raises(DBAPIError, match="does not balance"):
        db_session.commit()


def test_verify_names_the_first_tampered_entry(engine, make_program):
    program = make_program(3 * 500_000)
    _assign_directly(engine, program, [1001, 1002, 1003])
    for tenant_id in (1001, 1002, 1003):
        _reserve(engine, program, tenant_id)
    with session_without_tenant(engine) as session:
        assert ledger.verify(session, program.id).ok
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.program_id == program.id).order_by(LedgerEntry.id)
        ).all()
        second_reservation = entries[2]
        # What an intruder with superuser rights could do; rolled back below.
        session.execute(text("ALTER TABLE control.ledger_lines DISABLE TRIGGER ledger_lines_append_only"))
        session.execute(
            text("UPDATE control.ledger_lines SET amount = -amount WHERE entry_id = :e"),
            {"e": second_reservation.id},
        )
        session.expire_all()
        report = ledger.verify(session, program.id)
        assert (report.first_broken_id, report.problem) == (
            second_reservation.id,
            "content does not match its hash",
        )
        session.rollback()


def test_verify_and_export_read_the_lines_in_one_query_not_one_per_entry(engine, make_program):
    from sqlalchemy import event

    from saas.control.billing.services import reports

    program = make_program(10**9)
    _assign_directly(engine, program, [901, 902, 903, 904, 905])
    for tenant_id in (901, 902, 903, 904, 905):
        _reserve(engine, program, tenant_id)
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_without_tenant(engine) as session:
            statements.clear()
            report = ledger.verify(session, program.id)
            verify_statements = len(statements)
        with session_without_tenant(engine) as session:  # a fresh session: no lines loaded yet
            statements.clear()
            rows = reports.export_rows(session, program.id, None, None)
            export_statements = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert report.ok and report.entries == 6  # the opening entry and five reservations
    assert len(rows) == 12
    assert verify_statements <= 2 and export_statements <= 2


def test_the_export_period_is_of_korean_calendar_days_whatever_the_session_time_zone(
    make_program, db_session
):
    from datetime import timedelta

    from saas.control.billing.services import reports
    from saas.core.clock import SEOUL

    program = make_program(10**6)
    lines = [ledger.Line("available", -10), ledger.Line("reserved", 10, 1)]
    entry, _ = ledger.post(
        db_session, program_id=program.id, idempotency_key=f"tz{program.id}", kind="reservation", lines=lines
    )
    db_session.commit()
    korean_day = entry.occurred_at.astimezone(SEOUL).date()
    # A session time zone in which the entry falls on another day than in Seoul, now: one of
    # UTC-12 and UTC+14 always does.
    zone = next(
        z
        for z in ("Etc/GMT+12", "Etc/GMT-14")
        if entry.occurred_at.astimezone(ZoneInfo(z)).date() != korean_day
    )
    other_day = entry.occurred_at.astimezone(ZoneInfo(zone)).date()
    db_session.execute(text(f"SET TIME ZONE '{zone}'"))
    db_session.expire_all()  # entries are read again, their times in the session's zone

    def exported(period_from, period_to) -> set[int]:
        rows = reports.export_rows(db_session, program.id, period_from, period_to)
        return {row["entry_id"] for row in rows}

    assert entry.id in exported(korean_day, korean_day)
    assert entry.id not in exported(other_day, other_day)
    assert entry.id not in exported(korean_day + timedelta(days=1), None)
    assert entry.id not in exported(None, korean_day - timedelta(days=1))
    db_session.execute(text("SET TIME ZONE DEFAULT"))
