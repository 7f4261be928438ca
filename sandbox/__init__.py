from sanic import Blueprint

bp = Blueprint("sandbox")
