"""Every refusal a resident can meet on a page reads fully in their language.

A service writes its refusal's sentence with `N_` (saas.core.refusals): the API and the command
line keep the English sentence, a page renders it again in the reader's language. These tests
hold the modules whose refusals reach a page to that: no sentence written without `N_`, every
`N_` sentence translated in Korean, and a Korean page that shows no English refusal text.
(The voting refusals are the ballot pages' and are held on their own branch.)
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from saas.core.refusals import Message, Refusal

ROOT = Path(__file__).resolve().parents[2]

# The modules whose refusals a page can surface (a form answered with the refusal, an error
# page with its sentence, the hub's sign-in pages).
PAGE_REACHABLE = (
    "tenants/people/services.py",
    "tenants/proposals/reading.py",
    "tenants/proposals/search.py",
    "tenants/results/published.py",
    "saas/control/identity/flows.py",
    "saas/control/identity/provider/portal_services.py",
    "saas/control/identity/tokens.py",
    "saas/control/identity/signin/accounts.py",
    "saas/control/identity/signin/outbound.py",
    "saas/control/identity/signin/services.py",
    "saas/control/identity/signin/upstream.py",
)
# In these, only the functions a resident's page calls (the rest are staff actions of the API).
PAGE_REACHABLE_FUNCTIONS = {
    "tenants/proposals/services.py": {
        "proposal_or_404",
        "_check_category_and_district",
        "do_submit_proposal",
        "do_support",
        "do_comment",
    },
}


def _module(path: str):
    return importlib.import_module(path.removesuffix(".py").replace("/", "."))


def _unmarked_refusals(path: str, functions: set[str] | None = None) -> list[str]:
    """`raise SomeRefusal("...")` (a literal or an f-string, not `N_(...)`) in `path`."""
    return _unmarked_in((ROOT / path).read_text(), vars(_module(path)), path, functions)


def _unmarked_in(source: str, module: dict, path: str, functions: set[str] | None = None) -> list[str]:
    tree = ast.parse(source, path)
    scopes = (
        [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name in functions]
        if functions is not None
        else [tree]
    )
    found = []
    for scope in scopes:
        for node in ast.walk(scope):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            call = node.exc
            name = call.func.id if isinstance(call.func, ast.Name) else None
            kind = module.get(name) if name else None
            if not (isinstance(kind, type) and issubclass(kind, Refusal)) or not call.args:
                continue
            first = call.args[0]
            if isinstance(first, ast.Constant | ast.JoinedStr | ast.BinOp):
                found.append(f"{path}:{node.lineno}: {ast.unparse(first)[:80]}")
            elif isinstance(first, ast.Name) and not isinstance(module.get(first.id), Message):
                if first.id.isupper():  # a module constant that is a plain string
                    found.append(f"{path}:{node.lineno}: {first.id}")
    return found


def _marked(path: str) -> list[str]:
    return [
        message
        for _, message, _, _ in extract_from_file("python", str(ROOT / path), keywords={"N_": None})
        if isinstance(message, str)
    ]


def test_the_refusals_a_page_can_meet_are_marked_for_translation():
    unmarked = [line for path in PAGE_REACHABLE for line in _unmarked_refusals(path)]
    for path, functions in PAGE_REACHABLE_FUNCTIONS.items():
        unmarked += _unmarked_refusals(path, functions)
    assert unmarked == []


def test_the_scan_finds_an_unmarked_refusal():
    # The scan above can fail: a module raising a plain sentence is reported, a marked one not.
    from saas.core import refusals

    source = "def f(x):\n    raise Gone(f'over since {x}')\ndef g():\n    raise Gone(N_('over'))\n"
    found = _unmarked_in(source, vars(refusals), "planted.py")
    assert len(found) == 1 and found[0].startswith("planted.py:2:")


@pytest.mark.parametrize("path", PAGE_REACHABLE + tuple(PAGE_REACHABLE_FUNCTIONS))
def test_every_marked_refusal_has_a_korean_sentence(app, path):
    from flask_babel import force_locale, gettext

    messages = _marked(path)
    assert messages, f"{path} marks no sentence"
    with app.test_request_context("/"), force_locale("ko"):
        untranslated = [m for m in messages if gettext(m) == m]
    assert untranslated == []


def test_the_api_keeps_the_english_sentence():
    from datetime import UTC, datetime

    message = Message("This invitation expired on %(when)s.", when=datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    assert message == "This invitation expired on 2027-03-01 09:00 UTC."
    assert str(Refusal(message)) == "This invitation expired on 2027-03-01 09:00 UTC."


def test_a_message_is_rendered_in_the_page_language(app):
    from datetime import UTC, datetime

    from flask_babel import force_locale

    from saas.core.refusals import N_
    from saas.core.web.i18n import refusal_sentence, translated

    when = datetime(2027, 3, 1, 0, 30, tzinfo=UTC)  # 09:30 in Korea
    expired = N_("This invitation expired on %(when)s; ask whoever invited you for a new one.", when=when)
    with app.test_request_context("/"):
        with force_locale("ko"):
            korean = translated(expired)
            assert korean.startswith("이 초대는 ") and "9:30" in korean and "UTC" not in korean
            assert translated("Not in any catalogue.") == "Not in any catalogue."
        with force_locale("en"):
            assert translated(expired).startswith("This invitation expired on ")
            fragment = type("Fragmentary", (Refusal,), {"fragment": True})(
                N_("the sign-in took too long; start again")
            )
            assert refusal_sentence(fragment) == "The sign-in took too long; start again."


# --- the pages ---


@pytest.fixture
def invited(client, make_tenant, ministry):
    tenant = make_tenant(admin_email="chief@refusals.example.kr")
    issued = client.post(f"/api/v1/tenants/{tenant.slug}/invitation", headers=ministry)
    assert issued.status_code == 201, issued.get_json()
    return tenant, issued.get_json()["view_url"].rsplit("/", 1)[1]


def _post(client, url, page_of, headers, lang="ko"):
    token = page_of(client.get(f"{url}?lang={lang}", headers=headers, follow_redirects=True)).csrf_token()
    return client.post(url, data={"csrf_token": token}, headers=headers)


def test_a_korean_page_shows_the_invitation_refusals_in_korean(client, invited, page_of, person_token):
    tenant, code = invited
    url = f"/t/{tenant.slug}/invitations/{code}"
    someone = person_token(tenant, "someone@else.example.kr")
    refused = _post(client, url, page_of, someone)
    assert refused.status_code == 403
    text = page_of(refused).text
    assert "이 초대는 chief@refusals.example.kr 앞으로 보낸 것인데" in text
    assert "someone@else.example.kr입니다" in text
    assert "This invitation" not in text and "sign in as" not in text
    chief = person_token(tenant, "chief@refusals.example.kr")
    assert _post(client, url, page_of, chief).status_code == 303
    again = _post(client, url, page_of, chief)
    assert again.status_code == 409
    text = page_of(again).text
    assert "이 초대는 이미" in text and "수락되었습니다" in text
    assert "accepted already" not in text and "UTC" not in text


def test_an_english_page_shows_the_services_own_sentence(client, invited, page_of, person_token):
    tenant, code = invited
    url = f"/t/{tenant.slug}/invitations/{code}"
    someone = person_token(tenant, "someone@else.example.kr")
    text = page_of(_post(client, url, page_of, someone, lang="en")).text
    assert (
        "This invitation is for chief@refusals.example.kr, and your sign-in carries the e-mail "
        "someone@else.example.kr: sign in as the invited person to accept it." in text
    )


def test_an_error_page_of_a_refusal_reads_in_korean(client, invited, page_of, browser_headers):
    tenant, _ = invited
    response = client.get(f"/t/{tenant.slug}/invitations/nope", headers=browser_headers)
    assert response.status_code == 404
    text = page_of(response).text
    assert "이 포털에는 이 코드의 초대가 없습니다." in text and "There is no invitation" not in text
