"""The yardstick: a bare Sanic app answering `success` to every callback and a tiny page."""

from __future__ import annotations

import sys

from sanic import Request, Sanic
from sanic.response import HTTPResponse, html, text

app = Sanic("bare")
app.config.ACCESS_LOG = False


@app.route("/wechat", methods=["GET", "POST"])
async def callback(request: Request) -> HTTPResponse:
    return text("success")


@app.get("/h5/<path:path>")
async def page(request: Request, path: str) -> HTTPResponse:
    return html("<!doctype html><title>ok</title><p>ok</p>")


@app.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    return text("ok")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, access_log=False)
