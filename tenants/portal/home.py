"""What a portal's home page shows: the current cycle, its calendar, what a resident can do
now, and the template's page on how PB works here. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from tenants.cycles.models import CLOSED, DRAFT, Cycle, CyclePhase, Envelope
from tenants.cycles.services import current_cycle
from tenants.portal.models import Page
from tenants.portal.services import page_by_key

HOW_IT_WORKS = "how_it_works"
DONG = "dong"
DONGS_AS_BUTTONS = 3  # up to this many dong budgets are buttons of their own


@dataclass(frozen=True)
class PhaseOnCalendar:
    key: str
    name_ko: str
    name_en: str
    starts_on: date
    ends_on: date
    state: str  # "past", "current" or "future"


@dataclass(frozen=True)
class Home:
    cycle: Cycle | None
    phase: str | None  # the open phase's key, "closed", or None without a cycle
    calendar: list[PhaseOnCalendar] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    how_it_works: Page | None = None

    @property
    def current_phase(self) -> PhaseOnCalendar | None:
        return next((p for p in self.calendar if p.state == "current"), None)

    @property
    def wide_envelopes(self) -> list[Envelope]:
        """The budgets of the whole municipality and of its districts: each its own button."""
        return [e for e in self.envelopes if e.scope != DONG]

    @property
    def dong_envelopes(self) -> list[Envelope]:
        """The budgets of single dongs: a list a resident opens to find theirs, once there are
        more than a few (a column of twenty buttons would bury the call to action on a phone)."""
        return [e for e in self.envelopes if e.scope == DONG]

    @property
    def dongs_folded(self) -> bool:
        return len(self.dong_envelopes) > DONGS_AS_BUTTONS


def _state(phase: CyclePhase, cycle: Cycle, index: int, current_index: int | None) -> str:
    if cycle.status == CLOSED:
        return "past"
    if current_index is None:
        return "future"
    return "past" if index < current_index else "current" if index == current_index else "future"


def home_of_portal(session: Session) -> Home:
    """The home page's content for the request's tenant (the session is bound to it)."""
    how = page_by_key(session, HOW_IT_WORKS)
    cycle = current_cycle(session)
    if cycle is None:
        return Home(None, None, how_it_works=how)
    keys = [p.key for p in cycle.phases]
    now = keys.index(cycle.status) if cycle.status in keys else None
    calendar = [
        PhaseOnCalendar(p.key, p.name_ko, p.name_en, p.starts_on, p.ends_on, _state(p, cycle, i, now))
        for i, p in enumerate(cycle.phases)
    ]
    phase = cycle.status if cycle.status != DRAFT else None
    return Home(cycle, phase, calendar, list(cycle.envelopes), how)
