"""Who has voted (a mark per person and cycle, across every channel) and the ballots cast.

Marks and ballots are separate tables with no link between them: the secret ballot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import stamped
from tenants.db import TenantBase

CHANNELS = ("online", "onsite", "paper")


class VoterMark(TenantBase):
    """A person struck off the roll of a cycle. The primary key is the one-ballot rule: the
    first channel to insert it wins; every other attempt meets the constraint."""

    __tablename__ = "voter_marks"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(16))  # resident | worker | student
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    district_code: Mapped[str | None] = mapped_column(String(10))
    marked_by: Mapped[str] = mapped_column(String(200))  # the voter online, the officer on site
    marked_at: Mapped[datetime] = stamped()


class Ballot(TenantBase):
    __tablename__ = "ballots"
    __table_args__ = (
        Index("ix_ballots_receipt", "receipt", unique=True, postgresql_where=text("receipt IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    paper_batch_id: Mapped[int | None] = mapped_column(ForeignKey("paper_batches.id", ondelete="CASCADE"))
    paper_number: Mapped[int | None] = mapped_column(Integer)
    cast_at: Mapped[datetime] = stamped()
    # The SHA-256 (hex) of the receipt code handed to the voter (online and on site; a paper
    # ballot has none): the code itself is never stored, so the table cannot print receipts.
    receipt: Mapped[str | None] = mapped_column(String(64))


class BallotDraft(TenantBase):
    """An unfinished selection of one envelope, kept for the person while they browse, until
    they cast their ballot (the statement that casts it deletes it). A draft is not a vote:
    nothing counts it, and it is read only by its own person."""

    __tablename__ = "ballot_drafts"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(128), primary_key=True)  # the voter key
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id", ondelete="CASCADE"), primary_key=True)
    choices: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {"<project id>": value}
    saved_at: Mapped[datetime] = stamped(on_update=True)


class BallotChoice(TenantBase):
    """One project on a ballot: 1 for approval/knapsack, points for cumulative, rank for ranked."""

    __tablename__ = "ballot_choices"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(Integer)


class PaperBatch(TenantBase):
    """Numbered paper ballots, entered twice by two different people; only a reconciled batch
    counts, and only the numbers issued at paper check-ins."""

    __tablename__ = "paper_batches"
    __table_args__ = (UniqueConstraint("cycle_id", "number"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    first_ballot: Mapped[int] = mapped_column(Integer)
    last_ballot: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | reconciled
    reconciled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PaperBallot(TenantBase):
    """A numbered paper ballot handed out at a check-in that struck a person off the roll (the
    check-in's mark and this row are written by one statement, or neither is).

    Nothing here says to whom: the mark names no number and this row names no person, so
    the secret ballot holds. A batch counts a number only if it was issued, and only once
    (`batch_id`: the reconciled batch that accounted for it), so the paper ballots counted
    never outnumber the people checked in for paper."""

    __tablename__ = "paper_ballots"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The voter's dong, as checked at check-in: the envelopes the ballot may be counted in.
    district_code: Mapped[str | None] = mapped_column(String(10))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("paper_batches.id", ondelete="SET NULL"))


class PaperEntry(TenantBase):
    __tablename__ = "paper_entries"
    __table_args__ = (UniqueConstraint("batch_id", "round", "ballot_number"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("paper_batches.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(SmallInteger)  # 1 or 2: the two independent entries
    ballot_number: Mapped[int] = mapped_column(Integer)
    choices: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {"<project id>": value}; {} = blank/invalid
    # The person who entered the round (`account:<id>`), not the credential they used: the
    # two rounds of a batch need two people.
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[datetime] = stamped()


class PlanningRating(TenantBase):
    """In the planning-input phase, a resident rates how much the city should spend on a category."""

    __tablename__ = "planning_ratings"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    category_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    rating: Mapped[int] = mapped_column(SmallInteger)  # 1 (spend less) .. 5 (spend more)
