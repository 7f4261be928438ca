from sanic import Blueprint

bp = Blueprint("h5_notices", url_prefix="/h5")
