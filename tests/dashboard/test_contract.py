"""The dashboard stands on the services: a page importing a store table, even inside a function,
breaks the import contract (`make test` runs `lint-imports` on the tree itself)."""

from __future__ import annotations

from pathlib import Path

from tests.test_floors import lint, package_copy

__all__ = ["package_copy"]


def test_a_page_querying_a_table_breaks_the_contract(package_copy: Path, tmp_path: Path) -> None:
    page = package_copy / "vigil" / "server" / "dashboard" / "pages" / "overview.py"
    page.write_text(
        page.read_text()
        + "\n\ndef _rows() -> None:\n    from vigil.store.models import ProfileWindow  # noqa\n"
    )
    result = lint(package_copy, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "never the store's tables or repositories BROKEN" in result.stdout
    assert "vigil.server.dashboard.pages.overview -> vigil.store.models" in result.stdout
