"""Finding a cycle's proposals: browse by dong and category, search the title and the
description for Korean (or any) substrings, page through them in a stable order, and count
what was found.

Search is `LIKE '%term%'` (`ILIKE` for a term with letters that have case) on the title and
description joined by a space, every term of the query required: a term holds no whitespace,
so it is in the joined text exactly when it is in the title or in the description. Where the
database has pg_trgm, one GIN trigram index on that same expression serves terms of three
characters or more (migration 6f0c2d9e4b71: one index scan, where an index per column needs
two and a BitmapOr the planner often prices above a scan); shorter terms (1 and 2 Hangul
syllables are common Korean words: 공원, 길) have no trigram, so PostgreSQL scans the cycle's
proposals, which stays correct and is measured in benchmarks/proposals_pages.py. Without
pg_trgm (the embedded development server) every search scans.

A hidden proposal is listed with its moderation notice but never with its text, and a text
search never matches it (its hidden words must not be found through the search box).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, literal_column, select
from sqlalchemy.orm import Session

from saas.core.refusals import N_, Invalid
from tenants.portal.models import Category, District
from tenants.proposals.models import Proposal

PER_PAGE = 20
MAX_QUERY = 100  # characters; a longer search is refused, not cut
MAX_TERMS = 5
MAX_PAGE = 10_000
ORDERS = ("newest", "supports")
# Created only where pg_trgm exists, so no model declares them (migrations.drift skips them).
TRIGRAM_INDEXES = ("ix_proposals_text_trgm",)
# Exactly the indexed expression (the planner matches it by its form): the literal space
# rendered inline, not a bound parameter.
SEARCHED_TEXT = Proposal.title.concat(literal_column("' '")).concat(Proposal.description)
_DONG = re.compile(r"^[0-9]{10}$")
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class ProposalQuery:
    """What a resident asks the list for (every part optional)."""

    text: str = ""
    district_code: str | None = None
    category_key: str | None = None
    order: str = "newest"
    page: int = 1

    @property
    def terms(self) -> list[str]:
        return search_terms(self.text)


@dataclass(frozen=True)
class ProposalCard:
    """One proposal as the list shows it. `title` is None for a hidden proposal."""

    id: int
    title: str | None
    category_key: str
    district_code: str | None
    supports: int
    status: str
    channel: str
    hidden_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class ProposalResults:
    cards: list[ProposalCard]
    total: int  # every proposal that matched, on all pages
    page: int
    per_page: int
    query: ProposalQuery = field(default_factory=ProposalQuery)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_number(self) -> int:
        """The position (from 1) of the first card on this page among all results."""
        return (self.page - 1) * self.per_page + 1 if self.cards else 0


def search_terms(text: str) -> list[str]:
    """The distinct whitespace-separated terms of a search, in order."""
    seen: list[str] = []
    for term in text.split():
        if term not in seen:
            seen.append(term)
    return seen


def like_pattern(term: str) -> str:
    """`%term%` with the LIKE wildcards of the term (and the escape character) escaped, so
    that a search for "50%" or "a_b" finds those characters, not any."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_query(
    text: str | None = None,
    *,
    district_code: str | None = None,
    category_key: str | None = None,
    order: str | None = None,
    page: Any = None,
) -> ProposalQuery:
    """A `ProposalQuery` from what a form sent (strings, or None for a part not sent);
    raises `Invalid` naming each part at fault."""
    errors: dict[str, list[str]] = {}
    text = " ".join((text or "").split())
    if len(text) > MAX_QUERY:
        errors["q"] = [f"A search is at most {MAX_QUERY} characters."]
    elif len(search_terms(text)) > MAX_TERMS:
        errors["q"] = [f"A search has at most {MAX_TERMS} words."]
    district_code = district_code or None
    if district_code is not None and not _DONG.match(district_code):
        errors["dong"] = ["Not a dong of this list."]
    category_key = category_key or None
    if category_key is not None and not _KEY.match(category_key):
        errors["category"] = ["Not a category of this list."]
    order = order or "newest"
    if order not in ORDERS:
        errors["order"] = ["Not an order of this list."]
    number = 1
    if page not in (None, ""):
        try:
            number = int(str(page), 10)
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_PAGE:
            errors["page"] = ["Not a page of this list."]
    if errors:
        raise Invalid(N_("The search cannot be run as asked."), errors=errors)
    return ProposalQuery(text, district_code, category_key, order, number)


def _matching(cycle_id: int, query: ProposalQuery, columns: Any) -> Select[Any]:
    statement = select(*columns).where(Proposal.cycle_id == cycle_id)
    if query.district_code is not None:
        statement = statement.where(Proposal.district_code == query.district_code)
    if query.category_key is not None:
        statement = statement.where(Proposal.category_key == query.category_key)
    terms = query.terms
    if terms:
        statement = statement.where(Proposal.hidden_reason.is_(None))
        statement = statement.where(and_(*(_contains(term) for term in terms)))
    return statement


def _contains(term: str) -> Any:
    pattern = like_pattern(term)
    if term.lower() == term.upper():
        # Nothing to fold (Hangul, digits, signs): LIKE compares bytes, where ILIKE lowercases
        # every candidate's whole text first, 3-4x slower (benchmarks/proposals_pages.py).
        return SEARCHED_TEXT.like(pattern, escape="\\")
    return SEARCHED_TEXT.ilike(pattern, escape="\\")


_CARD_COLUMNS = (
    Proposal.id,
    Proposal.title,
    Proposal.category_key,
    Proposal.district_code,
    Proposal.supports,
    Proposal.status,
    Proposal.channel,
    Proposal.hidden_reason,
    Proposal.created_at,
)


def find_proposals(
    session: Session, cycle_id: int, query: ProposalQuery, *, per_page: int = PER_PAGE
) -> ProposalResults:
    """One page of the cycle's proposals matching `query`, and how many match in all.

    Newest first (by id, which only grows), or most supported first with the newest first
    among equals: an order without ties, so a proposal appears on exactly one page."""
    total = session.scalar(_matching(cycle_id, query, (func.count(),))) or 0
    statement = _matching(cycle_id, query, _CARD_COLUMNS)
    if query.order == "supports":
        statement = statement.order_by(Proposal.supports.desc(), Proposal.id.desc())
    else:
        statement = statement.order_by(Proposal.id.desc())
    rows = session.execute(statement.limit(per_page).offset((query.page - 1) * per_page)).all()
    cards = [
        ProposalCard(
            id=row.id,
            title=None if row.hidden_reason is not None else row.title,
            category_key=row.category_key,
            district_code=row.district_code,
            supports=row.supports,
            status=row.status,
            channel=row.channel,
            hidden_reason=row.hidden_reason,
            created_at=row.created_at,
        )
        for row in rows
    ]
    return ProposalResults(cards, total, query.page, per_page, query)


@dataclass(frozen=True)
class BrowseOptions:
    """The choices of the filter form: the portal's categories (in their order) and dongs."""

    categories: list[Category]
    districts: list[District]

    def category(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)

    def district(self, code: str | None) -> District | None:
        return next((d for d in self.districts if d.code == code), None) if code else None


def browse_options(session: Session) -> BrowseOptions:
    categories = list(session.scalars(select(Category).order_by(Category.position, Category.id)))
    districts = list(session.scalars(select(District).order_by(District.name_ko, District.code)))
    return BrowseOptions(categories, districts)
