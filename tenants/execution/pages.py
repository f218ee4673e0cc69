"""Execution for residents: every funded project's progress, spend, milestones and updates."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from flask import Flask, request
from flask.blueprints import BlueprintSetupState

from saas.core.tenancy.context import db_session
from saas.core.web.assets import register_static_folder
from saas.core.web.pages import page_blueprint, render_page
from tenants.execution.services import execution_page

bp = page_blueprint("execution_pages", __name__, url_prefix="/execution")


@bp.record_once
def _static_files(state: BlueprintSetupState) -> None:
    register_static_folder(cast(Flask, state.app), "execution", Path(__file__).parent / "static")


def N_(message: str) -> str:  # noqa: N802 - the marker pybabel extracts
    """Marks a sentence of these pages' services for the catalogue (the error page translates it)."""
    return message


REFUSALS = (N_("There is no such page of the execution list."),)  # services.NO_SUCH_PAGE


@bp.get("/")
def index() -> str:
    shown = execution_page(db_session(), request.args.get("page"))
    return render_page("execution/index.html", section="execution", shown=shown)
