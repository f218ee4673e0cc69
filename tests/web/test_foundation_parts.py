"""The foundation's parts: locale formats, contrast, branding's check on save, assets, fonts."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from saas.core.web import i18n
from saas.core.web.contrast import contrast_failure, contrast_ratio
from saas.core.web.markup import render_markdown

FONTS = Path(__file__).resolve().parents[2] / "saas" / "core" / "web" / "static" / "fonts"


@pytest.mark.parametrize(
    ("lang", "won", "when", "moment"),
    [
        ("ko", "1,234,000원", "2027년 3월 1일", "2027. 3. 1. 오전 9:30:00"),
        ("en", "₩1,234,000", "March 1, 2027", "Mar 1, 2027, 9:30:00"),
    ],
)
def test_money_numbers_and_dates_follow_the_locale(app, lang, won, when, moment):
    with app.test_request_context("/", headers={"Cookie": f"chamyeo_lang={lang}"}):
        assert i18n.won(1_234_000) == won
        assert i18n.number(1234567) == "1,234,567"
        assert i18n.date_filter(date(2027, 3, 1)) == when
        # Korean time: 00:30 UTC is 09:30 in Seoul.
        assert i18n.datetime_filter(datetime(2027, 3, 1, 0, 30, tzinfo=UTC)).startswith(moment)
        assert i18n.percent(0.256).replace("\xa0", "") in ("25.6%",)


def test_contrast_ratios_match_wcag():
    assert round(contrast_ratio("#000000", "#ffffff"), 2) == 21.0
    assert contrast_failure("#777777", "#ffffff") == "text #777777 on background #ffffff: 4.48:1, needs 4.5:1"
    assert contrast_failure("#767676", "#ffffff") is None  # 4.54:1


def test_branding_with_too_little_contrast_is_refused_naming_the_pair(client, make_tenant):
    tenant = make_tenant()
    logo_text = {"ko": "우리 예산", "en": "Our budget"}
    body = {"primary_color": "#7a7a7a", "accent_color": "#2ba37a", "logo_text": logo_text}
    refused = client.put(f"{tenant.api}/portal/branding", json=body, headers=tenant.auth("tenant_admin"))
    assert refused.status_code == 422
    assert "text #7a7a7a on background #ffffff" in refused.get_json()["message"]
    assert "needs 4.5:1" in refused.get_json()["message"]
    as_staff = client.put(f"{tenant.api}/portal/branding", json=body, headers=tenant.auth("staff"))
    assert as_staff.status_code == 403
    body["primary_color"] = "#0b5a8c"
    saved = client.put(f"{tenant.api}/portal/branding", json=body, headers=tenant.auth("tenant_admin"))
    assert saved.status_code == 200, saved.get_json()
    css = client.get(f"/t/{tenant.slug}/brand.css")
    assert css.mimetype == "text/css"
    assert "--brand: #0b5a8c;" in css.get_data(as_text=True)
    assert "--brand-contrast: #ffffff;" in css.get_data(as_text=True)


def test_a_logo_from_another_site_is_refused(client, make_tenant):
    tenant = make_tenant()
    body = {
        "primary_color": "#0b5a8c",
        "accent_color": "#2ba37a",
        "logo_text": {"ko": "우리 예산", "en": "Our budget"},
        "logo_url": "https://cdn.example.com/logo.png",
    }
    response = client.put(f"{tenant.api}/portal/branding", json=body, headers=tenant.auth("tenant_admin"))
    assert response.status_code == 422
    assert "logo_url" in str(response.get_json())


def test_assets_have_fingerprinted_urls_cached_for_a_year(app, client):
    with app.test_request_context("/"):
        from saas.core.web.assets import asset_url

        url = asset_url("css/portal.css")
    digest = url.split("/")[3]
    css = (Path(__file__).resolve().parents[2] / "saas/core/web/static/css/portal.css").read_bytes()
    assert digest == hashlib.sha256(css).hexdigest()[:12]
    response = client.get(url)
    response.close()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(url.replace("/css/", "/../../")).status_code == 404
    assert client.get("/assets/web/000000000000/nothing.css").status_code == 404


def test_fonts_are_served_on_a_tenants_own_host(client, alpha):
    font = "Pretendard-Regular-1.3.9.woff2"
    response = client.get(f"/assets/web/x/fonts/{font}", headers={"Host": f"{alpha.slug}.chamyeo.test"})
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "font/woff2"


def test_the_vendored_fonts_are_the_recorded_files_with_their_licence():
    recorded = {}
    for line in (FONTS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        recorded[name] = digest
    assert "Pretendard-LICENSE.txt" in recorded
    assert "SIL OPEN FONT LICENSE" in (FONTS / "Pretendard-LICENSE.txt").read_text().upper()
    for name, digest in recorded.items():
        assert hashlib.sha256((FONTS / name).read_bytes()).hexdigest() == digest, name
    served = {p.name for p in FONTS.iterdir()} - {"SHA256SUMS"}
    assert served == set(recorded)


def test_page_texts_are_escaped_markdown():
    html = render_markdown("## 안내\n1. **첫째** <script>x</script>\n2. 둘째\n\n문단")
    assert "<h2>안내</h2>" in html  # the text's top heading is the page's second level
    assert "<ol><li><strong>첫째</strong> &lt;script&gt;x&lt;/script&gt;</li><li>둘째</li></ol>" in html
    assert "<p>문단</p>" in html
