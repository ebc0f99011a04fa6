"""docs/collaboration.md documents every event type, route and command of this area."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.analysis.cadence import DEFAULT_THRESHOLD, MARGIN
from vigil.events.outbox import EVENT_TYPES

DOC = Path(__file__).parents[2] / "docs" / "collaboration.md"


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_is_documented(event_type: str) -> None:
    assert f"`{event_type}`" in DOC.read_text(), f"document {event_type} in {DOC}"


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/v1/events?after=",
        "POST /api/v1/events/subscriptions",
        "GET /api/v1/runs/{id}/metrics/live",
        "GET /api/v1/models/{name}/retraining",
        "POST /api/v1/registry/models/{name}/versions/{v}/retire",
        "vigil runs reproduce RUN_ID",
        "vigil runs watch RUN_ID",
        "vigil models retraining NAME",
        "vigil events subscribe NAME URL",
    ],
)
def test_routes_and_commands_are_documented(text: str) -> None:
    assert text in DOC.read_text()


def test_the_documented_rule_is_the_code() -> None:
    text = DOC.read_text()
    assert f"max(1, floor({MARGIN} × N))" in text
    assert f"threshold of {DEFAULT_THRESHOLD}" in text
