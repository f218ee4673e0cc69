"""Server time of the proposal list (1,000 proposals) and of search over 10,000 proposals,
as ratios against a baseline measured in the same command.

    .venv/bin/python -m benchmarks.proposals_pages [--samples 200]

(on the server of $DATABASE_URL, default the machine's PostgreSQL; a fresh database
`chamyeo_bench_proposals`.) Two portals are provisioned through the real steps, each with a
cycle in proposal intake: `list1k` with 1,000 proposals, `search10k` with 10,000 (Korean titles
and descriptions of 150–900 characters built from a fixed vocabulary, seeded). A third,
`scan10k`, holds the same 10,000 proposals without the trigram index (dropped), to show what
the index buys; where the server has no pg_trgm all three scan.

Measured in one process, interleaved round by round so that load drifts alike for all:
  baseline  the page of one proposal by id (`GET /t/<slug>/proposals/<id>`), or where the
            pages are not there yet, one proposal read by its key in a tenant session
  list      `GET /t/list1k/proposals/` (page 1, newest first; by dong; most supported)
  search    `GET /t/search10k/proposals/?q=...` with terms of 3+, 2 and 1 syllables
Each through Flask's test client (routing, tenant resolution, the service, rendering) when
`tenants.proposals.pages` exists; the service call alone otherwise.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable

from sqlalchemy import insert, select, text

from benchmarks.common import fmt, fresh_database, interleaved_samples, machine, percentiles, settings_for

SLUGS = {"list1k": ("11680", 1_000), "search10k": ("41110", 10_000), "scan10k": ("26440", 10_000)}
WORDS = (
    "놀이터 그늘막 설치 공원 산책로 정비 가로등 교체 경로당 보수 도서관 작은 북카페 주차장 확충 "
    "횡단보도 안전 어린이 보호구역 방범 CCTV 하천 자전거 도로 쉼터 벤치 화단 꽃길 마을 축제 "
    "청소년 문화 공간 체육 시설 운동 기구 쓰레기 분리수거 재활용 정류장 온열 의자 주민 센터 "
    "공유 부엌 텃밭 학교 통학로 보행로 턱 낮추기 경사로 장애인 편의 노인 돌봄 반려견 놀이 "
    "생태 습지 나무 심기 미세먼지 저감 그린 커튼 태양광 지붕 전통 시장 간판 정비 골목길 벽화 "
    "안내판 다국어 무료 와이파이 공공 화장실 수유실 쉼터 냉난방 배수로 침수 예방 제설함"
).split()
SEARCHES = {
    "3+ syllables, common (놀이터)": "놀이터",
    "3+ syllables, rare (제설함)": "제설함",
    "two words (공원 벤치)": "공원 벤치",
    "2 syllables (텃밭)": "텃밭",
    "1 syllable (길)": "길",
    "no match (우주정거장)": "우주정거장",
    "common, most supported (놀이터)": "놀이터&order=supports",
    "2 syllables, most supported (텃밭)": "텃밭&order=supports",
}


# The everyday words of proposals, most frequent first (chosen with weights 1/rank), and a
# long tail of rarer words (two or three random syllables): real texts are not a small
# vocabulary repeated, and how many proposals a term matches drives a search's cost.
_WEIGHTS = [1 / rank for rank in range(1, len(WORDS) + 1)]


def _rare_word(rng: random.Random) -> str:
    return "".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(rng.randint(2, 3)))


def _text(rng: random.Random, low: int, high: int) -> str:
    words: list[str] = []
    length = rng.randint(low, high)
    while sum(len(w) + 1 for w in words) < length:
        common = rng.random() < 0.6
        words.append(rng.choices(WORDS, _WEIGHTS)[0] if common else _rare_word(rng))
    return " ".join(words)


def _portal(engine, slug: str, region: str, count: int, rng: random.Random) -> tuple[int, list[str], int]:
    """Provision `slug`, open a cycle's proposal intake, store `count` proposals; return the
    cycle id, the dongs and one proposal id."""
    from datetime import date

    from provisioning.lifecycle import do_register_tenant
    from provisioning.runner import run_provisioning
    from saas.core.registry.models import Tenant
    from saas.core.tenancy.binding import session_without_tenant, tenant_session
    from saas.core.tenancy.context import TenantRef
    from tenants.cycles.services import do_advance_phase, do_create_cycle
    from tenants.portal.models import Category, District
    from tenants.proposals.models import Proposal

    with session_without_tenant(engine) as session:
        do_register_tenant(
            session, slug=slug, region_code=region, template="citywide",
            platform_domain="chamyeo.localhost", actor="bench",
        )
    assert run_provisioning(engine, slug).status.value == "active"
    with session_without_tenant(engine) as session:
        ref = TenantRef.of(session.scalars(select(Tenant).where(Tenant.slug == slug)).one())
    with tenant_session(engine, slug) as session:
        cycle = do_create_cycle(
            session, ref, name_ko="2027 주민참여예산", name_en="2027 PB", fiscal_year=2027,
            starts_on=date(2027, 3, 1), total_budget=1_000_000_000, actor="bench",
        )
        cycle_id = cycle.id
        for phase in ("planning_input", "proposal_intake"):
            do_advance_phase(session, ref, cycle_id, to_phase=phase, actor="bench")
        categories = list(session.scalars(select(Category.key)))
        dongs = list(session.scalars(select(District.code)))
        rows = [
            {
                "cycle_id": cycle_id,
                "title": _text(rng, 8, 40),
                "description": _text(rng, 150, 900),
                "category_key": rng.choice(categories),
                "district_code": rng.choice(dongs),
                "channel": "online",
                "proposer": f"account:{n}",
                "supports": rng.randint(0, 300),
                "status": "submitted",
            }
            for n in range(count)
        ]
        for start in range(0, count, 2_000):
            session.execute(insert(Proposal), rows[start : start + 2_000])
        session.commit()
        first = session.scalar(select(Proposal.id).where(Proposal.cycle_id == cycle_id).limit(1))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE t_{slug}.proposals"))  # as autovacuum would
    return cycle_id, dongs, first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()

    from migrations.runner import upgrade_control
    from saas.core.db import Database

    url = fresh_database("chamyeo_bench_proposals")
    settings = settings_for(url)
    database = Database()
    database.configure(settings)
    engine = database.engine
    upgrade_control(engine)
    with engine.connect() as connection:
        trigram = connection.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")) is not None
    rng = random.Random(2027)
    portals = {slug: _portal(engine, slug, region, count, rng) for slug, (region, count) in SLUGS.items()}
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX IF EXISTS t_scan10k.ix_proposals_text_trgm"))

    cases: dict[str, Callable[[], object]] = {}
    try:
        import tenants.proposals.pages  # noqa: F401

        through = "pages (Flask test client)"
    except ImportError:
        through = "service only"
    if through.startswith("pages"):
        from saas.app import create_app

        app = create_app(settings)
        client = app.test_client()

        def get(path: str) -> Callable[[], object]:
            def run() -> object:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            return run

        _, dongs, first = portals["list1k"]
        cases["baseline: one proposal's page"] = get(f"/t/list1k/proposals/{first}")
        cases["list of 1,000: page 1"] = get("/t/list1k/proposals/")
        cases["list of 1,000: one dong"] = get(f"/t/list1k/proposals/?dong={dongs[0]}")
        cases["list of 1,000: most supported"] = get("/t/list1k/proposals/?order=supports")
        for label, q in SEARCHES.items():
            cases[f"search 10,000: {label}"] = get(f"/t/search10k/proposals/?q={q}")
            cases[f"scan 10,000: {label}"] = get(f"/t/scan10k/proposals/?q={q}")
    else:
        from saas.core.tenancy.binding import tenant_session
        from tenants.proposals.models import Proposal
        from tenants.proposals.search import ProposalQuery, find_proposals

        def service(slug: str, query: ProposalQuery) -> Callable[[], object]:
            cycle_id = portals[slug][0]

            def run() -> object:
                with tenant_session(engine, slug) as session:
                    return find_proposals(session, cycle_id, query)

            return run

        def baseline() -> object:
            with tenant_session(engine, "list1k") as session:
                return session.get(Proposal, portals["list1k"][2])

        cases["baseline: one proposal by key"] = baseline
        cases["list of 1,000: page 1"] = service("list1k", ProposalQuery())
        one_dong = ProposalQuery(district_code=portals["list1k"][1][0])
        cases["list of 1,000: one dong"] = service("list1k", one_dong)
        cases["list of 1,000: most supported"] = service("list1k", ProposalQuery(order="supports"))
        for label, q in SEARCHES.items():
            term, _, order = q.partition("&order=")
            asked = ProposalQuery(text=term, order=order or "newest")
            cases[f"search 10,000: {label}"] = service("search10k", asked)
            cases[f"scan 10,000: {label}"] = service("scan10k", asked)

    samples = interleaved_samples(cases, args.samples)

    print(machine())
    print(f"pg_trgm: {'yes' if trigram else 'NO (every search scans)'}; measured through: {through}")
    print(f"{args.samples} rounds, cases interleaved per round")
    base = percentiles(next(iter(samples.values())))
    for name, values in samples.items():
        p = percentiles(values)
        print(f"  {name:48s} {fmt(p)}  p95 ratio {p['p95'] / base['p95']:.2f}")
    database.dispose()


if __name__ == "__main__":
    main()
