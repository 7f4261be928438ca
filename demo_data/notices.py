"""Demo rows of this area (to be written)."""

from __future__ import annotations

from typing import Any


async def load(enterprises: dict[str, Any], people: dict[str, Any]) -> None:
    return None
