"""OAuth, the binding form, SMS codes, sessions, CSRF and access checks."""

from sanic import Blueprint

bp = Blueprint("auth_binding", url_prefix="/auth")
