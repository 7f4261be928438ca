from sanic import Blueprint

bp = Blueprint("h5_safety", url_prefix="/h5")
