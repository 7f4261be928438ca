"""Static files of the users' pages at `/static`: our own app.css/app.js and the WeUI
stylesheet that `make` copies from the npm package into `h5_pages/static/vendor/`."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from core.pages import ROOT

STATIC_DIR = ROOT / "h5_pages" / "static"
# The vendor files change only with the pinned npm version; ours may change on any deploy
# and carry no fingerprint, so they are cached for an hour only.
VENDOR_MAX_AGE = 7 * 24 * 3600
OWN_MAX_AGE = 3600

bp = Blueprint("static")
bp.static("/static", STATIC_DIR, name="files")


@bp.on_response
async def cache_static(request: Request, response: HTTPResponse) -> None:
    if response.status not in (200, 304):
        return
    max_age = VENDOR_MAX_AGE if request.path.startswith("/static/vendor/") else OWN_MAX_AGE
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
