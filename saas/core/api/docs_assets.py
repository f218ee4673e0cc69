"""Swagger UI's files served by us (from the swagger-ui-bundle wheel): the interactive docs
at /api/docs work on a machine without internet access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import send_from_directory

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from swagger_ui_bundle import swagger_ui_path

    def asset(filename: str):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)

    app.add_url_rule("/api/docs/assets/<path:filename>", "swagger_ui_asset", asset)
