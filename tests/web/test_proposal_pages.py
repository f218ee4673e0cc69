"""The proposal and planning pages without a browser: browse, search, a proposal's page,
support, comment, submit, rate; and their refusals (not signed in, wrong phase, another
tenant's proposal, bad input, no CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

import pytest
from sqlalchemy import select

from saas.core.tenancy.binding import session_without_tenant, tenant_session
from tests.conftest import FixtureTenant
from tests.portal.conftest import CYCLE

PORTAL_COOKIE = "chamyeo_portal"


@dataclass
class Portal:
    tenant: FixtureTenant
    cycle_id: int
    advance: Callable[[str], None]
    sign_in: Callable[..., str]

    @property
    def slug(self) -> str:
        return self.tenant.slug

    @property
    def base(self) -> str:
        return f"/t/{self.tenant.slug}"

    @property
    def api(self) -> str:
        return self.tenant.api

    def auth(self, role: str) -> dict[str, str]:
        return self.tenant.auth(role)


@pytest.fixture
def portal(client, make_tenant, engine):
    """A portal with a cycle in proposal intake, and a way to sign the client in."""
    tenant = make_tenant(template="citywide")
    response = client.post(f"{tenant.api}/cycles", json=CYCLE, headers=tenant.auth("staff"))
    assert response.status_code == 201, response.get_json()
    cycle_id = response.get_json()["id"]

    def advance(to: str) -> None:
        moved = client.post(
            f"{tenant.api}/cycles/{cycle_id}/phase", json={"to": to}, headers=tenant.auth("staff")
        )
        assert moved.status_code == 200, moved.get_json()

    def sign_in(name: str = "주민") -> str:
        """A live portal session for a new account, its cookie in the client (what the hub's
        sign-in ends with)."""
        from saas.control.identity.sessions import open_portal_session
        from saas.core.accounts.models import Account

        with session_without_tenant(engine) as session:
            account = Account(display_name=name)
            session.add(account)
            session.flush()
            secret = open_portal_session(
                session, tenant_id=tenant.id, account_id=account.id, hub_sid=f"hub-{account.id}",
                id_token="test", acr=None,
            )
            session.commit()
            client.set_cookie(PORTAL_COOKIE, secret, path="/")
            return f"account:{account.id}"

    return Portal(tenant, cycle_id, advance, sign_in)


def _csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:1000]
    return found.group(1)


def _text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _category(engine, slug: str) -> str:
    from tenants.portal.models import Category

    with tenant_session(engine, slug) as session:
        return session.scalars(select(Category.key).order_by(Category.position)).first()


def _submit(client, portal, engine, **fields):
    token = _csrf(client, f"{portal.base}/proposals/new")
    body = {
        "csrf_token": token,
        "title": "어린이 공원 그늘막",
        "description": "여름에 그늘이 필요합니다",
        "category_key": _category(engine, portal.slug),
        **fields,
    }
    return client.post(f"{portal.base}/proposals/new", data=body)


def test_a_resident_proposes_supports_once_and_comments(client, portal, engine):
    portal.advance("planning_input")
    portal.advance("proposal_intake")
    portal.sign_in()
    submitted = _submit(client, portal, engine, estimated_cost="30,000,000")
    assert submitted.status_code == 303, _text(submitted)[:2000]
    detail_url = submitted.headers["Location"]
    page = client.get(detail_url)
    assert page.status_code == 200
    assert "어린이 공원 그늘막" in _text(page) and "제안이 접수되었습니다" in _text(page)
    proposal_url = detail_url.split("?")[0]
    for _ in range(2):  # supporting twice is one support
        token = _csrf(client, proposal_url)
        supported = client.post(f"{proposal_url}/support", data={"csrf_token": token})
        assert supported.status_code == 303
    shown = _text(client.get(proposal_url))
    assert "1명이 공감합니다" in shown and "이 제안에 공감하셨습니다" in shown
    token = _csrf(client, proposal_url)
    commented = client.post(f"{proposal_url}/comments", data={"csrf_token": token, "body": "좋은 생각입니다"})
    assert commented.status_code == 303
    assert "좋은 생각입니다" in _text(client.get(proposal_url))

    listed = client.get(f"{portal.base}/proposals/?q=그늘막")
    assert listed.status_code == 200 and "제안 1건" in _text(listed)
    assert 'role="status"' in listed.get_data(as_text=True)
    client.set_cookie("chamyeo_lang", "en", path="/")
    english = client.get(f"{portal.base}/proposals/?q=우주선")
    client.delete_cookie("chamyeo_lang", path="/")
    assert "0 proposals found" in _text(english) and 'lang="en"' in english.get_data(as_text=True)


def test_the_form_keeps_the_input_and_names_each_field_at_fault(client, portal, engine):
    portal.advance("planning_input")
    portal.advance("proposal_intake")
    portal.sign_in()
    empty = _submit(client, portal, engine, title="", description="내용은 남습니다", estimated_cost="많이")
    assert empty.status_code == 422
    text = _text(empty)
    assert "제목을 200자 이내로 적어 주세요" in text and "원 단위 숫자" in text
    assert "내용은 남습니다" in text  # what was typed is kept
    assert 'class="error-summary" role="alert"' in empty.get_data(as_text=True)
    assert 'href="#field-title"' in empty.get_data(as_text=True)
    long = _submit(client, portal, engine, title="가" * 201)
    assert long.status_code == 422 and "제목을 200자 이내로" in _text(long)
    unknown = _submit(client, portal, engine, category_key="no-such")
    assert unknown.status_code == 422 and "목록에서 분야를 고르세요" in _text(unknown)


def test_submitting_outside_the_proposals_phase_says_when_it_opens_or_closed(client, portal, engine):
    portal.advance("planning_input")
    portal.sign_in()
    early = client.get(f"{portal.base}/proposals/new")
    assert early.status_code == 409 and "시작합니다" in _text(early)
    posted = _submit(client, portal, engine)
    assert posted.status_code == 409
    portal.advance("proposal_intake")
    portal.advance("feasibility_review")
    late = client.get(f"{portal.base}/proposals/new")
    assert late.status_code == 409 and "끝났습니다" in _text(late)


def test_signing_in_is_required_to_propose_support_comment_and_rate(client, portal):
    for path in ("/proposals/new", "/planning"):
        response = client.get(f"{portal.base}{path}")
        assert response.status_code == 303 and "/signin?next=" in response.headers["Location"]
    portal.sign_in()
    token = _csrf(client, f"{portal.base}/proposals/")  # the sign-out form's: this browser's token
    client.delete_cookie(PORTAL_COOKIE, path="/")
    response = client.post(f"{portal.base}/proposals/1/support", data={"csrf_token": token})
    assert response.status_code == 303 and "/signin" in response.headers["Location"]


def test_a_post_without_the_csrf_token_is_refused(client, portal, engine):
    portal.advance("planning_input")
    portal.advance("proposal_intake")
    portal.sign_in()
    response = client.post(
        f"{portal.base}/proposals/new",
        data={"title": "x", "description": "y", "category_key": _category(engine, portal.slug)},
    )
    assert response.status_code == 400


def test_another_tenants_proposal_is_not_found(client, portal, make_tenant, engine):
    portal.advance("planning_input")
    portal.advance("proposal_intake")
    portal.sign_in()
    submitted = _submit(client, portal, engine)
    proposal_id = int(submitted.headers["Location"].split("/proposals/")[1].split("?")[0])
    other = make_tenant(template="citywide")
    assert client.get(f"/t/{other.slug}/proposals/{proposal_id}").status_code == 404
    assert client.get(f"{portal.base}/proposals/{proposal_id + 999}").status_code == 404


def test_a_hidden_proposal_shows_the_reason_and_not_its_text(client, portal, engine):
    portal.advance("planning_input")
    portal.advance("proposal_intake")
    portal.sign_in()
    submitted = _submit(client, portal, engine, title="비방하는 제목")
    proposal_id = int(submitted.headers["Location"].split("/proposals/")[1].split("?")[0])
    hidden = client.post(
        f"{portal.api}/cycles/{portal.cycle_id}/proposals/{proposal_id}/moderation",
        json={"hidden_reason": "비방"},
        headers=portal.auth("staff"),
    )
    assert hidden.status_code == 200
    page = _text(client.get(f"{portal.base}/proposals/{proposal_id}"))
    assert "운영자가 숨김: 비방" in page and "비방하는 제목" not in page
    listed = _text(client.get(f"{portal.base}/proposals/"))
    assert "운영자가 숨김: 비방" in listed and "비방하는 제목" not in listed


def test_bad_search_input_is_a_message_not_an_error(client, portal):
    portal.advance("planning_input")
    response = client.get(f"{portal.base}/proposals/?q={'가' * 101}&page=x")
    assert response.status_code == 422
    text = _text(response)
    assert "검색어는 100자" in text and "없는 페이지입니다" in text


def test_a_resident_rates_the_priorities_and_changes_them(client, portal, engine):
    portal.advance("planning_input")
    portal.sign_in()
    category = _category(engine, portal.slug)
    token = _csrf(client, f"{portal.base}/planning")
    saved = client.post(f"{portal.base}/planning", data={"csrf_token": token, f"rating-{category}": "5"})
    assert saved.status_code == 303
    page = client.get(f"{portal.base}/planning").get_data(as_text=True)
    assert re.search(rf'name="rating-{category}" value="5"[^>]*checked', page)
    changed = client.post(f"{portal.base}/planning", data={"csrf_token": token, f"rating-{category}": "2"})
    assert changed.status_code == 303
    page = client.get(f"{portal.base}/planning").get_data(as_text=True)
    assert re.search(rf'name="rating-{category}" value="2"[^>]*checked', page)
    bad = client.post(f"{portal.base}/planning", data={"csrf_token": token, f"rating-{category}": "9"})
    assert bad.status_code == 422 and "1에서 5 사이로" in _text(bad)
    nothing = client.post(f"{portal.base}/planning", data={"csrf_token": token})
    assert nothing.status_code == 422 and "한 분야 이상" in _text(nothing)
    portal.advance("proposal_intake")
    closed = client.get(f"{portal.base}/planning")
    assert closed.status_code == 409 and "끝났습니다" in _text(closed)
