from sanic import Blueprint

bp = Blueprint("h5_account", url_prefix="/h5")
