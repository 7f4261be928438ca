"""The officers' fund-data pages (F12, F18): upload the common-fund xlsx, see the per-row
error report (a file with a bad row imports nothing), download the blank template. A district
officer loads only their district's projects. The format is docs/funds-import.md.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from actions.errors import ActionError
from actions.funds import FundImportRefused, build_fund_workbook, do_import_fund_data
from actions.safety import officer_actor
from console.auth import console_page, district_scope
from core.pages import render
from models.officers import Officer

bp = Blueprint("console_funds", url_prefix="/console")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/funds")
@console_page()
async def import_form(request: Request, officer: Officer) -> HTTPResponse:
    return render(request, "console/funds/import.html", officer=officer, report=None, errors=[],
                  error="")


@bp.post("/funds")
@console_page()
async def import_submit(request: Request, officer: Officer) -> HTTPResponse:
    settings = request.app.ctx.settings
    upload: Any = request.files.get("file") if request.files else None
    context: dict[str, Any] = {"officer": officer, "report": None, "errors": [], "error": ""}
    status = 200
    if upload is None or not upload.body:
        context["error"], status = "请选择要导入的 Excel 文件。", 400
    elif len(upload.body) > settings.upload_max_bytes:
        context["error"], status = "文件太大，请拆分后分批导入。", 400
    else:
        try:
            context["report"] = await do_import_fund_data(
                officer_actor(officer), bytes(upload.body), district_scope(officer))
        except FundImportRefused as exc:
            context["error"], context["errors"], status = exc.message, exc.errors, exc.status
        except ActionError as exc:
            context["error"], status = exc.message, exc.status
    return render(request, "console/funds/import.html", status=status, **context)


@bp.get("/funds/template.xlsx")
@console_page()
async def template(request: Request, officer: Officer) -> HTTPResponse:
    body = await asyncio.to_thread(build_fund_workbook)
    return raw(body, content_type=XLSX, headers={
        "Content-Disposition": "attachment; filename=\"funds-import-template.xlsx\""})
