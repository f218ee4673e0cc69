"""Committees, applications, the draw and seated members.

Every `do_*` action owns its transaction and writes its audit event in it. Audit data never
carries demographics: the audit chain is kept for good, consent can be withdrawn.
Refusals are `saas.core.refusals` exceptions (404 / 409 / 422).
"""

from __future__ import annotations

import calendar
import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.audit import services as audit
from saas.core.refusals import Conflict, Invalid, NotFound
from saas.core.tenancy.context import TenantRef
from tenants.committees import lottery
from tenants.committees.models import APPOINTED_SEAT, DONG, Applicant, Committee, CommitteeMember, Score
from tenants.committees.schemas import MAX_SCORE
from tenants.cycles.services import cycle_or_404
from tenants.portal.models import District
from tenants.portal.services import setting
from tenants.proposals.models import Project

DEFAULT_ROLE = "member"  # everyone without another role; the only role without a seat limit


def committee_or_404(session: Session, cycle_id: int, committee_id: int, *, lock: bool = False) -> Committee:
    statement = select(Committee).where(Committee.id == committee_id, Committee.cycle_id == cycle_id)
    if lock:
        statement = statement.with_for_update()
    committee = session.scalar(statement)
    if committee is None:
        raise NotFound(f"There is no committee {committee_id} in cycle {cycle_id}.")
    return committee


def member_or_404(session: Session, committee: Committee, member_id: int) -> CommitteeMember:
    member = session.get(CommitteeMember, member_id)
    if member is None or member.committee_id != committee.id:
        raise NotFound(f"There is no member {member_id} on this committee.")
    return member


def active_members(session: Session, committee: Committee) -> list[CommitteeMember]:
    return list(
        session.scalars(
            select(CommitteeMember)
            .where(CommitteeMember.committee_id == committee.id, CommitteeMember.left_on.is_(None))
            .order_by(CommitteeMember.id)
        )
    )


def seat_of_principal(session: Session, committee: Committee, principal: str) -> CommitteeMember | None:
    """The active seat this credential speaks for on this committee, if any."""
    return session.scalar(
        select(CommitteeMember).where(
            CommitteeMember.committee_id == committee.id,
            CommitteeMember.principal == principal,
            CommitteeMember.left_on.is_(None),
        )
    )


def _district_codes(session: Session) -> set[str]:
    return set(session.scalars(select(District.code)))


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(committee: Committee, starts_on: date) -> date:
    return _add_months(starts_on, committee.term_months) - timedelta(days=1)


def do_create_committee(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    *,
    key: str,
    dong_code: str | None,
    name_ko: str | None,
    name_en: str | None,
    term_starts_on: date | None,
    min_per_dong: int,
    actor: str,
) -> Committee:
    """Make a committee of `cycle_id` from the template structure `key` (portal setting
    "committees"). Dong committees name one dong of the portal; `min_per_dong` (city
    committees only) adds a dong quota to the template's quotas."""
    cycle_or_404(session, cycle_id)
    structures = {c["key"]: c for c in setting(session, "committees", [])}
    structure = structures.get(key)
    if structure is None:
        raise Invalid(
            f"The portal has no committee {key!r}; it has {', '.join(sorted(structures)) or 'none'}."
        )
    district = None
    if structure["level"] == DONG:
        if dong_code is None:
            raise Invalid(f"{key!r} is a dong committee: name its dong_code.")
        district = session.scalar(select(District).where(District.code == dong_code))
        if district is None:
            raise Invalid(f"{dong_code} is not a dong of this municipality.")
        if min_per_dong:
            raise Invalid("min_per_dong is for city committees.")
    elif dong_code is not None:
        raise Invalid(f"{key!r} is a city committee: it has no dong_code.")
    quotas = dict(structure["quotas"])
    if min_per_dong:
        dongs = len(_district_codes(session))
        if min_per_dong * dongs > structure["seats"]:
            raise Invalid(
                f"{min_per_dong} seats for each of {dongs} dongs exceed the {structure['seats']} seats."
            )
        quotas["min_per_dong"] = min_per_dong
    exists = session.scalar(
        select(Committee.id).where(
            Committee.cycle_id == cycle_id,
            Committee.key == key,
            Committee.dong_code.is_not_distinct_from(dong_code),
        )
    )
    if exists is not None:
        raise Conflict(f"This cycle already has that committee ({exists}).")
    suffix_ko = f" ({district.name_ko})" if district is not None else ""
    suffix_en = f" ({district.name_en or district.name_ko})" if district is not None else ""
    committee = Committee(
        cycle_id=cycle_id,
        key=key,
        level=structure["level"],
        dong_code=dong_code,
        name_ko=name_ko or structure["name"]["ko"] + suffix_ko,
        name_en=name_en or structure["name"]["en"] + suffix_en,
        seats=structure["seats"],
        term_months=structure["term_months"],
        term_starts_on=term_starts_on,
        selection=structure["selection"],
        roles=structure["roles"],
        quotas=quotas,
    )
    session.add(committee)
    session.flush()
    audit_committee(
        session, tenant, actor, "committee.create", committee, {"key": key, "dong_code": dong_code}
    )
    session.commit()
    return committee


