from sanic import Blueprint

bp = Blueprint("sandbox_pages")
