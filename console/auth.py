from sanic import Blueprint

bp = Blueprint("console_auth", url_prefix="/console")
