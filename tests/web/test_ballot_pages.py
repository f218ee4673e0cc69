"""The resident's ballot pages without a browser (no JavaScript): every ballot type cast
through the plain form, each refusal in words, drafts kept across navigation and sign-in,
two tabs casting one ballot, another tenant's envelope, CSRF, and the receipt check that
never shows a choice."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from saas.core.tenancy.binding import session_without_tenant, tenant_session
from tenants.cycles.models import Cycle
from tenants.voting.models import Ballot, BallotDraft

CYCLE = {
    "name_ko": "2027 주민참여예산",
    "name_en": "2027 PB",
    "fiscal_year": 2027,
    "starts_on": "2027-03-01",
    "total_budget": 1_000_000_000,
}
DONG = "4111156000"  # 수원시 장안구 파장동
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


class Portal:
    """A tenant with a cycle in voting, and a browser-like client of its pages."""

    def __init__(self, client, tenant, cycle, projects, envelope, person_headers):
        self.client, self.tenant, self.cycle, self.projects = client, tenant, cycle, projects
        self.envelope, self.person = envelope, person_headers

    @property
    def base(self) -> str:
        return f"/t/{self.tenant.slug}"

    def get(self, path: str, signed_in: bool = True, **kw):
        return self.client.get(self.base + path, headers=self.person if signed_in else {}, **kw)

    def token(self, path: str = "/receipts", signed_in: bool = True) -> str:
        page = self.get(path, signed_in=signed_in)
        found = CSRF.search(page.get_data(as_text=True))
        assert found, page.get_data(as_text=True)[:2000]
        return found.group(1)

    def post(self, path: str, data, signed_in: bool = True, csrf: bool = True):
        form = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf:
            form.append(("csrf_token", self.token(signed_in=signed_in)))
        return self.client.post(
            self.base + path, data=MultiDict(form), headers=self.person if signed_in else {}
        )

    def ids(self) -> list[int]:
        return [p["id"] for p in self.projects]

    def cast(self, selection: list[tuple[str, str]], birth_year: str = "1980"):
        """Review the selection and cast it, as a person without JavaScript would."""
        chosen = self.post(f"/vote/{self.envelope}", [*selection, ("action", "review")])
        assert chosen.status_code == 303, chosen.get_data(as_text=True)[:3000]
        assert chosen.headers["Location"].endswith(f"/vote/{self.envelope}/review")
        review = self.get(f"/vote/{self.envelope}/review")
        assert review.status_code == 200 and "아직 제출하지 않음" in review.get_data(as_text=True)
        return self.post(f"/vote/{self.envelope}/review", {"basis": "resident", "birth_year": birth_year})


@pytest.fixture
def portal(client, make_tenant, engine):
    made: dict[str, int] = {}

    def make(template="neighbourhood", region="41110", envelope=None, rules=None, costs=None, lift=True):
        tenant = make_tenant(template=template, region=region)
        staff = tenant.auth("staff")
        cycle = client.post(f"{tenant.api}/cycles", json=CYCLE, headers=staff).get_json()
        url = f"{tenant.api}/cycles/{cycle['id']}"
        if rules is not None:
            body = {**cycle["ballot"], **rules}
            for key in [k for k, v in rules.items() if v is None]:
                body.pop(key)
            assert client.put(f"{url}/ballot-rules", json={"ballot": body}, headers=staff).status_code == 200
        envelope = envelope or f"dong-{DONG}"
        category = client.get(f"{tenant.api}/categories").get_json()[0]["key"]
        projects = []
        for i, cost in enumerate(costs or (10_000_000, 20_000_000, 5_000_000, 7_000_000)):
            code = "ABCD"[i]
            body = {
                "envelope": envelope,
                "code": code,
                "title_ko": f"사업 {code} 놀이터",
                "category_key": category,
                "cost": cost,
            }
            response = client.post(f"{url}/projects", json=body, headers=staff)
            assert response.status_code == 201, response.get_json()
            projects.append(response.get_json())
        order = ["draft", *[p["key"] for p in cycle["phases"]]]
        status = cycle["status"]
        while status != "voting":
            status = order[order.index(status) + 1]
            assert client.post(f"{url}/phase", json={"to": status}, headers=staff).status_code == 200
        if lift:
            with tenant_session(engine, tenant.slug) as session:
                row = session.get(Cycle, cycle["id"])
                eligibility = {**row.eligibility, "online_requires_national_idp": False}
                session.execute(update(Cycle).where(Cycle.id == cycle["id"]).values(eligibility=eligibility))
                session.commit()
        return Portal(client, tenant, cycle, projects, envelope, _person(engine, tenant, made))

    return make


def _person(engine, tenant, made) -> dict[str, str]:
    """A resident's credential issued to a person (an account), as a sign-in gives one."""
    from saas.core.accounts.models import Account, Role
    from saas.core.accounts.tokens import create_token

    with session_without_tenant(engine) as session:
        account = Account(display_name=f"resident of {tenant.slug}")
        session.add(account)
        session.flush()
        _, secret = create_token(
            session,
            name="resident",
            role=Role.RESIDENT,
            tenant_id=tenant.id,
            account_id=account.id,
            actor="test",
        )
    return {"Authorization": f"Bearer {secret}"}


