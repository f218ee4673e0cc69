"""WCAG 2.1 contrast of colours (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio)."""

from __future__ import annotations

import re

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
AA_NORMAL_TEXT = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    if not HEX_COLOUR.match(colour):
        raise ValueError(f"not a colour #rrggbb: {colour!r}")
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(background: str) -> str:
    """White or near-black, whichever reads better on `background`."""
    white, black = contrast_ratio("#ffffff", background), contrast_ratio("#111111", background)
    return "#ffffff" if white >= black else "#111111"


def contrast_failure(
    foreground: str, background: str, *, name: str = "text", needs: float = AA_NORMAL_TEXT
) -> str | None:
    """None when the pair reaches `needs`; else the sentence naming it, e.g.
    "text #777777 on background #ffffff: 4.48:1, needs 4.5:1". A ratio just under the bar
    that would round up to it is cut instead, so it never reads as reaching it."""
    ratio = contrast_ratio(foreground, background)
    if ratio >= needs:
        return None
    shown = round(ratio, 2)
    if shown >= needs:
        shown = int(ratio * 100) / 100
    return f"{name} {foreground.lower()} on background {background.lower()}: {shown:.2f}:1, needs {needs:g}:1"
