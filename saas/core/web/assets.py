"""Static files with fingerprinted URLs: `/assets/<package>/<digest>/<path>`.

A URL names the first 12 hex digits of the file's SHA-256, so it can be cached for a year
(`immutable`); a changed file gets a new URL. Each package with static files registers its
folder (`register_static_folder`); the foundation's is `web`. Served on every host: a tenant's
own host routes `/assets/...` as `/t/<slug>/assets/...`, which answers the same files.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from flask import Flask, abort, current_app, send_file
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from saas.core.tenancy.web import TENANT_PREFIX

FOLDERS = "chamyeo.static_folders"
DIGESTS = "chamyeo.static_digests"  # bound: one entry per static file of the tree
YEAR = 365 * 24 * 3600

mimetypes.add_type("font/woff2", ".woff2")


def register_static_folder(app: Flask, name: str, folder: Path) -> None:
    app.extensions.setdefault(FOLDERS, {})[name] = Path(folder)


def _file(name: str, path: str) -> Path | None:
    folder = current_app.extensions.get(FOLDERS, {}).get(name)
    if folder is None:
        return None
    joined = safe_join(str(folder), path)
    if joined is None or not Path(joined).is_file():
        return None
    return Path(joined)


def _digest(file: Path) -> str:
    digests: dict[tuple[Path, float], str] = current_app.extensions.setdefault(DIGESTS, {})
    key = (file, file.stat().st_mtime)
    digest = digests.get(key)
    if digest is None:
        digest = digests[key] = hashlib.sha256(file.read_bytes()).hexdigest()[:12]
    return digest


def asset_url(path: str) -> str:
    """The fingerprinted URL of a static file: `asset_url("css/portal.css")` (the foundation's)
    or `asset_url("proposals:css/list.css")` (a package's registered folder)."""
    name, _, rest = path.rpartition(":")
    name = name or "web"
    file = _file(name, rest)
    if file is None:
        raise LookupError(f"no static file {path!r}")
    return f"/assets/{name}/{_digest(file)}/{rest}"


def serve(name: str, digest: str, path: str, slug: str | None = None) -> Response:
    file = _file(name, path)
    if file is None:
        abort(404)
    response = send_file(file, mimetype=mimetypes.guess_type(file.name)[0], conditional=True, max_age=YEAR)
    if _digest(file) == digest:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        # A URL relative to a stylesheet (its fonts) carries the stylesheet's digest: served,
        # but cached briefly. Such files carry their version in their name instead.
        response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask) -> None:
    register_static_folder(app, "web", Path(__file__).parent / "static")
    app.add_url_rule("/assets/<name>/<digest>/<path:path>", "web_assets", serve)
    app.add_url_rule(f"{TENANT_PREFIX}/assets/<name>/<digest>/<path:path>", "web_tenant_assets", serve)
    app.jinja_env.globals["asset_url"] = asset_url
