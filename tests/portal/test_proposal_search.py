"""Finding proposals: Korean substring search (with and without trigrams), LIKE wildcards
taken literally, filters by dong and category, stable paging, the count, moderation."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from saas.core.refusals import Invalid
from saas.core.tenancy.binding import tenant_session
from tenants.portal.models import Category, District
from tenants.proposals.models import Proposal
from tenants.proposals.search import (
    TRIGRAM_INDEXES,
    ProposalQuery,
    _matching,
    check_query,
    find_proposals,
    like_pattern,
)


@pytest.fixture
def intake(new_cycle, engine):
    """A cycle in proposal intake, with a helper that stores proposals in it."""
    cycle = new_cycle(template="citywide")
    cycle.advance_to("proposal_intake")
    with tenant_session(engine, cycle.tenant.slug) as session:
        categories = list(session.scalars(select(Category.key).order_by(Category.position)))
        dongs = list(session.scalars(select(District.code).order_by(District.code)))

    def store(*rows: dict) -> list[int]:
        with tenant_session(engine, cycle.tenant.slug) as session:
            proposals = [
                Proposal(
                    cycle_id=cycle.id,
                    title=row["title"],
                    description=row.get("description", "설명"),
                    category_key=row.get("category", categories[0]),
                    district_code=row.get("dong"),
                    channel="online",
                    proposer="account:1",
                    supports=row.get("supports", 0),
                    hidden_reason=row.get("hidden"),
                )
                for row in rows
            ]
            session.add_all(proposals)
            session.commit()
            return [p.id for p in proposals]

    cycle.store = store
    cycle.categories = categories
    cycle.dongs = dongs
    return cycle


def _find(engine, cycle, **asked):
    with tenant_session(engine, cycle.tenant.slug) as session:
        return find_proposals(session, cycle.id, ProposalQuery(**asked), per_page=asked.pop("per_page", 20))


def _titles(results) -> set[str]:
    return {card.title for card in results.cards}


def test_korean_substrings_of_one_two_and_more_syllables_are_found(intake, engine):
    intake.store(
        {"title": "어린이 공원 그늘막 설치"},
        {"title": "경로당 보수", "description": "지붕과 공원 쪽 담장 수리"},
        {"title": "가로등 교체", "description": "골목길이 어둡습니다"},
        {"title": "Park benches", "description": "New benches in the PARK"},
    )
    # 1 and 2 syllables have no trigram: the scan must still find them, in title or description
    assert _titles(_find(engine, intake, text="공원")) == {"어린이 공원 그늘막 설치", "경로당 보수"}
    assert _titles(_find(engine, intake, text="길")) == {"가로등 교체"}
    assert _titles(_find(engine, intake, text="그늘막")) == {"어린이 공원 그늘막 설치"}
    assert _titles(_find(engine, intake, text="담장 수리")) == {"경로당 보수"}  # every word, anywhere
    assert _titles(_find(engine, intake, text="공원 가로등")) == set()
    assert _titles(_find(engine, intake, text="park")) == {"Park benches"}  # any case
    found = _find(engine, intake, text="공원")
    assert found.total == 2 and found.pages == 1


def test_like_wildcards_in_a_search_are_taken_literally(intake, engine):
    intake.store(
        {"title": "주차비 50% 감면"},
        {"title": "주차비 500원 감면"},
        {"title": "a_b 구간 정비"},
        {"title": "axb 구간 정비"},
        {"title": "경계석 \\ 교체"},
    )
    assert _titles(_find(engine, intake, text="50%")) == {"주차비 50% 감면"}
    assert _titles(_find(engine, intake, text="%")) == {"주차비 50% 감면"}
    assert _titles(_find(engine, intake, text="a_b")) == {"a_b 구간 정비"}
    assert _titles(_find(engine, intake, text="_")) == {"a_b 구간 정비"}
    assert _titles(_find(engine, intake, text="\\")) == {"경계석 \\ 교체"}
    assert like_pattern("5%_\\") == "%5\\%\\_\\\\%"


def test_filters_by_dong_and_category_combine_with_the_search(intake, engine):
    first, second = intake.categories[0], intake.categories[1]
    dong_a, dong_b = intake.dongs[0], intake.dongs[1]
    intake.store(
        {"title": "놀이터 A1", "dong": dong_a, "category": first},
        {"title": "놀이터 A2", "dong": dong_a, "category": second},
        {"title": "놀이터 B1", "dong": dong_b, "category": first},
        {"title": "도서관 A1", "dong": dong_a, "category": first},
    )
    assert _titles(_find(engine, intake, district_code=dong_a)) == {"놀이터 A1", "놀이터 A2", "도서관 A1"}
    assert _titles(_find(engine, intake, district_code=dong_a, category_key=first)) == {
        "놀이터 A1",
        "도서관 A1",
    }
    both = _find(engine, intake, text="놀이터", district_code=dong_a, category_key=first)
    assert _titles(both) == {"놀이터 A1"} and both.total == 1
    assert _find(engine, intake, district_code="9999999999").total == 0


def test_pages_hold_every_proposal_once_in_a_stable_order(intake, engine):
    ids = intake.store(*({"title": f"제안 {n}", "supports": n % 4} for n in range(45)))
    for order in ("newest", "supports"):
        seen: list[int] = []
        for page in (1, 2, 3):
            results = _find(engine, intake, order=order, page=page)
            assert results.total == 45 and results.pages == 3
            assert results.first_number == (page - 1) * 20 + 1
            seen += [card.id for card in results.cards]
        assert sorted(seen) == sorted(ids) and len(set(seen)) == 45, order
    newest = [c.id for c in _find(engine, intake).cards]
    assert newest == sorted(ids, reverse=True)[:20]
    supported = _find(engine, intake, order="supports").cards
    assert [c.supports for c in supported[:5]] == [3, 3, 3, 3, 3]
    assert _find(engine, intake, page=4).cards == []


def test_a_hidden_proposal_is_listed_without_its_text_and_never_found_by_it(intake, engine):
    intake.store(
        {"title": "욕설이 담긴 제목", "description": "비방", "hidden": "욕설"},
        {"title": "평범한 제안", "description": "비방 없음"},
    )
    listed = _find(engine, intake)
    hidden = next(c for c in listed.cards if c.hidden_reason is not None)
    assert hidden.title is None and hidden.hidden_reason == "욕설" and listed.total == 2
    assert _find(engine, intake, text="욕설").total == 0
    assert _titles(_find(engine, intake, text="비방")) == {"평범한 제안"}


def test_another_cycles_proposals_are_not_listed(intake, engine):
    intake.store({"title": "이번 주기"})
    assert _find(engine, intake).total == 1
    with tenant_session(engine, intake.tenant.slug) as session:
        other = find_proposals(session, intake.id + 1000, ProposalQuery())
    assert other.total == 0


@pytest.mark.parametrize(
    ("asked", "field"),
    [
        ({"text": "가" * 101}, "q"),
        ({"text": "가 나 다 라 마 바"}, "q"),
        ({"district_code": "11"}, "dong"),
        ({"category_key": "Robert'); DROP"}, "category"),
        ({"order": "random"}, "order"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "10001"}, "page"),
    ],
)
def test_a_search_out_of_bounds_is_refused_naming_the_field(asked, field):
    with pytest.raises(Invalid) as refused:
        check_query(**asked)
    assert list(refused.value.errors) == [field]


def test_a_search_is_normalised():
    query = check_query("  놀이터   그늘막 놀이터 ", district_code="", category_key="", page="2")
    assert query.text == "놀이터 그늘막 놀이터" and query.terms == ["놀이터", "그늘막"]
    assert query.district_code is None and query.category_key is None and query.page == 2
    assert check_query("가" * 100).text == "가" * 100


def test_the_trigram_index_serves_searches_of_three_syllables(intake, engine):
    with engine.connect() as connection:
        has_trgm = connection.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    if not has_trgm:
        pytest.skip("this PostgreSQL has no pg_trgm (the embedded server): search scans here")
    intake.store(
        {"title": "어린이 공원 그늘막 설치"},
        *({"title": f"제안 {n}", "description": f"주민 제안 {n}번 설명"} for n in range(3000)),
    )
    schema = f"t_{intake.tenant.slug}"
    # as autovacuum would after these inserts: GIN's statistics are refreshed by VACUUM only
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'VACUUM ANALYZE "{schema}".proposals'))
    with engine.connect() as connection:
        indexes = set(
            connection.scalars(text("SELECT indexname FROM pg_indexes WHERE schemaname = :s"), {"s": schema})
        )
        assert set(TRIGRAM_INDEXES) <= indexes
        statement = _matching(intake.id, ProposalQuery(text="그늘막"), (Proposal.id,))
        compiled = statement.compile(dialect=engine.dialect)
        sql = str(compiled).replace("FROM proposals", f'FROM "{schema}".proposals')
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}", compiled.params))
    assert "Bitmap Index Scan on ix_proposals_text_trgm" in plan, plan
