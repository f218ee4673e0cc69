"""Languages of the pages: Korean first (the default), English complete.

The locale of a request: `?lang=ko|en` (remembered in the `chamyeo_lang` cookie, then the
same page again without it), else that cookie, else the tenant's default language, else
Korean. Each package with templates or page strings keeps its own catalogue
(`<package>/translations/{ko,en}/LC_MESSAGES/messages.po` and its compiled `.mo`), so
engineers working on different packages never edit one file; `CATALOGUE_PACKAGES` lists them
and flask-babel merges them in that order.
"""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from babel import numbers
from flask import g, redirect, request
from flask_babel import Babel, format_date, format_datetime, get_locale
from flask_babel import gettext as _

from saas.core.refusals import Message, Refusal, as_sentence

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.wrappers import Response

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
LANG_COOKIE = "chamyeo_lang"
TIMEZONE = "Asia/Seoul"

# Every package that has templates or page strings; add yours (order: later ones win a msgid
# two catalogues both translate, which should not happen).
CATALOGUE_PACKAGES = (
    "saas.core.web",
    "tenants.portal",
    "tenants.proposals",
    "tenants.people",
    "saas.control.identity",
    "tenants.voting",
    "tenants.results",
    "tenants.execution",
)

LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}


def package_folder(package: str) -> Path:
    """The folder of `package`, found without importing it here (the core may not import
    the layers above; their catalogues are only files to it)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"no package {package!r}")
    return Path(next(iter(spec.submodule_search_locations)))


def catalogue_folders() -> list[Path]:
    return [package_folder(package) / "translations" for package in CATALOGUE_PACKAGES]


def select_locale() -> str:
    # ?lang= first: an error page answered before the switch's redirect speaks it too.
    chosen = request.args.get("lang") or g.get("chamyeo_lang")
    if chosen in LANGUAGES:
        return str(chosen)
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return str(cookie)
    tenant = g.get("tenant")
    if tenant is not None:
        default = tenant.branding.get("default_language")
        if default in LANGUAGES:
            return str(default)
    return DEFAULT_LANGUAGE


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def switch_language_from_query() -> Response | None:
    """A `before_request` hook: `?lang=xx` on a page remembers the choice and answers the
    same page without the parameter (so a shared link carries no language)."""
    lang = request.args.get("lang")
    if lang is None or request.method != "GET" or "/api/" in request.path:
        return None
    if lang not in LANGUAGES:
        return None  # an unknown value is ignored, the page shows in the current language
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    target = request.path + (f"?{urlencode(rest)}" if rest else "")
    response = redirect(target, code=303)
    secure = request.is_secure
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 24 * 3600, path="/", samesite="Lax", secure=secure, httponly=True
    )
    return response


def url_in_language(lang: str) -> str:
    """This page in `lang`: the same path and query, with `lang` (see above)."""
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + "?" + urlencode([*rest, ("lang", lang)])


# --- formatting (Jinja filters) ---


def won(amount: int | Decimal | None) -> str:
    """An amount in won: `1,234,000원` in Korean, `₩1,234,000` in English."""
    if amount is None:
        return ""
    lang = current_language()
    if lang == "ko":
        return f"{numbers.format_decimal(amount, locale='ko')}원"
    return numbers.format_currency(amount, "KRW", locale=lang)


def number(value: int | float | Decimal | None) -> str:
    if value is None:
        return ""
    return numbers.format_decimal(value, locale=current_language())


def percent(value: float | Decimal | None, digits: int = 1) -> str:
    """`value` a fraction (0.256 → 25.6 %)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return numbers.format_percent(value, format=pattern, locale=current_language())


def date_filter(value: date | datetime | None, format: str = "long") -> str:
    if value is None:
        return ""
    return format_date(value, format=format)


def datetime_filter(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, format=format)


def localized(thing: object, field: str) -> str:
    """`thing.<field>_<lang>`, the other language's when this one is empty (content exists in
    both languages, but not always both filled)."""
    lang = current_language()
    other = "en" if lang == "ko" else "ko"
    for code in (lang, other):
        name = f"{field}_{code}"
        value = thing.get(name) if isinstance(thing, dict) else getattr(thing, name, None)
        if value:
            return str(value)
    return ""


def in_language(texts: object) -> str:
    """`{"ko": ..., "en": ...}` (or a plain string) in the current language, the other as fallback."""
    if isinstance(texts, str):
        return texts
    if not isinstance(texts, dict):
        return ""
    lang = current_language()
    return str(texts.get(lang) or texts.get("en" if lang == "ko" else "ko") or "")


def tenant_display_name(tenant: object) -> str:
    """The municipality's name in the current language (Korean when it has no English one)."""
    name = str(getattr(tenant, "name", ""))
    if current_language() == "en":
        return str(getattr(tenant, "name_en", None) or name)
    return name


def translated(text: str) -> str:
    """`text` in the current language: a `Message` (a refusal's sentence, marked with `N_` where
    it is written) from its msgid and parameters, any other string as a msgid of its own (itself
    when no catalogue has it)."""
    if isinstance(text, Message):
        params = {name: _in_language_of_page(value) for name, value in text.params.items()}
        return str(_(text.msgid, **params)) if params else str(_(text.msgid))
    return str(_(text)) if text else text


def _in_language_of_page(value: object) -> object:
    if isinstance(value, Message):
        return translated(value)
    if isinstance(value, datetime):
        return datetime_filter(value, "short")
    return value


def refusal_sentence(refusal: Refusal) -> str:
    """The refusal's sentence as a page shows it, in the current language."""
    text = translated(refusal.message)
    return as_sentence(text) if refusal.fragment and text else text


def has_translation(text: str) -> bool:
    """Whether a page in the current language reads `text` in that language (English always
    does; Korean when a catalogue translates its msgid)."""
    if current_language() == "en" or not text:
        return True
    msgid = text.msgid if isinstance(text, Message) else str(text)
    return str(_(msgid)) != msgid


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(p) for p in catalogue_folders())
    Babel(app, locale_selector=select_locale)
    app.before_request(switch_language_from_query)
    app.jinja_env.filters.update(
        won=won,
        number=number,
        percent=percent,
        date=date_filter,
        datetime=datetime_filter,
    )
    app.jinja_env.globals.update(
        current_language=current_language,
        url_in_language=url_in_language,
        localized=localized,
        in_language=in_language,
        tenant_display_name=tenant_display_name,
        LANGUAGES=LANGUAGES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
    )


__all__ = ["_", "init_app", "translated", "refusal_sentence", "won", "number", "percent", "localized"]