def audit_committee(
    session: Session, tenant: TenantRef, actor: str, action: str, committee: Committee, data: dict[str, Any]
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        tenant_slug=tenant.slug,
        target=f"committee:{committee.id}",
        data={"cycle_id": committee.cycle_id, **data},
    )


def age_band_of(committee: Committee, age: int) -> str | None:
    for band in committee.quotas.get("age_bands", []):
        if age >= band["min_age"] and (band["max_age"] is None or age <= band["max_age"]):
            return lottery.band_key(band["min_age"], band["max_age"])
    return None


def _check_demographics(
    session: Session,
    committee: Committee,
    *,
    consent: bool,
    sex: str | None,
    age: int | None,
    dong_code: str | None,
) -> None:
    if not consent:
        if sex is not None or age is not None or dong_code is not None:
            raise Invalid("Sex, age and dong are stored only with consent (consent: true).")
        return
    if committee.level == DONG and dong_code not in (None, committee.dong_code):
        raise Invalid(f"This committee is for dong {committee.dong_code}.")
    if (
        dong_code is not None
        and dong_code != committee.dong_code
        and dong_code not in _district_codes(session)
    ):
        raise Invalid(f"{dong_code} is not a dong of this municipality.")
    if age is not None and age_band_of(committee, age) is None:
        bands = ", ".join(lottery.band_key(b["min_age"], b["max_age"]) for b in committee.quotas["age_bands"])
        raise Invalid(f"Age {age} is outside this committee's age bands ({bands}).")


def _reserved_keys(committee: Committee) -> list[str]:
    return [r["key"] for r in committee.quotas.get("reserved", [])]


def do_apply(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    committee_id: int,
    *,
    name: str,
    consent: bool,
    sex: str | None,
    age: int | None,
    dong_code: str | None,
    reserved_key: str | None,
    actor: str,
    on_behalf: bool,
) -> Applicant:
    """Record an application: by the resident (`on_behalf` False: one per person) or by staff
    from a paper form. Consent is required: without sex, age and dong an applicant cannot be
    drawn against the quotas, and those are stored only with consent."""
    committee = committee_or_404(session, cycle_id, committee_id, lock=True)
    if committee.lottery is not None:
        raise Conflict("The draw has taken place; applications are closed.")
    if not consent:
        raise Invalid("Applying needs consent to store sex, age and dong for the draw (consent: true).")
    if sex is None or age is None:
        raise Invalid(
            "An application needs sex and age (for the quotas).", {"sex": ["required"], "age": ["required"]}
        )
    if committee.level == DONG:
        dong_code = dong_code or committee.dong_code
    elif dong_code is None:
        raise Invalid(
            "An application to a city committee needs the applicant's dong.", {"dong_code": ["required"]}
        )
    _check_demographics(session, committee, consent=consent, sex=sex, age=age, dong_code=dong_code)
    if reserved_key is not None and reserved_key not in _reserved_keys(committee):
        raise Invalid(f"This committee has no reserved seats {reserved_key!r}.")
    principal = None if on_behalf else actor
    if principal is not None and session.scalar(
        select(Applicant.id).where(Applicant.committee_id == committee.id, Applicant.principal == principal)
    ):
        raise Conflict("You have already applied to this committee.")
    applicant = Applicant(
        committee_id=committee.id,
        name=name,
        principal=principal,
        entered_by=actor if on_behalf else None,
        reserved_key=reserved_key,
        consent=True,
        consented_at=clock.now(),
        sex=sex,
        age=age,
        dong_code=dong_code,
    )
    session.add(applicant)
    try:
        session.flush()
    except IntegrityError:  # the same person applying twice at once
        session.rollback()
        raise Conflict("You have already applied to this committee.") from None
    audit_committee(session, tenant, actor, "committee.apply", committee, {"applicant_id": applicant.id})
    session.commit()
    return applicant


