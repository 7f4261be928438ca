"""The one upload helper every area uses: check by content, cap the size, store safely.

The type is judged by the file's bytes (magic numbers), never by the client's name or
Content-Type: an HTML page renamed `x.pdf` is refused. Files are stored outside the web root
under `settings.upload_dir` with a random name; the client's name is kept only for display,
sanitised, so `../../etc/passwd` is just a label. Serving a file is the caller's job, after its
own access check, through `upload_path`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import filetype
from sanic.request import File

from actions.errors import ActionError
from settings import Settings

DEFAULT_KINDS = frozenset({"pdf", "jpg", "png"})
KIND_LABELS = {"pdf": "PDF", "jpg": "JPG", "png": "PNG", "xlsx": "Excel", "gif": "GIF"}
MIME_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png",
              "gif": "image/gif",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{2,5}$")
_DISPLAY_MAX = 100


@dataclass(frozen=True)
class StoredUpload:
    stored_name: str  # random, e.g. "3f2a...e1.pdf"; the only name used on disk
    display_name: str  # the client's file name, sanitised, for showing only
    kind: str  # "pdf" | "jpg" | "png" | ...
    mime: str
    size: int
    sha256: str


def sanitise_display_name(name: str | None, kind: str) -> str:
    """The last path segment, without control characters, at most 100 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().strip(".")
    if not base:
        base = f"附件.{kind}"
    return base[-_DISPLAY_MAX:]


def detect_kind(body: bytes) -> str | None:
    guessed = filetype.guess(body[:8192])
    if guessed is None:
        return None
    return "jpg" if guessed.extension == "jpeg" else str(guessed.extension)


def upload_path(settings: Settings, stored_name: str) -> Path:
    """Where a stored upload lives; refuses anything that is not a name we generated."""
    if not _STORED_NAME.match(stored_name):
        raise ValueError(f"not a stored upload name: {stored_name!r}")
    return settings.upload_dir / stored_name


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # "xb": never overwrite; the random name makes a clash practically impossible.
    with path.open("xb") as fh:
        fh.write(body)


async def store_upload(
    settings: Settings,
    file: File,
    *,
    kinds: set[str] | frozenset[str] = DEFAULT_KINDS,
    max_bytes: int | None = None,
) -> StoredUpload:
    """Check one uploaded file and store it; refuse with an ActionError the user can read."""
    limit = max_bytes if max_bytes is not None else settings.upload_max_bytes
    body = bytes(file.body or b"")
    allowed = "、".join(KIND_LABELS.get(k, k.upper()) for k in sorted(kinds))
    if not body:
        raise ActionError("upload_empty", "上传的文件是空的，请重新选择。")
    if len(body) > limit:
        raise ActionError("upload_too_large",
                          f"文件太大，单个文件不能超过 {max(limit // (1024 * 1024), 1)} MB。")
    kind = detect_kind(body)
    if kind is None or kind not in kinds:
        raise ActionError("upload_type", f"只能上传 {allowed} 格式的文件。")
    stored_name = f"{secrets.token_hex(16)}.{kind}"
    await asyncio.to_thread(_write, upload_path(settings, stored_name), body)
    return StoredUpload(
        stored_name=stored_name,
        display_name=sanitise_display_name(file.name, kind),
        kind=kind,
        mime=MIME_TYPES.get(kind, "application/octet-stream"),
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )


async def read_upload(settings: Settings, stored_name: str) -> bytes:
    """The stored bytes, read off the event loop (callers check access first)."""
    return await asyncio.to_thread(upload_path(settings, stored_name).read_bytes)
