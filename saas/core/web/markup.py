"""A small, safe subset of Markdown for the portal's pages (the templates' `body` texts):
`#`-headings, paragraphs, `-`/`*` and `1.` lists, `**bold**`. Everything is escaped first, so
no HTML in a text ever reaches the page; nothing else of Markdown is interpreted."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

BOLD = re.compile(r"\*\*(.+?)\*\*")
ORDERED = re.compile(r"^\d+[.)]\s+")
UNORDERED = re.compile(r"^[-*]\s+")
HEADING = re.compile(r"^(#{1,6})\s+")


def _inline(text: str) -> str:
    return BOLD.sub(r"<strong>\1</strong>", str(escape(text)))


def render_markdown(text: str | None, *, top_heading: int = 2) -> Markup:
    """`text` as HTML; the text's highest heading (`#` or `##` ...) becomes `<h{top_heading}>`
    and the others follow (a page has one h1, its own)."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag: str | None = None

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append("<p>" + " ".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items and list_tag:
            out.append(f"<{list_tag}>" + "".join(f"<li>{item}</li>" for item in items) + f"</{list_tag}>")
            items.clear()
        list_tag = None

    lines = (text or "").splitlines()
    levels = [len(m.group(1)) for m in (HEADING.match(line.strip()) for line in lines) if m]
    highest = min(levels, default=1)
    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            continue
        heading = HEADING.match(line)
        if heading:
            flush()
            level = min(6, top_heading + len(heading.group(1)) - highest)
            out.append(f"<h{level}>{_inline(line[heading.end():])}</h{level}>")
            continue
        for pattern, tag in ((ORDERED, "ol"), (UNORDERED, "ul")):
            match = pattern.match(line)
            if match:
                if paragraph or list_tag not in (None, tag):
                    flush()
                list_tag = tag
                items.append(_inline(line[match.end():]))
                break
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return Markup("\n".join(out))  # noqa: S704 - built only from escaped text and fixed tags
