from sanic import Blueprint

bp = Blueprint("h5_pages")
