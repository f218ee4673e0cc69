"""Request and response shapes of the committee API. Private demographics appear only in the
staff schemas (`ApplicantSchema`, `RosterMemberSchema`), never in the public ones."""

from __future__ import annotations

from datetime import date

import marshmallow as ma

from saas.core.api.schemas import InputSchema
from tenants.committees.models import SEXES

KEY = ma.validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$")
DONG_CODE = ma.validate.Regexp(r"^[0-9]{10}$")
NAME = ma.validate.Length(min=1, max=200)
ATTENDANCE = ("present", "absent", "excused")
MAX_SCORE = 100
# Dates a municipality can mean; also keeps term arithmetic inside Python's years.
PLAUSIBLE_DATE = ma.validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))


class CommitteeCreateSchema(InputSchema):
    key = ma.fields.String(
        required=True, validate=KEY, metadata={"description": "a committee key of the template"}
    )
    dong_code = ma.fields.String(load_default=None, allow_none=True, validate=DONG_CODE)
    name_ko = ma.fields.String(load_default=None, validate=NAME)
    name_en = ma.fields.String(load_default=None, validate=NAME)
    term_starts_on = ma.fields.Date(load_default=None, allow_none=True, validate=PLAUSIBLE_DATE)
    min_per_dong = ma.fields.Integer(
        load_default=0,
        strict=True,
        validate=ma.validate.Range(min=0, max=50),
        metadata={"description": "city committees: seats each dong must get, when it has applicants"},
    )


class CommitteeSchema(ma.Schema):
    id = ma.fields.Integer()
    cycle_id = ma.fields.Integer()
    key = ma.fields.String()
    level = ma.fields.String()
    dong_code = ma.fields.String(allow_none=True)
    name_ko = ma.fields.String()
    name_en = ma.fields.String()
    seats = ma.fields.Integer()
    term_months = ma.fields.Integer()
    term_starts_on = ma.fields.Date(allow_none=True)
    selection = ma.fields.String()
    roles = ma.fields.List(ma.fields.Dict())
    quotas = ma.fields.Dict()
    drawn = ma.fields.Function(lambda c: c.lottery is not None)


class DemographicsMixin:
    """Sex, age and dong: accepted only together with consent (checked in the service)."""

    sex = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.OneOf(SEXES))
    age = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ma.validate.Range(0, 130)
    )
    dong_code = ma.fields.String(load_default=None, allow_none=True, validate=DONG_CODE)


class ApplicationSchema(DemographicsMixin, InputSchema):
    name = ma.fields.String(required=True, validate=NAME)
    consent = ma.fields.Boolean(
        required=True, metadata={"description": "consent to store sex, age and dong for the draw"}
    )
    reserved_key = ma.fields.String(load_default=None, allow_none=True, validate=KEY)


class ApplicantSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    principal = ma.fields.String(allow_none=True)
    entered_by = ma.fields.String(allow_none=True)
    reserved_key = ma.fields.String(allow_none=True)
    consent = ma.fields.Boolean()
    consented_at = ma.fields.DateTime(allow_none=True)
    sex = ma.fields.String(allow_none=True)
    age = ma.fields.Integer(allow_none=True)
    dong_code = ma.fields.String(allow_none=True)
    applied_at = ma.fields.DateTime()


