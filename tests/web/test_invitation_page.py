"""The invitation page: what it offers, sign-in first, accepted only by the invited person."""

from __future__ import annotations

import pytest


@pytest.fixture
def invited(client, make_tenant, ministry):
    tenant = make_tenant(admin_email="chief@invited.example.kr")
    issued = client.post(f"/api/v1/tenants/{tenant.slug}/invitation", headers=ministry)
    assert issued.status_code == 201, issued.get_json()
    code = issued.get_json()["view_url"].rsplit("/", 1)[1]
    return tenant, code


def _token(client, url, page_of, headers):
    return page_of(client.get(url, headers=headers)).csrf_token()


def test_the_invitation_page_says_what_it_offers_and_asks_to_sign_in(client, invited, page_of):
    tenant, code = invited
    page = page_of(client.get(f"/t/{tenant.slug}/invitations/{code}"))
    assert "포털 관리자" in page.text and "chief@invited.example.kr" in page.text
    assert f"/t/{tenant.slug}/signin?next=%2Finvitations%2F{code}" in page.links
    response = client.post(f"/t/{tenant.slug}/invitations/{code}", data={"csrf_token": "x" * 64})
    assert response.status_code == 400  # a wrong token first, whoever sends it


def test_an_unknown_code_is_the_404_page(client, invited, page_of):
    tenant, _ = invited
    response = client.get(f"/t/{tenant.slug}/invitations/nope")
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in page_of(response).text


def test_only_the_invited_person_accepts_and_only_once(client, invited, page_of, person_token):
    tenant, code = invited
    url = f"/t/{tenant.slug}/invitations/{code}"
    someone = person_token(tenant, "someone@else.example.kr")
    refused = client.post(url, data={"csrf_token": _token(client, url, page_of, someone)}, headers=someone)
    assert refused.status_code == 403
    refusal = page_of(refused).text
    assert "로그인한 계정의 이메일은" in refusal  # the service's reason, in Korean
    assert "chief@invited.example.kr" in refusal  # naming the invited person
    chief = person_token(tenant, "chief@invited.example.kr")
    accepted = client.post(url, data={"csrf_token": _token(client, url, page_of, chief)}, headers=chief)
    assert accepted.status_code == 303
    home = page_of(client.get(accepted.headers["Location"], headers=chief))
    assert "환영합니다" in home.text
    again = client.post(url, data={"csrf_token": _token(client, url, page_of, chief)}, headers=chief)
    assert again.status_code == 409
