from sanic import Blueprint

bp = Blueprint("h5_projects", url_prefix="/h5")
