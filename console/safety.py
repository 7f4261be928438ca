from sanic import Blueprint

bp = Blueprint("console_safety", url_prefix="/console")
