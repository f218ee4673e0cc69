"""The portal's home page, without a browser: it renders in both languages, the switch keeps
the page, a suspended portal answers the paused page."""

from __future__ import annotations

from html.parser import HTMLParser


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.lang = dict(attrs).get("lang")

    def handle_data(self, data):
        self.parts.append(data)


def parsed(response) -> _Text:
    parser = _Text()
    parser.feed(response.get_data(as_text=True))
    return parser


def test_home_renders_in_korean_by_default(client, alpha):
    response = client.get(f"/t/{alpha.slug}/")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    page = parsed(response)
    assert page.lang == "ko"
    assert "본문 바로가기" in "".join(page.parts)


def test_language_switch_keeps_the_page(client, alpha):
    response = client.get(f"/t/{alpha.slug}/?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/t/{alpha.slug}/")
    page = parsed(client.get(f"/t/{alpha.slug}/"))
    assert page.lang == "en"
    assert "Skip to the content" in "".join(page.parts)
