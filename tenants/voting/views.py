"""Voting: the ballot, online votes, on-site check-in, paper batches."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from saas.core.accounts.models import Role
from saas.core.auth import actor, person, require_tenant_role
from saas.core.settings import current_settings
from saas.core.tenancy.context import current_tenant, db_autocommit, db_session
from saas.core.tenancy.web import tenant_blueprint
from tenants.cycles.services import cycle_or_404
from tenants.proposals.models import Project
from tenants.voting import planning, services, sheets
from tenants.voting.keys import caller_voter_key
from tenants.voting.models import PaperBatch
from tenants.voting.rules import entitled_envelopes, with_instructions
from tenants.voting.schemas import (
    BallotViewSchema,
    CheckInSchema,
    OnlineVoteSchema,
    PaperBatchInputSchema,
    PaperBatchSchema,
    PaperEntriesSchema,
    PlanningRatingsSchema,
    PrioritySchema,
    ReconciliationSchema,
    VoterCardSchema,
    VoteReceiptSchema,
)

blp = tenant_blueprint(
    "voting", __name__, url_prefix="/cycles/<id:cycle_id>", description="Voting on every channel."
)
STAFF = (Role.TENANT_ADMIN, Role.STAFF)
SECURED: dict[str, Any] = {"security": [{"bearer": []}]}
# Ballots come in at election-day rates: their input schemas are made once, not per request
# (webargs instantiates a schema class on every call; a schema instance holds no request state).
_CHECK_IN = CheckInSchema()
_ONLINE_VOTE = OnlineVoteSchema()


def _secret() -> str:
    """The voter key secret: its own setting, so rotating SECRET_KEY changes no voter key."""
    return current_settings().voter_key_secret


def _my_key() -> str:
    return caller_voter_key()


def _online_sheet(cycle_id: int) -> sheets.BallotSheet:
    return services.sheet_for_online_vote(db_autocommit(), cycle_id)


@blp.route("/ballot")
class BallotView(MethodView):
    @blp.response(200, BallotViewSchema)
    def get(self, cycle_id: int) -> dict[str, Any]:
        """The ballot: rules and, per envelope, its projects (public). `?district_code=` adds that dong's."""
        from flask import request

        cycle = cycle_or_404(db_session(), cycle_id)
        envelopes = entitled_envelopes(cycle.envelopes, request.args.get("district_code"))
        projects = db_session().scalars(
            select(Project).where(Project.cycle_id == cycle.id).order_by(Project.code)
        )
        by_envelope: dict[int, list[dict[str, Any]]] = {}
        for p in projects:
            by_envelope.setdefault(p.envelope_id, []).append(
                {"id": p.id, "code": p.code, "title_ko": p.title_ko, "title_en": p.title_en, "cost": p.cost}
            )
        return {
            "rules": with_instructions(cycle.ballot),
            "envelopes": [
                {
                    "key": e.key,
                    "name_ko": e.name_ko,
                    "name_en": e.name_en,
                    "budget": e.budget,
                    "projects": by_envelope.get(e.id, []),
                }
                for e in envelopes
            ],
        }


@blp.route("/voter-card")
class VoterCard(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, VoterCardSchema)
    @require_tenant_role(Role.RESIDENT)
    def get(self, cycle_id: int) -> dict[str, Any]:
        """The card a resident shows on site: officers strike them off under the same key."""
        cycle_or_404(db_session(), cycle_id)
        key = _my_key()
        return {"voter_card": key, "voted": services.has_voted(db_session(), cycle_id, key)}


