"""HTML error pages for browsers in both languages; the API keeps its JSON errors."""

from __future__ import annotations

import pytest
from sqlalchemy import update


def test_unknown_portal_is_the_404_page_in_both_languages(client, browser_headers, page_of):
    korean = client.get("/t/nosuchportal/", headers=browser_headers)
    assert korean.status_code == 404
    assert "페이지를 찾을 수 없습니다" in page_of(korean).text
    client.set_cookie("chamyeo_lang", "en")
    english = client.get("/t/nosuchportal/", headers=browser_headers)
    assert "Page not found" in page_of(english).text


def test_a_page_of_an_existing_portal_that_does_not_exist_is_html(client, alpha, browser_headers, page_of):
    response = client.get(f"/t/{alpha.slug}/no-such-page", headers=browser_headers)
    assert response.status_code == 404
    assert page_of(response).lang == "ko"


def test_the_api_keeps_its_json_errors(client, alpha, browser_headers):
    response = client.get(f"/t/{alpha.slug}/api/v1/pages/nope", headers=browser_headers)
    assert response.status_code == 404
    assert response.is_json and response.get_json()["code"] == 404
    assert client.get("/t/nosuchportal/api/v1/portal", headers=browser_headers).is_json


def test_a_suspended_portal_says_it_is_paused(client, make_tenant, engine, browser_headers, page_of):
    from saas.core.registry.models import Tenant, TenantStatus

    tenant = make_tenant()
    with engine.begin() as connection:
        connection.execute(update(Tenant).where(Tenant.id == tenant.id).values(status=TenantStatus.SUSPENDED))
    korean = client.get(f"/t/{tenant.slug}/")
    assert korean.status_code == 503
    assert "이 포털은 잠시 운영을 멈추었습니다" in page_of(korean).text
    client.set_cookie("chamyeo_lang", "en")
    english = client.get(f"/t/{tenant.slug}/")
    assert english.status_code == 503
    assert "This portal is paused" in page_of(english).text
    api = client.get(f"/t/{tenant.slug}/api/v1/portal")
    assert api.status_code == 503 and api.is_json


def test_a_post_without_the_csrf_token_is_a_400_page_that_keeps_the_input(client, alpha, page_of):
    response = client.post(f"/t/{alpha.slug}/signout", data={"note": "내가 쓴 글"})
    assert response.status_code == 400
    page = page_of(response)
    assert "양식을 보낼 수 없었습니다" in page.text
    kept = {i.get("name"): i.get("value") for i in page.inputs}
    assert kept["note"] == "내가 쓴 글"
    assert kept["csrf_token"]  # the page's form can send it again, with this browser's token


def test_a_token_of_another_browser_is_refused(app, alpha, page_of):
    first, second = app.test_client(), app.test_client()
    # The 400 page's form carries this browser's token (and gives it its secret).
    token = page_of(first.post(f"/t/{alpha.slug}/signout")).csrf_token()
    page_of(second.post(f"/t/{alpha.slug}/signout"))  # a secret of its own
    assert second.post(f"/t/{alpha.slug}/signout", data={"csrf_token": token}).status_code == 400
    assert second.post(f"/t/{alpha.slug}/signout", data={"csrf_token": "0" * 64}).status_code == 400
    assert first.post(f"/t/{alpha.slug}/signout", data={"csrf_token": token}).status_code == 303


def test_html_answers_carry_the_strict_headers(client, alpha):
    response = client.get(f"/t/{alpha.slug}/")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "base-uri 'none'", "form-action 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get(f"/t/{alpha.slug}/", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_no_inline_script_or_style_in_a_page(client, alpha):
    import re

    html = client.get(f"/t/{alpha.slug}/").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and " style=" not in html


@pytest.mark.parametrize(("lang", "heading"), [("ko", "문제가 생겼습니다"), ("en", "Something went wrong")])
def test_the_500_and_409_pages_exist_in_both_languages(app, lang, heading):
    from saas.core.web.errors import render_error

    with app.test_request_context("/t/alpha/", headers={"Cookie": f"chamyeo_lang={lang}"}):
        body, status = render_error(500)
        assert status == 500 and heading in body and f'<html lang="{lang}">' in body
        body, status = render_error(403)
        assert status == 403 and ("권한이 없습니다" if lang == "ko" else "You may not open this page") in body
        body, status = render_error(409, message="The cycle is closed.")
        assert status == 409 and "The cycle is closed." in body
