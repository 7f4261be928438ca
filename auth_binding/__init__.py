"""OAuth, the binding form, SMS codes, sessions, CSRF and access checks.

Pages use `auth_binding.access` (Viewer, h5_page, project_or_404); this blueprint serves the
OAuth entry and callback and the binding form under /auth.
"""

from sanic import Blueprint

from auth_binding import binding, oauth

bp = Blueprint("auth_binding", url_prefix="/auth")
bp.add_route(oauth.start, "/start", methods=["GET"], name="start")
bp.add_route(oauth.callback, "/callback", methods=["GET"], name="callback")
bp.add_route(binding.bind_form, "/bind", methods=["GET"], name="bind_form")
bp.add_route(binding.bind_submit, "/bind", methods=["POST"], name="bind_submit")
