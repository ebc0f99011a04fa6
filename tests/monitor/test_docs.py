from __future__ import annotations

from pathlib import Path

import pytest

from vigil.events.channels import CHANNELS
from vigil.monitor import MonitorSettings
from vigil.monitor.kinds import KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "monitors.md"


@pytest.mark.parametrize("field", sorted(MonitorSettings.model_fields))
def test_every_monitor_setting_is_documented(field: str) -> None:
    assert f"VIGIL_{field.upper()}" in DOC.read_text(), f"document VIGIL_{field.upper()} in {DOC}"


def test_every_kind_and_channel_is_documented() -> None:
    text = DOC.read_text()
    for name in [*KINDS, *CHANNELS]:
        assert f"| `{name}` |" in text, f"document {name} in {DOC}"
