from sanic import Blueprint

bp = Blueprint("console_reviews", url_prefix="/console")
