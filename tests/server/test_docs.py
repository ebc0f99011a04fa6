from __future__ import annotations

from pathlib import Path

import pytest

from vigil.server import ServerSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"


@pytest.mark.parametrize("field", sorted(ServerSettings.model_fields))
def test_every_server_setting_is_documented(field: str) -> None:
    assert f"VIGIL_{field.upper()}" in DOC.read_text(), f"document VIGIL_{field.upper()} in {DOC}"


def test_every_metric_is_documented() -> None:
    from vigil.server.metrics import Metrics

    text = DOC.read_text()
    for family in Metrics().registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}`" in text, f"document metric {name} in {DOC}"
