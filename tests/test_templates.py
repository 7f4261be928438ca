"""Every area's templates share one search path, so no two may share a name."""

from __future__ import annotations

from collections import Counter

from core.pages import TEMPLATE_DIRS


def test_template_names_are_unique_across_areas() -> None:
    names = Counter(str(path.relative_to(folder)) for folder in TEMPLATE_DIRS
                    for path in folder.rglob("*.html"))
    assert [name for name, count in names.items() if count > 1] == []
