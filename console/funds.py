from sanic import Blueprint

bp = Blueprint("console_funds", url_prefix="/console")
