from sanic import Blueprint

bp = Blueprint("console_notices", url_prefix="/console")