def _ballots(engine, portal) -> int:
    with tenant_session(engine, portal.tenant.slug) as session:
        return session.scalar(select(func.count()).select_from(Ballot))


def _receipt_code(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]


def test_the_landing_page_gives_one_button_per_envelope(portal):
    p = portal()
    page = p.get("/vote/", signed_in=False)
    assert page.status_code == 200
    assert f'/vote/{p.envelope}"' in page.get_data(as_text=True)


def test_an_approval_ballot_is_cast_without_javascript_and_its_receipt_shown(portal, engine):
    p = portal()
    a, b = p.ids()[:2]
    code = _receipt_code(p.cast([("project", str(a)), ("project", str(b))]))
    receipt = p.get(f"/receipt/{code}", signed_in=False)
    html = receipt.get_data(as_text=True)
    assert receipt.status_code == 200 and code in html and "온라인" in html
    assert "놀이터" not in html  # no project, chosen or not
    assert _ballots(engine, p) == 1


def test_a_knapsack_ballot_is_cast_without_javascript(portal, engine):
    p = portal(
        template="citywide",
        region=None,
        envelope="citywide",
        costs=(200_000_000, 150_000_000, 100_000_000, 90_000_000),
    )
    a, b = p.ids()[:2]
    assert p.cast([("project", str(a)), ("project", str(b))]).status_code == 303
    assert _ballots(engine, p) == 1


def test_a_cumulative_ballot_is_cast_without_javascript(portal, engine):
    p = portal(template="youth", region=None, envelope="youth")
    a, b = p.ids()[:2]
    cast = p.cast([(f"points-{a}", "5"), (f"points-{b}", "4")], birth_year="2010")
    assert cast.status_code == 303, cast.get_data(as_text=True)[:2000]
    assert _ballots(engine, p) == 1


def test_a_ranked_ballot_is_cast_without_javascript(portal, engine):
    p = portal(rules={"type": "ranked", "max_rank": 2, "k": None, "min_k": None})
    a, b = p.ids()[:2]
    assert p.cast([(f"rank-{a}", "2"), (f"rank-{b}", "1")]).status_code == 303
    assert _ballots(engine, p) == 1


def test_projects_that_no_longer_fit_are_disabled_with_the_reason_in_words(portal):
    p = portal(
        template="citywide",
        region=None,
        envelope="citywide",
        costs=(300_000_000, 150_000_000, 50_000_000, 20_000_000),
    )
    big, other, *_ = p.ids()
    updated = p.post(f"/vote/{p.envelope}", [("project", str(big)), ("action", "update")])
    assert updated.status_code == 303
    html = p.get(f"/vote/{p.envelope}").get_data(as_text=True)
    assert re.search(rf'value="{other}"[^>]*disabled', html)
    assert "사업비 150,000,000원, 남은 예산 100,000,000원" in html
    assert "아직 제출하지 않음" in html


def test_a_broken_rule_is_refused_in_words_and_the_selection_kept(portal):
    p = portal()  # choose up to 3
    refused = p.post(f"/vote/{p.envelope}", [*(("project", str(i)) for i in p.ids()), ("action", "update")])
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "사업을 3개까지 고르세요." in html
    assert html.count("checked") == 4  # what the person ticked is shown again


def test_a_field_that_is_no_choice_is_named(portal):
    p = portal(template="youth", region=None, envelope="youth")
    a = p.ids()[0]
    refused = p.post(f"/vote/{p.envelope}", [(f"points-{a}", "many"), ("action", "update")])
    assert refused.status_code == 422
    assert f'href="#field-points-{a}"' in refused.get_data(
        as_text=True
    ) and "정수를 입력하세요." in refused.get_data(as_text=True)


