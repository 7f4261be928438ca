from sanic import Blueprint

bp = Blueprint("auth_binding")
