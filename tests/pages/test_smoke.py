"""The pair Playwright (PyPI) + Debian's Chromium still works: if this fails, nothing else of
tests/pages means anything — fix the pins (requirements.lock, the chromium package) first."""

from __future__ import annotations


def test_playwright_drives_the_machines_chromium(browser):
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.set_content("<!DOCTYPE html><html lang=ko><title>점검</title><p id=p>참여</p></html>")
        assert tab.title() == "점검"
        assert tab.locator("#p").inner_text() == "참여"
        assert tab.evaluate("() => 6 * 7") == 42
    finally:
        context.close()
    assert browser.version.split(".")[0].isdigit()
