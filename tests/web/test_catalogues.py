"""Every page string is translated in both languages, and the compiled catalogues are current.

Also: no user-visible text in a template outside `{{ _() }}` / `{% trans %}` (the templates are
parsed with Jinja's own lexer, so text nodes are text nodes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment
from jinja2.lexer import TOKEN_BLOCK_BEGIN, TOKEN_BLOCK_END, TOKEN_DATA, TOKEN_NAME

from saas.core.web import catalogues
from saas.core.web.i18n import CATALOGUE_PACKAGES, package_folder

LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
# Text that is not language: a separator, an entity, punctuation.
NOT_WORDS = re.compile(r"^(&[a-z]+;|&#\d+;|[\s·–—:()\[\],./|%+-])*$")


@pytest.mark.parametrize("package", CATALOGUE_PACKAGES)
def test_each_catalogue_translates_every_string_and_its_mo_is_current(package):
    assert catalogues.check(package) == []


def test_the_check_fails_on_an_empty_korean_message_and_a_stale_mo(tmp_path, monkeypatch):
    import shutil

    from babel.messages.pofile import read_po

    package = "saas.core.web"
    copy = tmp_path / "web"
    shutil.copytree(package_folder(package), copy)
    monkeypatch.setattr(catalogues, "package_folder", lambda name: copy)
    po = copy / "translations" / "ko" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as file:
        catalog = read_po(file, locale="ko")
    first = next(m for m in catalog if m.id)
    first.string = ""
    po.write_bytes(catalogues._po_bytes(catalog))
    problems = catalogues.check(package)
    assert any("has no translation" in p for p in problems)
    assert any("stale" in p for p in problems)


def untranslated_text(source: str) -> list[str]:
    """Words with letters in text nodes outside gettext calls and {% trans %} blocks. Every
    expression and tag of Jinja becomes a blank, then HTML markup (tags with their attributes,
    which may span expressions) is removed: what remains is what a person reads."""
    out: list[str] = []
    in_trans = 0
    block: list[str] = []
    lexer = Environment(extensions=["jinja2.ext.i18n", "jinja2.ext.do"], autoescape=True)
    for _line, kind, value in lexer.lex(source):
        if kind == TOKEN_BLOCK_BEGIN:
            block = []
        elif kind == TOKEN_NAME and not block:
            block.append(value)
            in_trans += {"trans": 1, "endtrans": -1}.get(value, 0)
        elif kind == TOKEN_BLOCK_END:
            block = ["done"]
        if kind == TOKEN_DATA and not in_trans:
            out.append(value)
        elif kind != TOKEN_DATA:
            out.append("\x00")
    text = re.sub(r"<[^>]*>", " ", "".join(out))
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    words = text.replace("\x00", " ").split()
    return [word for word in words if LETTERS.search(word) and not NOT_WORDS.match(word)]


def templates() -> list[Path]:
    return sorted(
        path
        for package in CATALOGUE_PACKAGES
        for path in (package_folder(package) / "templates").rglob("*.html")
    )


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(p.parents[3])))
def test_no_template_shows_text_outside_gettext(path):
    assert untranslated_text(path.read_text()) == []


def test_the_template_check_finds_a_bare_sentence():
    assert untranslated_text("<p>Vote now</p>") == ["Vote", "now"]
    assert untranslated_text("<p>{{ _('Vote now') }}</p>") == []
    assert untranslated_text("<p>{% trans %}Vote now{% endtrans %}</p>") == []
    assert untranslated_text('<a href="/x" title="x">{{ n }}</a> · ') == []
    assert untranslated_text("<p>투표</p>") == ["투표"]
