"""Execution for residents: every funded project's progress, spend, milestones and updates."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from flask import Flask
from flask.blueprints import BlueprintSetupState

from saas.core.tenancy.context import db_session
from saas.core.web.assets import register_static_folder
from saas.core.web.pages import page_blueprint, render_page
from tenants.execution.services import execution_overview

bp = page_blueprint("execution_pages", __name__, url_prefix="/execution")


@bp.record_once
def _static_files(state: BlueprintSetupState) -> None:
    register_static_folder(cast(Flask, state.app), "execution", Path(__file__).parent / "static")


@bp.get("/")
def index() -> str:
    return render_page("execution/index.html", section="execution", cycles=execution_overview(db_session()))
