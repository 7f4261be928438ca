from sanic import Blueprint

bp = Blueprint("sandbox_wechat_api")
