from sanic import Blueprint

bp = Blueprint("h5_home", url_prefix="/h5")