class ApplicationReceiptSchema(ma.Schema):
    """What an applicant gets back: no demographics echoed."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    consent = ma.fields.Boolean()
    consented_at = ma.fields.DateTime(allow_none=True)
    applied_at = ma.fields.DateTime()


class DrawRequestSchema(InputSchema):
    seed = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=8, max=200),
        metadata={"description": "the published seed; a random one is made when absent"},
    )


class SeatSchema(ma.Schema):
    applicant_id = ma.fields.Integer()
    seat = ma.fields.String()


class ShortfallSchema(ma.Schema):
    quota = ma.fields.String()
    category = ma.fields.String(allow_none=True)
    required = ma.fields.Integer()
    filled = ma.fields.Integer()
    short = ma.fields.Integer()


class SnapshotEntrySchema(InputSchema):
    id = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=2**63 - 1))
    sex = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=16))
    age_band = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=16))
    dong = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=10))
    reserved = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=64))


class LotterySchema(ma.Schema):
    """The published record of a draw: enough for anyone to re-run it."""

    algorithm = ma.fields.String()
    seed = ma.fields.String()
    drawn_at = ma.fields.String()
    quotas = ma.fields.Dict()
    applicants = ma.fields.List(ma.fields.Nested(SnapshotEntrySchema))
    snapshot_hash = ma.fields.String()
    seats = ma.fields.List(ma.fields.Nested(SeatSchema))
    shortfalls = ma.fields.List(ma.fields.Nested(ShortfallSchema))


class VerifyRequestSchema(InputSchema):
    """Optional: another seed or applicant list to re-run with (default: the published ones)."""

    seed = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=200))
    applicants = ma.fields.List(
        ma.fields.Nested(SnapshotEntrySchema), load_default=None, validate=ma.validate.Length(max=100_000)
    )


class VerifySchema(ma.Schema):
    snapshot_hash = ma.fields.String()
    snapshot_matches = ma.fields.Boolean()
    applicants_match = ma.fields.Boolean(
        metadata={"description": "the stored applicants still give the published snapshot"}
    )
    seats = ma.fields.List(ma.fields.Nested(SeatSchema))
    seats_match = ma.fields.Boolean()
    shortfalls = ma.fields.List(ma.fields.Nested(ShortfallSchema))


class PublicMemberSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    role = ma.fields.String()
    seat = ma.fields.String()
    term_ends_on = ma.fields.Date(allow_none=True)
    left_on = ma.fields.Date(allow_none=True)


class RosterMemberSchema(PublicMemberSchema):
    applicant_id = ma.fields.Integer(allow_none=True)
    principal = ma.fields.String(allow_none=True)
    consent = ma.fields.Boolean()
    consented_at = ma.fields.DateTime(allow_none=True)
    sex = ma.fields.String(allow_none=True)
    age = ma.fields.Integer(allow_none=True)
    dong_code = ma.fields.String(allow_none=True)


class AppointSchema(DemographicsMixin, InputSchema):
    name = ma.fields.String(required=True, validate=NAME)
    role = ma.fields.String(load_default="member", validate=KEY)
    reserved_key = ma.fields.String(
        load_default=None, allow_none=True, validate=KEY, metadata={"description": "fill a reserved seat"}
    )
    principal = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=200)
    )
    consent = ma.fields.Boolean(load_default=False)


class MemberUpdateSchema(InputSchema):
    role = ma.fields.String(validate=KEY)
    principal = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=200))
    left_on = ma.fields.Date(allow_none=True, validate=PLAUSIBLE_DATE)
    consent = ma.fields.Boolean(
        validate=ma.validate.Equal(False),
        metadata={"description": "false withdraws consent and erases demographics"},
    )


_TEXT_LIST = ma.fields.List(
    ma.fields.String(validate=ma.validate.Length(min=1, max=1000)), validate=ma.validate.Length(max=100)
)


class MeetingCreateSchema(InputSchema):
    held_at = ma.fields.AwareDateTime(required=True)
    place = ma.fields.String(load_default=None, allow_none=True, validate=NAME)
    agenda = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=1000)),
        load_default=list,
        validate=ma.validate.Length(max=100),
    )


class MeetingUpdateSchema(InputSchema):
    held_at = ma.fields.AwareDateTime()
    place = ma.fields.String(allow_none=True, validate=NAME)
    agenda = _TEXT_LIST
    minutes = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200_000))
    decisions = _TEXT_LIST


class MeetingSchema(ma.Schema):
    id = ma.fields.Integer()
    committee_id = ma.fields.Integer()
    held_at = ma.fields.DateTime()
    place = ma.fields.String(allow_none=True)
    agenda = ma.fields.List(ma.fields.String())
    attendance = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    minutes = ma.fields.String(allow_none=True)
    decisions = ma.fields.List(ma.fields.String())


class AttendanceSchema(InputSchema):
    member_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=2**63 - 1),
        metadata={"description": "staff: whose attendance; members record their own"},
    )
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(ATTENDANCE))


class ScoreInputSchema(InputSchema):
    score = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, MAX_SCORE))


class ScoreReceiptSchema(ma.Schema):
    member_id = ma.fields.Integer()
    project_id = ma.fields.Integer()
    score = ma.fields.Integer()
    scored_at = ma.fields.DateTime()


class ProjectScoreSchema(ma.Schema):
    project_id = ma.fields.Integer()
    code = ma.fields.String()
    title_ko = ma.fields.String()
    scores = ma.fields.Integer(metadata={"description": "how many members scored it"})
    mean = ma.fields.Float(allow_none=True, metadata={"description": f"0–{MAX_SCORE}"})
    normalised = ma.fields.Float(
        allow_none=True, metadata={"description": "0–1, as the counting rules read it"}
    )


class CycleScoreSchema(ma.Schema):
    project_id = ma.fields.Integer()
    score = ma.fields.Float(metadata={"description": "mean committee score, 0..1"})


class _Figures(ma.Schema):
    members = ma.fields.Integer()
    member_share = ma.fields.Float()
    population = ma.fields.Integer(allow_none=True)
    population_share = ma.fields.Float(allow_none=True)
    gap = ma.fields.Float(allow_none=True, metadata={"description": "member share minus population share"})


class GroupFiguresSchema(_Figures):
    age_band = ma.fields.String()
    min_age = ma.fields.Integer()
    max_age = ma.fields.Integer(allow_none=True)
    sex = ma.fields.String()


class SexFiguresSchema(_Figures):
    sex = ma.fields.String()


class RepresentativenessSchema(ma.Schema):
    committee_id = ma.fields.Integer()
    area_code = ma.fields.String()
    area_name = ma.fields.String(allow_none=True)
    population_month = ma.fields.String(allow_none=True)
    method = ma.fields.String()
    members = ma.fields.Integer()
    members_with_demographics = ma.fields.Integer()
    groups = ma.fields.List(ma.fields.Nested(GroupFiguresSchema))
    sexes = ma.fields.List(ma.fields.Nested(SexFiguresSchema))
