"""Results for residents: the cycles with published results, one envelope's result (every
project, the rule in words, turnout by channel, how to recount) and its pabulib file."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from flask import Flask, Response
from flask.blueprints import BlueprintSetupState

from saas.core.tenancy.context import current_tenant, db_session
from saas.core.web.assets import register_static_folder
from saas.core.web.pages import page_blueprint, render_page
from tenants.results.published import envelope_result, published_cycles, published_pabulib

bp = page_blueprint("results_pages", __name__, url_prefix="/results")


@bp.record_once
def _static_files(state: BlueprintSetupState) -> None:
    register_static_folder(cast(Flask, state.app), "results", Path(__file__).parent / "static")


@bp.get("/")
def index() -> str:
    return render_page(
        "results/index.html", section="results", cycles=published_cycles(db_session(), current_tenant())
    )


@bp.get("/<id:cycle_id>/<envelope_key>")
def envelope(cycle_id: int, envelope_key: str) -> str:
    result = envelope_result(db_session(), current_tenant(), cycle_id, envelope_key)
    return render_page("results/envelope.html", section="results", result=result)


@bp.get("/<id:cycle_id>/<envelope_key>/pabulib")
def pabulib(cycle_id: int, envelope_key: str) -> Response:
    filename, text = published_pabulib(db_session(), current_tenant(), cycle_id, envelope_key)
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
