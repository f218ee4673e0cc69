"""One hash-chain helper for the audit trail and the ledger, hashing the same bytes as before.

The literal hashes below were computed by the audit trail's and the ledger's own encoders
before they moved onto `saas.core.hashchain`: chains already in a database must still verify.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import text

from saas.control.billing.models import LedgerEntry, SubsidyProgram
from saas.control.billing.services import ledger
from saas.core import hashchain
from saas.core.audit.services import event_hash
from saas.core.tenancy.binding import session_without_tenant

KST = timezone(timedelta(hours=9))
WHEN = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=KST)
LATER = datetime(2026, 3, 2, 0, 0, 0, 1, tzinfo=UTC)
PROGRAM_ID = 900_000_001  # far above any id the sequence hands out in a test run

OPENING = {
    "id": 900_000_001,
    "idempotency_key": "hashchain-golden:open",
    "kind": "opening",
    "tenant_id": None,
    "occurred_at": WHEN,
    "inputs": {"budget": 1000, "note": "예산"},
    "stripe": {},
    "reverses_id": None,
    "prev_hash": hashchain.GENESIS_HASH,
    "hash": "35172e0053ce9f30195fbb1a3ccdb5b4afdb814357a78e84d389b9bfe4d824ee",
}
OPENING_LINES = [("appropriation", None, -1000), ("available", None, 1000)]
RESERVATION = {
    "id": 900_000_002,
    "idempotency_key": "hashchain-golden:reserve",
    "kind": "reservation",
    "tenant_id": 12,
    "occurred_at": LATER,
    "inputs": {"rate": 0.5, "tier": "middle"},
    "stripe": {"invoice": "in_1"},
    "reverses_id": None,
    "prev_hash": OPENING["hash"],
    "hash": "aef8210faa5c4308ad376b763556d1b9f3b4aefe28fe7f8079cbe179e8d339a3",
}
RESERVATION_LINES = [("available", None, -500), ("reserved", 12, 500)]


def test_audit_events_hash_as_they_did_before_the_shared_helper():
    data = {"b": [1, "둘", None], "a": {"z": 1.5, "y": True}}
    assert (
        event_hash("0" * 64, WHEN, "account:3", "cycle.open_voting", "seoul", "cycle:7", data)
        == "6b726f57cba557ac57146e17706af5fbd39b75717f7b0ab8164001c4fedbccf8"
    )
    assert (
        event_hash("ab" * 32, WHEN, "system", "tenant.create", None, None, {})
        == "f4381d54aaf465bde0f8a9dac156cfd795e095b495974a6c7f5f4742c725843b"
    )


def test_ledger_entries_hash_as_they_did_before_the_shared_helper():
    for fields, lines in ((OPENING, OPENING_LINES), (RESERVATION, RESERVATION_LINES)):
        entry = LedgerEntry(program_id=PROGRAM_ID, **{k: v for k, v in fields.items() if k != "hash"})
        assert ledger.entry_hash(entry, lines) == fields["hash"]


def test_a_ledger_chain_stored_before_the_change_verifies_after_it(engine):
    with session_without_tenant(engine) as session:
        session.add(
            SubsidyProgram(
                id=PROGRAM_ID, code="hashchain-golden", name="golden", fiscal_year=1990, budget=1000
            )
        )
        session.flush()
        for fields, lines in ((OPENING, OPENING_LINES), (RESERVATION, RESERVATION_LINES)):
            # Written as rows, as an older release left them: the hashes are literals.
            session.execute(
                text(
                    "INSERT INTO control.ledger_entries (id, program_id, idempotency_key, kind, tenant_id,"
                    " occurred_at, inputs, stripe, reverses_id, prev_hash, hash) VALUES (:id, :program,"
                    " :idempotency_key, :kind, :tenant_id, :occurred_at, CAST(:inputs AS jsonb),"
                    " CAST(:stripe AS jsonb), :reverses_id, :prev_hash, :hash)"
                ),
                {
                    **fields,
                    "program": PROGRAM_ID,
                    "inputs": _json(fields["inputs"]),
                    "stripe": _json(fields["stripe"]),
                },
            )
            for account, tenant_id, amount in lines:
                session.execute(
                    text(
                        "INSERT INTO control.ledger_lines (entry_id, account, tenant_id, amount)"
                        " VALUES (:e, :a, :t, :m)"
                    ),
                    {"e": fields["id"], "a": account, "t": tenant_id, "m": amount},
                )
        session.execute(text("SET LOCAL TimeZone = 'Asia/Seoul'"))  # read back in another zone
        report = ledger.verify(session, PROGRAM_ID)
        assert (report.ok, report.entries) == (True, 2)
        # What an intruder with superuser rights could do; rolled back below, as all of this.
        session.execute(text("ALTER TABLE control.ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
        session.execute(text("UPDATE control.ledger_entries SET kind = 'opened' WHERE id = :id"), OPENING)
        session.expire_all()
        report = ledger.verify(session, PROGRAM_ID)
        assert (report.first_broken_id, report.problem, report.entries) == (
            OPENING["id"],
            "content does not match its hash",
            1,
        )
        session.rollback()


def test_verify_names_the_first_broken_link_and_what_broke():
    class Row:
        def __init__(self, id_, prev_hash, content):
            self.id, self.prev_hash, self.content = id_, prev_hash, content
            self.hash = hashchain.link_hash(prev_hash, [content])

    first = Row(1, hashchain.GENESIS_HASH, "a")
    second = Row(2, first.hash, "b")
    third = Row(3, second.hash, "c")

    def hash_of(row):
        return hashchain.link_hash(row.prev_hash, [row.content])

    assert hashchain.verify([first, second, third], hash_of).ok
    assert hashchain.verify([first, third], hash_of) == hashchain.ChainCheck(
        2, 3, "previous-hash link does not match"
    )
    second.content = "B"
    assert hashchain.verify([first, second, third], hash_of) == hashchain.ChainCheck(
        2, 2, "content does not match its hash"
    )
    second.content = "b"
    assert hashchain.verify(
        [first, second, third], hash_of, lambda row: "odd" if row.id == 3 else None
    ) == hashchain.ChainCheck(3, 3, "odd")


def _json(value):
    import json

    return json.dumps(value, ensure_ascii=False)
