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
