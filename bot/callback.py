"""The WeChat callback (stub; the full callback replaces it)."""

from sanic import Blueprint

bp = Blueprint("wechat_callback")