def _online_identity_first(view: Callable[..., Any]) -> Callable[..., Any]:
    """Check that the caller may vote online in the cycle (national IdP, assurance) before the
    ballot is parsed: a sign-in of too low an assurance gets its 403, whatever it sent, as
    a caller without the role does. The sheet read for the check goes to the view."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        g.online_sheet = _online_sheet(kwargs["cycle_id"])
        return view(*args, **kwargs)

    return checked


def _receipt(cast: services.Cast) -> dict[str, Any]:
    return {
        "channel": cast.channel,
        "receipt": cast.ballot_id,
        "receipt_code": cast.receipt_code,
        "cast_at": cast.cast_at,
    }


@blp.route("/votes")
class Votes(MethodView):
    @blp.doc(**SECURED)
    @_online_identity_first
    @blp.arguments(_ONLINE_VOTE)
    @blp.response(201, VoteReceiptSchema)
    @require_tenant_role(Role.RESIDENT)
    def post(self, body: dict[str, Any], cycle_id: int) -> dict[str, Any]:
        """Vote online (once per cycle, across every channel)."""
        sheet = g.online_sheet
        choices = body.pop("choices")
        cast = services.do_cast_ballot(
            db_autocommit(),
            cycle_id,
            person_key=_my_key(),
            channel="online",
            voter=body,
            choices=choices,
            marked_by=actor(),
            sheet=sheet,
        )
        return _receipt(cast)


@blp.route("/check-ins")
class CheckIns(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(_CHECK_IN)
    @blp.response(201, VoteReceiptSchema)
    @require_tenant_role(Role.OFFICER, *STAFF)
    def post(self, body: dict[str, Any], cycle_id: int) -> dict[str, Any]:
        """Check a person in on site and strike them off, with their on-site ballot, or handing
        them the numbered paper ballot `paper_ballot` (recorded as issued: only issued numbers
        count in a paper batch). Refused if they already voted on any channel, or if that
        paper ballot was already issued."""
        key = body.pop("voter_card", None) or services.identity_document_key(
            _secret(), body.pop("identity_document")
        )
        channel, choices = body.pop("channel"), body.pop("choices", None)
        paper_ballot = body.pop("paper_ballot", None)
        cast = services.do_cast_ballot(
            db_autocommit(),
            cycle_id,
            person_key=key,
            channel=channel,
            voter=body,
            choices=choices,
            marked_by=actor(),
            paper_ballot=paper_ballot,
        )
        return {**_receipt(cast), "paper_ballot": paper_ballot}


@blp.route("/paper-batches")
class PaperBatches(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, PaperBatchSchema(many=True))
    @require_tenant_role(*STAFF)
    def get(self, cycle_id: int) -> list[PaperBatch]:
        """Paper batches and their state."""
        cycle_or_404(db_session(), cycle_id)
        return list(
            db_session().scalars(
                select(PaperBatch).where(PaperBatch.cycle_id == cycle_id).order_by(PaperBatch.number)
            )
        )

    @blp.doc(**SECURED)
    @blp.arguments(PaperBatchInputSchema)
    @blp.response(201, PaperBatchSchema)
    @require_tenant_role(*STAFF)
    def post(self, body: dict[str, Any], cycle_id: int) -> PaperBatch:
        """Open a batch of numbered paper ballots."""
        return services.do_open_batch(db_session(), current_tenant(), cycle_id, actor=actor(), **body)


@blp.route("/paper-batches/<id:batch_id>/entries/<int(min=1, max=2):round_>")
class PaperEntries(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(PaperEntriesSchema)
    @blp.response(200, ReconciliationSchema)
    @require_tenant_role(*STAFF)
    def put(self, body: dict[str, Any], cycle_id: int, batch_id: int, round_: int) -> dict[str, Any]:
        """Enter every ballot of the batch (round 1 or 2, by two different people: signed in,
        or with API tokens issued to two different accounts)."""
        services.do_enter_batch(
            db_session(),
            current_tenant(),
            cycle_id,
            batch_id,
            round_=round_,
            entries=body["entries"],
            actor=actor(),
            person=person(),
        )
        batch = services.batch_or_404(db_session(), cycle_id, batch_id)
        return {
            "reconciled": False,
            "counted": 0,
            "invalid": [],
            "mismatches": services.batch_mismatches(db_session(), batch),
        }


@blp.route("/paper-batches/<id:batch_id>/reconcile")
class Reconcile(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, ReconciliationSchema)
    @require_tenant_role(*STAFF)
    def post(self, cycle_id: int, batch_id: int) -> dict[str, Any]:
        """Count the batch if both entries agree; otherwise list the mismatches. Only ballots
        issued at paper check-ins count, each once; the others are listed as invalid."""
        return services.do_reconcile_batch(db_session(), current_tenant(), cycle_id, batch_id, actor=actor())


@blp.route("/planning-ratings")
class PlanningRatings(MethodView):
    @blp.response(200, PrioritySchema(many=True))
    def get(self, cycle_id: int) -> list[dict[str, Any]]:
        """How residents rated the spending priorities, per category (public)."""
        return planning.priority_summary(db_session(), cycle_id)

    @blp.doc(**SECURED)
    @blp.arguments(PlanningRatingsSchema)
    @blp.response(200, PrioritySchema(many=True))
    @require_tenant_role(Role.RESIDENT)
    def put(self, body: dict[str, Any], cycle_id: int) -> list[dict[str, Any]]:
        """Rate the spending priorities (planning-input phase; rating again replaces yours)."""
        planning.do_rate_priorities(db_session(), cycle_id, person_key=_my_key(), ratings=body["ratings"])
        return planning.priority_summary(db_session(), cycle_id)
