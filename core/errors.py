"""Error pages (stub)."""

from sanic import Sanic


def register_error_pages(app: Sanic) -> None:
    return None
