from sanic import Blueprint

bp = Blueprint("console")
