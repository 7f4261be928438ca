from sanic import Blueprint

bp = Blueprint("h5_funds", url_prefix="/h5")