def test_a_person_who_voted_on_site_is_told_so_on_the_page(portal, engine):
    p = portal()
    a = p.ids()[0]
    card = p.client.get(f"{p.tenant.api}/cycles/{p.cycle['id']}/voter-card", headers=p.person).get_json()[
        "voter_card"
    ]
    check_in = p.client.post(
        f"{p.tenant.api}/cycles/{p.cycle['id']}/check-ins",
        headers=p.tenant.auth("officer"),
        json={
            "basis": "resident",
            "birth_year": 1980,
            "district_code": DONG,
            "voter_card": card,
            "channel": "onsite",
            "choices": [{"project_id": a}],
        },
    )
    assert check_in.status_code == 201
    assert p.post(f"/vote/{p.envelope}", [("project", str(a)), ("action", "update")]).status_code == 303
    refused = p.post(f"/vote/{p.envelope}/review", {"basis": "resident", "birth_year": "1980"})
    assert refused.status_code == 409
    assert "이미 투표했습니다(현장 투표)" in refused.get_data(as_text=True)
    assert _ballots(engine, p) == 1


def test_a_voter_too_young_is_refused_in_words(portal):
    p = portal()
    cast = p.cast([("project", str(p.ids()[0]))], birth_year="2020")
    assert cast.status_code == 422
    assert "세 이상만 투표할 수 있습니다" in cast.get_data(as_text=True)


def test_a_sign_in_not_verified_enough_is_refused_in_words(portal):
    p = portal(lift=False)  # the neighbourhood template asks for the national IdP
    cast = p.cast([("project", str(p.ids()[0]))])
    assert cast.status_code == 403
    assert "국가 본인확인" in cast.get_data(as_text=True)


def test_voting_closed_before_the_cast_is_refused_in_words(portal, engine):
    p = portal()
    assert (
        p.post(f"/vote/{p.envelope}", [("project", str(p.ids()[0])), ("action", "review")]).status_code == 303
    )
    token = p.token()
    keys = [ph["key"] for ph in p.cycle["phases"]]
    after = keys[keys.index("voting") + 1]
    moved = p.client.post(
        f"{p.tenant.api}/cycles/{p.cycle['id']}/phase", json={"to": after}, headers=p.tenant.auth("staff")
    )
    assert moved.status_code == 200
    refused = p.client.post(
        f"{p.base}/vote/{p.envelope}/review",
        data={"basis": "resident", "birth_year": "1980", "csrf_token": token},
        headers=p.person,
    )
    assert refused.status_code == 409
    assert "투표가 마감되어 이 투표는 기록되지 않았습니다." in refused.get_data(as_text=True)
    assert _ballots(engine, p) == 0


def test_a_draft_is_kept_across_navigation(portal):
    p = portal()
    a = p.ids()[0]
    assert p.post(f"/vote/{p.envelope}", [("project", str(a)), ("action", "update")]).status_code == 303
    assert "아직 제출하지 않음" in p.get("/vote/").get_data(as_text=True)
    html = p.get(f"/vote/{p.envelope}").get_data(as_text=True)
    assert re.search(rf'value="{a}"\s+checked', html)
    # nobody else sees it
    assert "아직 제출하지 않음" not in p.get("/vote/", signed_in=False).get_data(as_text=True)


def test_a_selection_made_before_sign_in_comes_back_after_it(portal, engine):
    p = portal()
    a, c = p.ids()[0], p.ids()[2]
    sent = p.post(
        f"/vote/{p.envelope}",
        [("project", str(a)), ("project", str(c)), ("action", "review")],
        signed_in=False,
    )
    assert sent.status_code == 303
    target = urlsplit(sent.headers["Location"])
    assert target.path == f"{p.base}/signin"
    back = unquote(parse_qs(target.query)["next"][0])
    assert back.startswith(f"/vote/{p.envelope}?sel=")
    shown = p.get(back)  # what the sign-in returns to, now signed in
    html = shown.get_data(as_text=True)
    assert (
        shown.status_code == 200
        and re.search(rf'value="{a}"\s+checked', html)
        and re.search(rf'value="{c}"\s+checked', html)
    )
    with tenant_session(engine, p.tenant.slug) as session:
        assert session.scalar(select(func.count()).select_from(BallotDraft)) == 0  # a GET saves nothing
    kept = p.post(f"/vote/{p.envelope}", [("project", str(a)), ("project", str(c)), ("action", "review")])
    assert kept.status_code == 303 and kept.headers["Location"].endswith("/review")
    with tenant_session(engine, p.tenant.slug) as session:
        assert session.scalar(select(func.count()).select_from(BallotDraft)) == 1


