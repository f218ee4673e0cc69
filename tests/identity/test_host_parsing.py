"""One host parser (`saas.core.tenancy.web.slug_for_host`) serves both the request routing
and the hub's search for the portal a post-logout URI belongs to."""

from __future__ import annotations

import pytest

from saas.core.tenancy.web import slug_for_host

DOMAINS = {"pb.example.kr": "alpha"}


@pytest.mark.parametrize(
    ("host", "slug"),
    [
        ("alpha.chamyeo.test", "alpha"),
        ("Alpha.Chamyeo.Test:8443", "alpha"),  # case and port do not matter
        ("alpha.chamyeo.test.", "alpha"),  # nor a trailing dot
        ("NOT_A-slug.chamyeo.test", "not_a-slug"),  # unchecked: it must end in 404, not the hub
        ("pb.example.kr", "alpha"),  # a custom domain
        ("pb.example.kr:5000", "alpha"),
        ("chamyeo.test", None),  # the platform's own host
        ("localhost:5000", None),
        ("127.0.0.1", None),
        ("[::1]:5000", None),
        ("", None),
        ("elsewhere.example.org", None),
        ("evilchamyeo.test", None),  # a suffix without the dot is another domain
    ],
)
def test_a_host_names_its_tenant_or_none(host: str, slug: str | None) -> None:
    assert slug_for_host(host, "chamyeo.test", custom_domain=DOMAINS.get) == slug


def test_the_platform_domain_is_matched_whatever_its_case() -> None:
    assert slug_for_host("beta.chamyeo.test", "Chamyeo.Test", custom_domain=DOMAINS.get) == "beta"