def applicants(session: Session, committee: Committee) -> list[Applicant]:
    return list(
        session.scalars(
            select(Applicant).where(Applicant.committee_id == committee.id).order_by(Applicant.id)
        )
    )


def _entries(committee: Committee, people: list[Applicant]) -> list[lottery.Entry]:
    return [
        lottery.Entry(
            a.id,
            a.sex,
            age_band_of(committee, a.age) if a.age is not None else None,
            a.dong_code,
            a.reserved_key,
        )
        for a in people
        if a.consent
    ]


def _quotas(session: Session, committee: Committee) -> lottery.Quotas:
    q = committee.quotas
    return lottery.Quotas(
        seats=committee.seats,
        min_per_sex=q.get("min_per_sex", 0),
        age_bands=tuple(
            (lottery.band_key(b["min_age"], b["max_age"]), b["min_seats"]) for b in q.get("age_bands", [])
        ),
        min_per_dong=q.get("min_per_dong", 0),
        dongs=tuple(sorted(_district_codes(session))) if q.get("min_per_dong") else (),
        reserved=tuple((r["key"], r["seats"]) for r in q.get("reserved", [])),
    )


def do_draw(
    session: Session, tenant: TenantRef, cycle_id: int, committee_id: int, *, seed: str | None, actor: str
) -> Committee:
    """Run the stratified lottery once, seat the drawn applicants, and store the published
    record (seed, snapshot, hash, seats, shortfalls). A committee is drawn only once."""
    committee = committee_or_404(session, cycle_id, committee_id, lock=True)
    if committee.lottery is not None:
        raise Conflict(
            f"This committee was drawn on {committee.lottery['drawn_at']}; re-run it with /lottery/verify."
        )
    if committee.selection == "appointed":
        raise Conflict("Members of this committee are appointed, not drawn.")
    seed = seed or secrets.token_hex(16)
    people = applicants(session, committee)
    published = lottery.record(seed, _entries(committee, people), _quotas(session, committee))
    published["drawn_at"] = clock.now().isoformat()
    starts_on = committee.term_starts_on or clock.today()
    committee.term_starts_on = starts_on
    by_id = {a.id: a for a in people}
    for seat in published["seats"]:
        person = by_id[seat["applicant_id"]]
        session.add(
            CommitteeMember(
                committee_id=committee.id,
                applicant_id=person.id,
                name=person.name,
                role=DEFAULT_ROLE,
                seat=seat["seat"],
                principal=person.principal,
                consent=person.consent,
                consented_at=person.consented_at,
                sex=person.sex,
                age=person.age,
                dong_code=person.dong_code,
                term_ends_on=term_end(committee, starts_on),
            )
        )
    committee.lottery = published
    session.flush()
    audit_committee(
        session,
        tenant,
        actor,
        "committee.draw",
        committee,
        {
            "seed": seed,
            "snapshot_hash": published["snapshot_hash"],
            "seats": len(published["seats"]),
            "shortfalls": published["shortfalls"],
        },
    )
    session.commit()
    return committee


def published_lottery(committee: Committee) -> dict[str, Any]:
    if committee.lottery is None:
        raise NotFound("This committee has not been drawn yet.")
    return committee.lottery


