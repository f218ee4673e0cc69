"""A tenant's branding as the pages use it: `/t/<slug>/brand.css` (its colours as CSS custom
properties, since no inline style is allowed) and the checks its colours pass before saving."""

from __future__ import annotations

from typing import Any

from flask import Response

from saas.core.tenancy.context import current_tenant
from saas.core.web.contrast import HEX_COLOUR, contrast_failure, readable_on
from saas.core.web.pages import page_blueprint

DEFAULT_PRIMARY = "#1f4e8c"
DEFAULT_ACCENT = "#2ba37a"
PAGE_BACKGROUND = "#ffffff"

bp = page_blueprint("web_branding", __name__)


def _colour(branding: dict[str, Any], key: str, default: str) -> str:
    value = branding.get(key)
    return value.lower() if isinstance(value, str) and HEX_COLOUR.match(value) else default


def brand_colours(branding: dict[str, Any]) -> dict[str, str]:
    """The CSS custom properties of a tenant's branding (only valid colours reach CSS)."""
    primary = _colour(branding, "primary_color", DEFAULT_PRIMARY)
    accent = _colour(branding, "accent_color", DEFAULT_ACCENT)
    return {
        "--brand": primary,
        "--brand-contrast": readable_on(primary),
        "--accent": accent,
        "--accent-contrast": readable_on(accent),
    }


def contrast_failures(branding: dict[str, Any]) -> list[str]:
    """Each colour pair of `branding` the pages would show below WCAG AA (4.5:1), named:
    the primary colour as text (links, headings) on the page, the text on a primary button,
    the text on the accent colour."""
    failures = []
    primary = branding.get("primary_color")
    accent = branding.get("accent_color")
    if isinstance(primary, str) and HEX_COLOUR.match(primary):
        failures.append(contrast_failure(primary, PAGE_BACKGROUND, name="text"))
        failures.append(contrast_failure(readable_on(primary), primary, name="button text"))
    if isinstance(accent, str) and HEX_COLOUR.match(accent):
        failures.append(contrast_failure(readable_on(accent), accent, name="text"))
    return [failure for failure in failures if failure]


@bp.get("/brand.css")
def brand_css() -> Response:
    lines = [f"  {name}: {value};" for name, value in brand_colours(current_tenant().branding).items()]
    response = Response(":root {\n" + "\n".join(lines) + "\n}\n", mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
