"""The planning-input phase: residents rate how much the municipality should spend on each
category (1 = less, 5 = more); the summary feeds the budget plan."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.core.refusals import Invalid
from tenants.cycles.services import cycle_or_404, require_phase
from tenants.portal.models import Category
from tenants.voting.models import PlanningRating

PLANNING = "planning_input"


def do_rate_priorities(session: Session, cycle_id: int, *, person_key: str, ratings: dict[str, int]) -> int:
    """Record (or replace) one person's ratings during the planning-input phase."""
    cycle = cycle_or_404(session, cycle_id)
    require_phase(cycle, PLANNING, action="Rating spending priorities")
    known = set(session.scalars(select(Category.key)))
    unknown = sorted(set(ratings) - known)
    if unknown:
        raise Invalid(f"Unknown categories: {', '.join(unknown)}.", errors={"ratings": unknown})
    rows = [
        {"cycle_id": cycle.id, "person_key": person_key, "category_key": k, "rating": v}
        for k, v in ratings.items()
    ]
    statement = insert(PlanningRating).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["cycle_id", "person_key", "category_key"],
            set_={"rating": statement.excluded.rating},
        )
    )
    session.commit()
    return len(rows)


def priority_summary(session: Session, cycle_id: int) -> list[dict[str, Any]]:
    """Per category: how many rated it, the mean rating, and the count of each rating 1–5."""
    cycle_or_404(session, cycle_id)
    rows = session.execute(
        select(PlanningRating.category_key, PlanningRating.rating, func.count())
        .where(PlanningRating.cycle_id == cycle_id)
        .group_by(PlanningRating.category_key, PlanningRating.rating)
    ).all()
    categories = session.scalars(select(Category).order_by(Category.position)).all()
    summary = []
    for category in categories:
        counts = {rating: n for key, rating, n in rows if key == category.key}
        total = sum(counts.values())
        summary.append(
            {
                "category_key": category.key,
                "name_ko": category.name_ko,
                "name_en": category.name_en,
                "respondents": total,
                "mean": round(sum(r * n for r, n in counts.items()) / total, 2) if total else None,
                "distribution": [counts.get(r, 0) for r in range(1, 6)],
            }
        )
    return summary


def my_ratings(session: Session, cycle_id: int, *, person_key: str) -> dict[str, int]:
    """The ratings one person gave in a cycle (category key -> 1..5), to show and change."""
    rows = session.execute(
        select(PlanningRating.category_key, PlanningRating.rating).where(
            PlanningRating.cycle_id == cycle_id, PlanningRating.person_key == person_key
        )
    ).all()
    return {key: rating for key, rating in rows}


def planning_categories(session: Session) -> list[Category]:
    """The categories a resident rates, in the portal's order."""
    return list(session.scalars(select(Category).order_by(Category.position, Category.id)))