def verify_draw(
    session: Session, committee: Committee, *, seed: str | None, entries: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """Re-run the published draw (optionally with another seed or applicant list) and compare
    with what was published; also check that the stored applicants still give the snapshot."""
    published = published_lottery(committee)
    rerun = lottery.rerun(
        {**published, "seed": seed or published["seed"], "applicants": entries or published["applicants"]}
    )
    stored = _entries(committee, applicants(session, committee))
    rerun["applicants_match"] = lottery.snapshot_hash(stored) == published["snapshot_hash"]
    return rerun


def _check_role(session: Session, committee: Committee, role: str, member: CommitteeMember | None) -> None:
    roles = {r["key"]: r["seats"] for r in committee.roles}
    if role not in roles and role != DEFAULT_ROLE:
        raise Invalid(f"This committee has no role {role!r}; it has {', '.join(roles)}.")
    if role == DEFAULT_ROLE:
        return
    holders = sum(1 for m in active_members(session, committee) if m.role == role and m is not member)
    if holders >= roles[role]:
        raise Conflict(f"All {roles[role]} seats of {role!r} are taken.")


def do_appoint_member(
    session: Session, tenant: TenantRef, cycle_id: int, committee_id: int, *, actor: str, **fields: Any
) -> CommitteeMember:
    """Seat someone the municipality appoints (or into a reserved seat the draw left empty)."""
    committee = committee_or_404(session, cycle_id, committee_id, lock=True)
    if committee.selection == "lottery" and fields["reserved_key"] is None:
        raise Conflict("This committee is drawn by lottery; only reserved seats can be appointed.")
    if len(active_members(session, committee)) >= committee.seats:
        raise Conflict(f"All {committee.seats} seats are filled.")
    _check_role(session, committee, fields["role"], None)
    consent = fields["consent"]
    _check_demographics(
        session,
        committee,
        consent=consent,
        sex=fields["sex"],
        age=fields["age"],
        dong_code=fields["dong_code"],
    )
    reserved_key = fields["reserved_key"]
    if reserved_key is not None:
        limit = dict((r["key"], r["seats"]) for r in committee.quotas.get("reserved", [])).get(reserved_key)
        if limit is None:
            raise Invalid(f"This committee has no reserved seats {reserved_key!r}.")
        taken = session.scalar(
            select(func.count()).where(
                CommitteeMember.committee_id == committee.id,
                CommitteeMember.seat == f"reserved:{reserved_key}",
                CommitteeMember.left_on.is_(None),
            )
        )
        if taken >= limit:
            raise Conflict(f"All {limit} reserved seats {reserved_key!r} are filled.")
    starts_on = committee.term_starts_on or clock.today()
    member = CommitteeMember(
        committee_id=committee.id,
        name=fields["name"],
        role=fields["role"],
        seat=f"reserved:{reserved_key}" if reserved_key else APPOINTED_SEAT,
        principal=fields["principal"],
        consent=consent,
        consented_at=clock.now() if consent else None,
        sex=fields["sex"],
        age=fields["age"],
        dong_code=fields["dong_code"],
        term_ends_on=term_end(committee, starts_on),
    )
    session.add(member)
    session.flush()
    audit_committee(
        session,
        tenant,
        actor,
        "committee.member.appoint",
        committee,
        {"member_id": member.id, "seat": member.seat},
    )
    session.commit()
    return member


def do_update_member(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    committee_id: int,
    member_id: int,
    *,
    actor: str,
    **changes: Any,
) -> CommitteeMember:
    """Give a role, link the credential that speaks for the member, record leaving, or
    withdraw consent (which erases sex, age and dong)."""
    committee = committee_or_404(session, cycle_id, committee_id, lock=True)
    member = member_or_404(session, committee, member_id)
    if "role" in changes:
        _check_role(session, committee, changes["role"], member)
        member.role = changes["role"]
    if "principal" in changes:
        member.principal = changes["principal"]
    if "left_on" in changes:
        member.left_on = changes["left_on"]
    if changes.get("consent") is False:
        member.consent, member.consented_at = False, None
        member.sex = member.age = member.dong_code = None
        applicant = session.get(Applicant, member.applicant_id) if member.applicant_id else None
        if applicant is not None:
            applicant.consent, applicant.consented_at = False, None
            applicant.sex = applicant.age = applicant.dong_code = None
    session.flush()
    audit_committee(
        session,
        tenant,
        actor,
        "committee.member.update",
        committee,
        {"member_id": member.id, "changed": sorted(changes)},
    )
    session.commit()
    return member


def committee_scores(session: Session, cycle_id: int) -> dict[int, float]:
    """The committee score of each project of `cycle_id`, normalised to 0..1: the mean of
    every score given to it by members of the cycle's committees, divided by 100.

    Projects nobody scored are absent (the caller decides what that means; the blended rule
    counts them as 0). Members who left keep their scores: they were members when scoring."""
    rows = session.execute(
        select(Score.project_id, func.avg(Score.score))
        .join(Project, Project.id == Score.project_id)
        .where(Project.cycle_id == cycle_id)
        .group_by(Score.project_id)
    )
    return {project_id: float(mean) / MAX_SCORE for project_id, mean in rows}
