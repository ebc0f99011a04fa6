"""The dashboard stands on the services: a page importing a store table or building a query, even
inside a function, breaks the import contract (`make test` runs `lint-imports` on the tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_floors import lint, package_copy

__all__ = ["package_copy"]


@pytest.mark.parametrize(
    ("page", "line", "found"),
    [
        (
            "overview.py",
            "def _rows() -> None:\n    from vigil.store.models import ProfileWindow  # noqa\n",
            "vigil.server.dashboard.pages.overview -> vigil.store.models",
        ),
        (
            "alerts.py",
            "def _count() -> None:\n    from sqlalchemy import select  # noqa\n",
            "vigil.server.dashboard.pages.alerts -> sqlalchemy",
        ),
    ],
)
def test_a_page_querying_the_store_breaks_the_contract(
    package_copy: Path, tmp_path: Path, page: str, line: str, found: str
) -> None:
    module = package_copy / "vigil" / "server" / "dashboard" / "pages" / page
    module.write_text(module.read_text() + "\n\n" + line)
    result = lint(package_copy, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "never the store's tables or repositories BROKEN" in result.stdout
    assert found in result.stdout