def test_two_tabs_casting_leave_one_ballot(portal, engine):
    p = portal()
    assert (
        p.post(f"/vote/{p.envelope}", [("project", str(p.ids()[0])), ("action", "review")]).status_code == 303
    )
    token = p.token()
    form = {"basis": "resident", "birth_year": "1980", "csrf_token": token}
    first = p.client.post(f"{p.base}/vote/{p.envelope}/review", data=form, headers=p.person)
    second = p.client.post(f"{p.base}/vote/{p.envelope}/review", data=form, headers=p.person)
    assert first.status_code == 303 and second.status_code == 409
    assert "이미 투표했습니다" in second.get_data(as_text=True)
    assert _ballots(engine, p) == 1


def test_another_tenants_envelope_is_not_found(portal):
    mine = portal()
    theirs = portal(template="citywide", region=None, envelope="citywide")
    assert mine.get("/vote/citywide").status_code == 404  # their envelope's key, at my portal
    other = mine.client.get(f"{theirs.base}/vote/citywide", headers=mine.person)  # my credential at theirs
    assert other.status_code == 404


def test_a_post_without_the_csrf_token_is_refused(portal, engine):
    p = portal()
    refused = p.post(f"/vote/{p.envelope}", [("project", str(p.ids()[0])), ("action", "update")], csrf=False)
    assert refused.status_code == 400
    with tenant_session(engine, p.tenant.slug) as session:
        assert session.scalar(select(func.count()).select_from(BallotDraft)) == 0


def test_the_receipt_check_says_counted_or_not_found_and_never_the_choices(portal):
    p = portal()
    code = _receipt_code(p.cast([("project", str(p.ids()[1]))]))
    found = p.post("/receipts", {"code": code.lower()}, signed_in=False)
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "이 투표는 기록되었고 개표에 포함됩니다." in html and "온라인" in html
    assert "놀이터" not in html and " B " not in html
    missing = p.post("/receipts", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"}, signed_in=False)
    assert missing.status_code == 404 and "이 포털에는 이 영수증 코드의 투표가 없습니다." in missing.get_data(
        as_text=True
    )
    malformed = p.post("/receipts", {"code": "12345"}, signed_in=False)
    assert malformed.status_code == 422 and 'href="#field-code"' in malformed.get_data(as_text=True)


def test_the_draft_endpoint_answers_where_the_selection_stands(portal):
    p = portal()
    a, b, c, d = p.ids()
    token = p.token()
    answer = p.client.post(
        f"{p.base}/vote/{p.envelope}/draft",
        json={"selection": {str(a): 1, str(b): 1, str(c): 1}},
        headers={**p.person, "X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:1000]
    body = answer.get_json()
    assert body["saved"] and body["left"] == 0 and body["projects"][str(d)]["disabled"]
    assert "3개" in body["projects"][str(d)]["why"]
    refused = p.client.post(f"{p.base}/vote/{p.envelope}/draft", json={"selection": {}}, headers=p.person)
    assert refused.status_code == 400


def test_what_is_cast_is_what_was_reviewed_whatever_another_tab_changed(portal, engine):
    p = portal()
    a, b, c, _ = p.ids()
    assert p.post(f"/vote/{p.envelope}", [("project", str(a)), ("action", "review")]).status_code == 303
    review = p.get(f"/vote/{p.envelope}/review").get_data(as_text=True)
    hidden = re.findall(r'name="(choice|cycle)" value="([^"]+)"', review)
    assert [name for name, _ in hidden] == ["cycle", "choice"] and hidden[1][1].endswith(f".{a}.1")
    # another tab changes the draft to B and C
    assert (
        p.post(
            f"/vote/{p.envelope}", [("project", str(b)), ("project", str(c)), ("action", "update")]
        ).status_code
        == 303
    )
    cast = p.post(f"/vote/{p.envelope}/review", [("basis", "resident"), ("birth_year", "1980"), *hidden])
    assert cast.status_code == 303
    with tenant_session(engine, p.tenant.slug) as session:
        from tenants.voting.models import BallotChoice

        assert session.scalars(select(BallotChoice.project_id)).all() == [a]
        assert session.scalar(select(func.count()).select_from(BallotDraft)) == 0


def test_a_reviewed_choice_that_is_no_choice_is_refused(portal, engine):
    p = portal()
    assert (
        p.post(f"/vote/{p.envelope}", [("project", str(p.ids()[0])), ("action", "review")]).status_code == 303
    )
    refused = p.post(
        f"/vote/{p.envelope}/review", [("basis", "resident"), ("birth_year", "1980"), ("choice", "1.x.1")]
    )
    assert refused.status_code == 422
    assert _ballots(engine, p) == 0
