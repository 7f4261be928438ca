"""The sandbox (F19): a fake WeChat for development, demos and tests, mounted at /sandbox.

`wechat_api` answers WeChat's own paths (as api.weixin.qq.com would), `pages` serves the OAuth
authorize page and the chat page (as open.weixin.qq.com and the WeChat app would), and `api` is
a JSON API for tests and demos.
"""

from sanic import Blueprint

from sandbox.api import bp as api_bp
from sandbox.pages import bp as pages_bp
from sandbox.wechat_api import bp as wechat_api_bp

bp = Blueprint.group(wechat_api_bp, pages_bp, api_bp, url_prefix="/sandbox")
