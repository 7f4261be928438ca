from sanic import Blueprint

bp = Blueprint("h5_applications", url_prefix="/h5")
