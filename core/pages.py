"""Server-rendered pages: one Jinja2 environment (autoescaped) for every area's templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sanic import Request
from sanic.response import HTTPResponse, html

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [
    ROOT / "h5_pages" / "templates",
    ROOT / "auth_binding" / "templates",
    ROOT / "console" / "templates",
    ROOT / "sandbox" / "templates",
]


def make_environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    env: Environment = request.app.ctx.jinja
    context.setdefault("request", request)
    context.setdefault("csrf_token", getattr(request.ctx, "csrf_token", ""))
    body = env.get_template(template).render(**context)
    return html(body, status=status)
