"""The pages' message catalogues: extract, update, compile (`make messages`), and check.

One catalogue per package of `saas.core.web.i18n.CATALOGUE_PACKAGES`:
`<package>/translations/{ko,en}/LC_MESSAGES/messages.po` and its compiled `.mo` beside it.
`python -m saas.core.web.catalogues` extracts every string of the package's Python modules and
templates, merges it into both catalogues (new ones empty in ko; in en the msgid itself, since
msgids are English), drops obsolete ones, and compiles the .mo files. `check()` lists what is
wrong without changing anything (the tests call it).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from saas.core.web.i18n import CATALOGUE_PACKAGES, LANGUAGES, package_folder

METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.do", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}


def po_path(package: str, lang: str) -> Path:
    return package_folder(package) / "translations" / lang / "LC_MESSAGES" / "messages.po"


def extracted(package: str) -> Catalog:
    folder = package_folder(package)
    template = Catalog(project="Chamyeo", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(folder), method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if "translations" in Path(filename).parts:
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def _read(path: Path, lang: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=lang, project="Chamyeo", charset="utf-8", fuzzy=False)
    with path.open("rb") as file:
        return read_po(file, locale=lang)


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, omit_header=False, sort_output=True, width=100, include_lineno=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _stable(catalog: Catalog) -> None:
    # No dates in the header: a catalogue changes only when its messages do.
    fixed = datetime(2026, 1, 1, tzinfo=UTC)
    catalog.creation_date = catalog.revision_date = fixed
    catalog.last_translator = catalog.language_team = "Chamyeo"
    catalog.fuzzy = False


def update(package: str) -> None:
    template = extracted(package)
    for lang in LANGUAGES:
        path = po_path(package, lang)
        catalog = _read(path, lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        for message in catalog:
            if message.id and lang == "en" and not message.string:
                message.string = message.id
            message.flags.discard("fuzzy")
        _stable(catalog)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_po_bytes(catalog))
        path.with_suffix(".mo").write_bytes(mo_bytes(_read(path, lang)))


def _ids(catalog: Catalog) -> Iterator[str | tuple[str, ...]]:
    for message in catalog:
        if message.id:
            yield message.id if isinstance(message.id, str) else tuple(message.id)


def check(package: str) -> list[str]:
    """What is wrong with `package`'s catalogues: a msgid used in the code but missing from
    either language, a msgstr empty, a .mo that is not the compiled .po."""
    problems = []
    used = set(_ids(extracted(package)))
    for lang in LANGUAGES:
        path = po_path(package, lang)
        if not path.exists():
            problems.append(f"{path}: missing")
            continue
        catalog = _read(path, lang)
        present = set(_ids(catalog))
        for msgid in sorted(used - present, key=str):
            problems.append(f"{path}: msgid {msgid!r} is not in the catalogue (run make messages)")
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                problems.append(f"{path}: msgid {message.id!r} has no translation")
        mo = path.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != mo_bytes(catalog):
            problems.append(f"{mo}: stale, not the compiled {path.name} (run make messages)")
    return problems


def main() -> int:
    for package in CATALOGUE_PACKAGES:
        update(package)
    problems = [p for package in CATALOGUE_PACKAGES for p in check(package)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
