from __future__ import annotations

import re
from pathlib import Path

import pytest

from vigil.config import SECTIONS, variable

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = DOCS / "server.md"
# Where each section of the one Settings is documented (its table of VIGIL_* variables).
SECTION_DOCS = {
    "store": "server.md",
    "server": "server.md",
    "events": "server.md",
    "monitor": "monitors.md",
    "dashboard": "dashboard.md",
}
SETTINGS = sorted(
    (section, variable(kind, field))
    for section, kind in SECTIONS.items()
    for field in kind.model_fields
)


def test_every_section_has_its_documentation() -> None:
    assert set(SECTION_DOCS) == set(SECTIONS)


@pytest.mark.parametrize(("section", "name"), SETTINGS)
def test_every_setting_is_documented(section: str, name: str) -> None:
    doc = DOCS / SECTION_DOCS[section]
    assert f"`{name}`" in doc.read_text(), f"document {name} in {doc}"


def test_every_metric_is_documented() -> None:
    from vigil.server.metrics import Metrics

    text = DOC.read_text()
    for family in Metrics().registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}`" in text, f"document metric {name} in {DOC}"


@pytest.mark.parametrize("page", ["server.md", "security.md"])
def test_every_variable_in_a_settings_table_is_a_setting(page: str) -> None:
    """The tables stay true: a variable listed in one is read by `Settings`."""
    known = {name for _, name in SETTINGS}
    rows = [line for line in (DOCS / page).read_text().splitlines() if line.startswith("| `VIGIL_")]
    listed = {name for row in rows for name in re.findall(r"`(VIGIL_[A-Z0-9_]+)`", row)}
    assert listed, f"no settings table in {page}"
    assert listed <= known, f"{sorted(listed - known)} in {page} are not settings"
