"""What the resident pages read: the cycle shown, phase windows, a proposal's page with its
supports, the viewer's own support and comments, and moderation withholding text."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from saas.core.refusals import NotFound
from saas.core.tenancy.binding import tenant_session
from tenants.portal.models import Category
from tenants.proposals import services
from tenants.proposals.models import Proposal
from tenants.proposals.reading import (
    NOT_YET,
    OPEN,
    OVER,
    phase_window,
    proposal_page,
    shown_cycle,
)
from tenants.voting.planning import my_ratings


def _proposal(engine, cycle, title="놀이터 그늘막") -> int:
    with tenant_session(engine, cycle.tenant.slug) as session:
        category = session.scalars(select(Category.key)).first()
        proposal = Proposal(
            cycle_id=cycle.id,
            title=title,
            description="여름에 그늘이 필요합니다",
            category_key=category,
            channel="online",
            proposer="account:1",
        )
        session.add(proposal)
        session.commit()
        return proposal.id


def test_the_portal_shows_the_cycle_under_way_and_no_draft(new_cycle, engine):
    cycle = new_cycle()
    with tenant_session(engine, cycle.tenant.slug) as session:
        assert shown_cycle(session) is None  # only a draft
    cycle.advance("planning_input")
    with tenant_session(engine, cycle.tenant.slug) as session:
        shown = shown_cycle(session)
        assert shown is not None and shown.id == cycle.id


def test_a_phase_window_says_open_not_yet_or_over(new_cycle, engine):
    cycle = new_cycle()
    cycle.advance("planning_input")

    def window(key):
        with tenant_session(engine, cycle.tenant.slug) as session:
            return phase_window(shown_cycle(session), key)

    assert window("planning_input").state == OPEN
    intake = window("proposal_intake")
    assert intake.state == NOT_YET and intake.starts_on is not None
    cycle.advance("proposal_intake")
    assert window("planning_input").state == OVER and window("proposal_intake").state == OPEN
    cycle.advance("feasibility_review")
    over = window("proposal_intake")
    assert over.state == OVER and over.ends_on is not None
    assert window("no_such_phase").state == "none"


def test_a_proposal_page_counts_supports_once_and_knows_the_viewers(new_cycle, engine):
    cycle = new_cycle()
    cycle.advance_to("proposal_intake")
    proposal_id = _proposal(engine, cycle)
    with tenant_session(engine, cycle.tenant.slug) as session:
        for supporter in ("account:7", "account:7", "account:8"):
            services.do_support(session, cycle.id, proposal_id, supporter=supporter)
        services.do_comment(session, cycle.id, proposal_id, author="account:7", body="좋아요")
        services.do_comment(session, cycle.id, proposal_id, author="account:8", body="광고 글")
    with tenant_session(engine, cycle.tenant.slug) as session:
        spam = proposal_page(session, proposal_id, viewer=None).comments[1].id
        services.do_moderate(
            session, _ref(cycle, engine), cycle.id, proposal_id,
            comment_id=spam, hidden_reason="광고", actor="staff",
        )
    with tenant_session(engine, cycle.tenant.slug) as session:
        seven = proposal_page(session, proposal_id, viewer="account:7")
        stranger = proposal_page(session, proposal_id, viewer="account:9")
        anonymous = proposal_page(session, proposal_id, viewer=None)
    assert seven.supports == 2 and seven.supported and not stranger.supported and not anonymous.supported
    assert [c.body for c in seven.comments] == ["좋아요", None]
    assert seven.comments[1].hidden_reason == "광고" and seven.comments[0].mine
    assert not stranger.comments[0].mine
    assert seven.title == "놀이터 그늘막" and seven.category is not None


def test_a_hidden_proposal_keeps_its_reason_and_loses_its_text(new_cycle, engine):
    cycle = new_cycle()
    cycle.advance_to("proposal_intake")
    proposal_id = _proposal(engine, cycle, title="비방하는 제목")
    with tenant_session(engine, cycle.tenant.slug) as session:
        services.do_comment(session, cycle.id, proposal_id, author="account:7", body="댓글")
        services.do_moderate(
            session, _ref(cycle, engine), cycle.id, proposal_id,
            comment_id=None, hidden_reason="비방", actor="staff",
        )
        page = proposal_page(session, proposal_id, viewer="account:7")
    assert page.hidden and page.hidden_reason == "비방"
    assert page.title is None and page.description is None and page.comments == []


def test_another_tenants_proposal_id_is_missing(new_cycle, engine):
    mine, other = new_cycle(), new_cycle()
    mine.advance_to("proposal_intake")
    proposal_id = _proposal(engine, mine)
    with tenant_session(engine, other.tenant.slug) as session, pytest.raises(NotFound):
        proposal_page(session, proposal_id, viewer=None)


def test_my_ratings_are_mine_only(new_cycle, engine):
    from tenants.voting.planning import do_rate_priorities

    cycle = new_cycle()
    cycle.advance("planning_input")
    with tenant_session(engine, cycle.tenant.slug) as session:
        keys = list(session.scalars(select(Category.key)))[:2]
        do_rate_priorities(session, cycle.id, person_key="k1", ratings={keys[0]: 5, keys[1]: 1})
        do_rate_priorities(session, cycle.id, person_key="k2", ratings={keys[0]: 2})
        do_rate_priorities(session, cycle.id, person_key="k1", ratings={keys[0]: 3})
        assert my_ratings(session, cycle.id, person_key="k1") == {keys[0]: 3, keys[1]: 1}
        assert my_ratings(session, cycle.id, person_key="k3") == {}


def _ref(cycle, engine):
    from saas.core.registry.models import Tenant
    from saas.core.tenancy.binding import session_without_tenant
    from saas.core.tenancy.context import TenantRef

    with session_without_tenant(engine) as session:
        return TenantRef.of(session.scalars(select(Tenant).where(Tenant.slug == cycle.tenant.slug)).one())
