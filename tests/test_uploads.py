"""The shared upload helper: type by content, size cap, safe names, storage outside the web
root."""

from __future__ import annotations

import pytest
from sanic.request import File

from actions.errors import ActionError
from core.uploads import store_upload, upload_path
from settings import Settings

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


async def test_store_upload_pdf_by_content_kept_outside_web_root(
        base_settings: Settings) -> None:
    stored = await store_upload(base_settings, File("application/octet-stream", PDF,
                                                    "物业服务合同.bin"))
    assert stored.kind == "pdf" and stored.mime == "application/pdf"
    assert stored.display_name == "物业服务合同.bin"
    path = upload_path(base_settings, stored.stored_name)
    assert path.parent == base_settings.upload_dir
    assert path.read_bytes() == PDF
    assert "物业" not in stored.stored_name


async def test_store_upload_renamed_html_refused(base_settings: Settings) -> None:
    with pytest.raises(ActionError) as refused:
        await store_upload(base_settings, File("application/pdf", HTML, "合同.pdf"))
    assert refused.value.code == "upload_type"
    assert "PDF" in refused.value.message and "PNG" in refused.value.message


async def test_store_upload_too_large_refused(base_settings: Settings) -> None:
    with pytest.raises(ActionError) as refused:
        await store_upload(base_settings, File("application/pdf", PDF, "a.pdf"),
                           max_bytes=len(PDF) - 1)
    assert refused.value.code == "upload_too_large"
    with pytest.raises(ActionError) as empty:
        await store_upload(base_settings, File("application/pdf", b"", "a.pdf"))
    assert empty.value.code == "upload_empty"


async def test_store_upload_dotdot_name_harmless(base_settings: Settings) -> None:
    stored = await store_upload(base_settings, File("image/png", PNG,
                                                    "../../../etc/cron.d/x\x00.png"))
    assert stored.display_name == "x.png"
    assert upload_path(base_settings, stored.stored_name).parent == base_settings.upload_dir
    assert not (base_settings.data_dir.parent / "etc").exists()


async def test_store_upload_kind_outside_allowed_refused(base_settings: Settings) -> None:
    with pytest.raises(ActionError):
        await store_upload(base_settings, File("image/png", PNG, "a.png"), kinds={"pdf"})


def test_upload_path_refuses_names_not_generated(base_settings: Settings) -> None:
    for name in ("../settings.py", "a.pdf", "/etc/passwd", "0" * 32 + ".pdf/../x"):
        with pytest.raises(ValueError):
            upload_path(base_settings, name)
