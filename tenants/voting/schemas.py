from __future__ import annotations

import marshmallow as ma

from saas.core.api.schemas import InputSchema
from tenants.voting.rules import BASES
from tenants.voting.services import normalise_identity_document

_ID = ma.validate.Range(1, 2**63 - 1)


class ChoiceSchema(InputSchema):
    project_id = ma.fields.Integer(required=True, strict=True, validate=_ID)
    value = ma.fields.Integer(
        strict=True,
        load_default=1,
        validate=ma.validate.Range(1, 10_000),
        metadata={"description": "1 (approval, knapsack), points (cumulative), rank (ranked)"},
    )


class VoterSchema(InputSchema):
    basis = ma.fields.String(required=True, validate=ma.validate.OneOf(BASES))
    birth_year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1900, 2100))
    district_code = ma.fields.String(
        validate=ma.validate.Regexp(r"^[0-9]{10}$"),
        metadata={"description": "The voter's dong (10-digit code), for its envelope"},
    )


class OnlineVoteSchema(VoterSchema):
    choices = ma.fields.List(
        ma.fields.Nested(ChoiceSchema), required=True, validate=ma.validate.Length(max=500)
    )


class CheckInSchema(VoterSchema):
    voter_card = ma.fields.String(
        validate=ma.validate.Regexp(r"^[0-9a-f]{64}$"),
        metadata={"description": "The key shown on the voter's card"},
    )
    identity_document = ma.fields.String(
        validate=ma.validate.Length(6, 64),
        metadata={
            "description": "An identity document number (hashed, never stored); case, spaces "
            "and hyphens do not matter"
        },
    )
    channel = ma.fields.String(required=True, validate=ma.validate.OneOf(["onsite", "paper"]))
    choices = ma.fields.List(
        ma.fields.Nested(ChoiceSchema),
        validate=ma.validate.Length(max=500),
        metadata={"description": "On-site electronic ballot; omit for a paper ballot"},
    )
    paper_ballot = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(1, 10**9),
        metadata={
            "description": "The number of the paper ballot handed out (channel paper only): "
            "a paper batch counts only numbers issued here, each once"
        },
    )

    @ma.validates_schema
    def _one_identity(self, data, **kwargs):
        if ("voter_card" in data) == ("identity_document" in data):
            raise ma.ValidationError("Give either voter_card or identity_document.", "voter_card")
        if "identity_document" in data and len(normalise_identity_document(data["identity_document"])) < 6:
            raise ma.ValidationError(
                "An identity document number has at least 6 characters besides spaces and hyphens.",
                "identity_document",
            )
        if data["channel"] == "paper" and "choices" in data:
            raise ma.ValidationError("Paper ballots are entered in batches, not at check-in.", "choices")
        if data["channel"] == "paper" and "paper_ballot" not in data:
            raise ma.ValidationError(
                "Record the number of the paper ballot handed out: only issued ballots are counted.",
                "paper_ballot",
            )
        if data["channel"] == "onsite" and "paper_ballot" in data:
            raise ma.ValidationError("Only a paper check-in hands out a paper ballot.", "paper_ballot")
        if data["channel"] == "onsite" and not data.get("choices"):
            raise ma.ValidationError("An on-site ballot needs its choices.", "choices")


class VoteReceiptSchema(ma.Schema):
    channel = ma.fields.String()
    receipt = ma.fields.Integer(
        allow_none=True, metadata={"description": "The ballot's number, if one was cast"}
    )
    receipt_code = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The code the voter keeps to check, on the portal's receipts page, "
            "that the ballot was counted (shown once; only its hash is stored); none for paper"
        },
    )
    cast_at = ma.fields.DateTime()
    paper_ballot = ma.fields.Integer(
        allow_none=True, metadata={"description": "The paper ballot issued, for a paper check-in"}
    )


class VoterCardSchema(ma.Schema):
    voter_card = ma.fields.String()
    voted = ma.fields.String(allow_none=True, metadata={"description": "The channel used, if already voted"})


class PaperBatchSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 1_000_000))
    first_ballot = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 10**9))
    last_ballot = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 10**9))
    status = ma.fields.String(dump_only=True)


class PaperBatchInputSchema(InputSchema, PaperBatchSchema):
    pass


class PaperEntrySchema(InputSchema):
    ballot_number = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 10**9))
    choices = ma.fields.List(
        ma.fields.Nested(ChoiceSchema),
        required=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "Empty for a blank or spoilt ballot"},
    )


class PaperEntriesSchema(InputSchema):
    entries = ma.fields.List(
        ma.fields.Nested(PaperEntrySchema), required=True, validate=ma.validate.Length(1, 1000)
    )


class ReconciliationSchema(ma.Schema):
    reconciled = ma.fields.Boolean()
    counted = ma.fields.Integer()
    mismatches = ma.fields.List(ma.fields.Dict())
    invalid = ma.fields.List(ma.fields.Dict())


class BallotViewSchema(ma.Schema):
    rules = ma.fields.Dict()
    envelopes = ma.fields.List(ma.fields.Dict())


class PlanningRatingsSchema(InputSchema):
    ratings = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Regexp(r"^[a-z][a-z0-9_-]{0,63}$")),
        values=ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 5)),
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "category key -> 1 (spend less) .. 5 (spend more)"},
    )


class PrioritySchema(ma.Schema):
    category_key = ma.fields.String()
    name_ko = ma.fields.String()
    name_en = ma.fields.String()
    respondents = ma.fields.Integer()
    mean = ma.fields.Float(allow_none=True)
    distribution = ma.fields.List(ma.fields.Integer(), metadata={"description": "counts of ratings 1..5"})
