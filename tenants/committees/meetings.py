"""Committee meetings: agenda, attendance, minutes and decisions.

Staff schedule meetings and write minutes; a committee member records their own attendance
(staff may record anyone's). Every action writes its audit event in its transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.core.tenancy.context import TenantRef
from tenants.committees.models import Committee, CommitteeMember, Meeting
from tenants.committees.services import audit_committee, committee_or_404, member_or_404, seat_of_principal
from tenants.errors import Invalid, NotFound


class NotAMember(Exception):
    """The credential holds no seat on this committee (views answer 403)."""


def meetings(session: Session, cycle_id: int, committee_id: int) -> list[Meeting]:
    committee = committee_or_404(session, cycle_id, committee_id)
    return list(
        session.scalars(select(Meeting).where(Meeting.committee_id == committee.id).order_by(Meeting.held_at))
    )


def meeting_or_404(session: Session, cycle_id: int, committee_id: int, meeting_id: int) -> Meeting:
    return _meeting_of(session, committee_or_404(session, cycle_id, committee_id), meeting_id)


def _meeting_of(session: Session, committee: Committee, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.committee_id != committee.id:
        raise NotFound(f"There is no meeting {meeting_id} of this committee.")
    return meeting


def do_schedule_meeting(
    session: Session, tenant: TenantRef, cycle_id: int, committee_id: int, *, actor: str, **fields: Any
) -> Meeting:
    committee = committee_or_404(session, cycle_id, committee_id)
    meeting = Meeting(committee_id=committee.id, attendance={}, decisions=[], **fields)
    session.add(meeting)
    session.flush()
    audit_committee(
        session, tenant, actor, "committee.meeting.schedule", committee, {"meeting_id": meeting.id}
    )
    session.commit()
    return meeting


def do_update_meeting(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    committee_id: int,
    meeting_id: int,
    *,
    actor: str,
    **changes: Any,
) -> Meeting:
    """Change the date, place or agenda, or record minutes and decisions."""
    committee = committee_or_404(session, cycle_id, committee_id)
    meeting = _meeting_of(session, committee, meeting_id)
    for name, value in changes.items():
        setattr(meeting, name, value if name not in ("agenda", "decisions") else list(value))
    session.flush()
    data = {"meeting_id": meeting.id, "changed": sorted(changes)}
    audit_committee(session, tenant, actor, "committee.meeting.update", committee, data)
    session.commit()
    return meeting


def do_record_attendance(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    committee_id: int,
    meeting_id: int,
    *,
    member_id: int | None,
    status: str,
    actor: str,
    as_staff: bool,
) -> Meeting:
    """Record one member's attendance. A member (`as_staff` False) records only their own
    seat, found by their credential; raises `NotAMember` when they hold none."""
    committee = committee_or_404(session, cycle_id, committee_id, lock=True)
    meeting = _meeting_of(session, committee, meeting_id)
    member: CommitteeMember | None
    if as_staff:
        if member_id is None:
            raise Invalid(
                "Name the member_id whose attendance to record.", errors={"member_id": ["required for staff"]}
            )
        member = member_or_404(session, committee, member_id)
    else:
        member = seat_of_principal(session, committee, actor)
        if member is None or member_id not in (None, member.id):
            raise NotAMember()
    # A new dict, so the JSONB column is seen as changed.
    meeting.attendance = {**meeting.attendance, str(member.id): status}
    session.flush()
    data = {"meeting_id": meeting.id, "member_id": member.id, "status": status}
    audit_committee(session, tenant, actor, "committee.meeting.attendance", committee, data)
    session.commit()
    return meeting
