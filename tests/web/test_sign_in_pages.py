"""The portal's sign-in page offers its providers; the one chosen there is not asked again."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import delete


@pytest.fixture
def offered(engine, alpha):
    from saas.control.identity.models import IdentityProvider, ProviderStatus
    from saas.core.tenancy.binding import session_without_tenant

    key = "alpha-own-idp"
    with session_without_tenant(engine) as session:
        session.add(
            IdentityProvider(
                key=key,
                display_name="알파구 통합로그인",
                tenant_id=alpha.id,
                issuer="http://127.0.0.1:9/alpha-own",
                metadata_url="http://127.0.0.1:9/alpha-own/.well-known/openid-configuration",
                client_id="chamyeo-hub",
                client_secret_encrypted="unused",
                status=ProviderStatus.APPROVED,
                is_development=False,
            )
        )
        session.commit()
    yield key
    with session_without_tenant(engine) as session:
        session.execute(delete(IdentityProvider).where(IdentityProvider.key == key))
        session.commit()


def test_the_sign_in_page_has_one_button_per_offered_provider(client, alpha, offered, page_of):
    page = page_of(client.get(f"/t/{alpha.slug}/signin?next=/proposals/new"))
    assert "알파구 통합로그인" in page.text
    login = f"/t/{alpha.slug}/auth/login?next=%2Fproposals%2Fnew&provider={offered}"
    assert login in page.links
    foreign = page_of(client.get(f"/t/{alpha.slug}/signin?next=https://evil.example/"))
    logins = [link for link in foreign.links if "/auth/login" in link]
    assert logins and all("next=%2F&" in link for link in logins)  # back home, never elsewhere


def test_the_hub_goes_straight_to_the_provider_chosen_at_the_portal(client, alpha, offered):
    from saas.control.identity.provider.clients import client_id_for

    def chooser(hint: str):
        authorize = "/oidc/authorize?" + urlencode({"client_id": client_id_for(alpha.slug), "idp_hint": hint})
        return client.get("/identity/sign-in?" + urlencode({"return_to": authorize}))

    chosen = chooser(offered)
    assert chosen.status_code == 303
    location = urlsplit(chosen.headers["Location"])
    assert location.path == f"/identity/start/{offered}"
    assert "idp_hint" in parse_qs(location.query)["return_to"][0]
    unknown = chooser("not-offered-here")
    assert unknown.status_code == 200  # the hub asks, as without a hint
    assert f'data-provider="{offered}"' in unknown.get_data(as_text=True)


def _chooser_path(alpha) -> str:
    from saas.control.identity.provider.clients import client_id_for

    authorize = "/oidc/authorize?" + urlencode({"client_id": client_id_for(alpha.slug)})
    return "/identity/sign-in?" + urlencode({"return_to": authorize})


def test_the_hubs_chooser_is_a_translated_page_of_the_platform(client, alpha, offered, page_of):
    response = client.get(_chooser_path(alpha))
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    page = page_of(response)
    assert page.lang == "ko" and "로그인" in page.text and "본인 확인 방법을 선택하세요" in page.text
    assert "Sign in" not in page.text
    assert "/assets/web/" in html and "brand.css" not in html  # the foundation's look, no portal's
    starts = [link for link in page.links if link.startswith(f"/identity/start/{offered}?")]
    assert len(starts) == 1 and "return_to=%2Foidc%2Fauthorize" in starts[0]
    english = client.get(_chooser_path(alpha) + "&lang=en", follow_redirects=True)
    page = page_of(english)
    assert page.lang == "en" and "Choose how to prove who you are" in page.text
    assert any(link.startswith(f"/identity/start/{offered}?") for link in page.links)  # same page


def test_a_refused_sign_in_step_is_a_page_for_a_browser_and_json_for_a_client(
    client, alpha, offered, page_of, browser_headers
):
    callback = f"/identity/callback/{offered}?state=forged&code=x"
    refused = client.get(callback, headers=browser_headers)
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    page = page_of(refused)
    assert page.lang == "ko" and "로그인하지 못했습니다" in page.text
    assert "알 수 없는 상태 값입니다" in page.text and "the state is unknown" not in page.text
    english = page_of(client.get(callback + "&lang=en", headers=browser_headers, follow_redirects=True))
    assert "The state is unknown (tampered with, or from another sign-in)." in english.text
    answer = client.get(callback, headers={"Accept": "*/*"})
    assert answer.status_code == 400
    assert answer.get_json()["message"] == (
        "Sign-in refused: the state is unknown (tampered with, or from another sign-in)"
    )


def test_a_refused_return_from_the_hub_is_a_page_of_the_portal(client, alpha, page_of, browser_headers):
    callback = f"/t/{alpha.slug}/auth/callback?state=forged&code=x"
    refused = client.get(callback, headers=browser_headers)
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    page = page_of(refused)
    html = refused.get_data(as_text=True)
    assert page.lang == "ko" and "로그인 응답을 받아들일 수 없었습니다." in page.text
    assert "알 수 없는 상태 값입니다" in page.text and "the state is unknown" not in page.text
    assert f"/t/{alpha.slug}/brand.css" in html and f"/t/{alpha.slug}/signin" in page.links
    answer = client.get(callback, headers={"Accept": "*/*"})
    assert answer.status_code == 400 and answer.get_json()["message"].startswith("Sign-in refused: ")
