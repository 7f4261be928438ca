from sanic import Blueprint

bp = Blueprint("h5_permissions", url_prefix="/h5")
