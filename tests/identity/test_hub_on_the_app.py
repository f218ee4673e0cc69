"""The hub's parts are the app's: the platform core finds signed-in people through a loader
the hub registers on the app (the core imports nothing of the hub; an app without it knows
only tokens), and each app owns its authorization server."""

from __future__ import annotations

import ast
from pathlib import Path

from flask import Flask

from saas.control.identity import principals
from saas.control.identity.provider.server import SERVER_EXTENSION, authorization_server, init_server
from saas.core.accounts.models import Role
from saas.core.auth import PERSON_LOADER, Principal, current_principal, register_person_loader

CORE = Path(__file__).parents[2] / "saas" / "core"


def test_the_hub_registers_its_person_loader_on_the_app(app) -> None:
    assert app.extensions[PERSON_LOADER] is principals.person_principal


def test_an_app_without_a_person_loader_sees_no_signed_in_person() -> None:
    bare = Flask(__name__)
    with bare.test_request_context("/", headers={"Cookie": "chamyeo_hub=anything"}):
        assert current_principal() is None


def test_each_app_asks_its_own_person_loader() -> None:
    one, two = Flask("one"), Flask("two")
    somebody = Principal("account:7", "account 7", frozenset({Role.RESIDENT}), 1, account_id=7)
    register_person_loader(one, lambda: somebody)
    with one.test_request_context("/"):
        assert current_principal() is somebody
    with two.test_request_context("/"):
        assert current_principal() is None


def test_the_platform_core_imports_nothing_of_the_identity_hub() -> None:
    upward = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            hub = [n for n in names if n.startswith("saas.control.identity")]
            upward += [f"{path.relative_to(CORE)}: {n}" for n in hub]
    assert upward == []


def test_each_app_owns_its_authorization_server(app) -> None:
    one, two = Flask("one"), Flask("two")
    first, second = init_server(one), init_server(two)
    assert first is not second
    with one.test_request_context("/"):
        assert authorization_server() is first
    with two.test_request_context("/"):
        assert authorization_server() is second
    with app.test_request_context("/"):
        assert authorization_server() is app.extensions[SERVER_EXTENSION]


def test_the_hubs_views_neither_commit_nor_query() -> None:
    """Writes are named actions that own their transaction, reads are lookups beside them;
    a view calls one of them (the API's views and the browser routes alike)."""
    identity = Path(__file__).parents[2] / "saas" / "control" / "identity"
    views = [*identity.rglob("views.py"), *identity.rglob("*_views.py"), *identity.rglob("api.py")]
    assert len(views) >= 4
    writes_and_reads = {"commit", "rollback", "scalar", "scalars", "execute"}
    calls = []
    for path in views:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in writes_and_reads:
                calls.append(f"{path.relative_to(identity)}:{node.lineno} {node.attr}")
            if isinstance(node, ast.Name) and node.id == "select":
                calls.append(f"{path.relative_to(identity)}:{node.lineno} select")
    assert calls == []
