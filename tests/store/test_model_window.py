"""A model's time grid: `ModelSpec.window` for the grids `window_seconds` cannot say, stored in
`monitored_models.window`, and left out of the JSON for the others so older clients read it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select

from vigil.api.specs import ModelOut, ModelSpec
from vigil.store.core import Store
from vigil.store.models import MonitoredModel
from vigil.store.repositories import ModelRepository
from vigil.windows import Grid


class _OldModelSpec(BaseModel):
    """ModelSpec as clients before `window` declare it (extra fields refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    features: list[str] = Field(default_factory=list)
    predictions: list[str] = Field(default_factory=list)
    scores: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    id_column: str | None = None
    timestamp_column: str | None = None
    target_column: str | None = None
    window_seconds: int = Field(default=3600, ge=60, le=31 * 86400)
    registry_model: str | None = None
    created_at: dt.datetime | None = None

    @model_validator(mode="after")
    def _divides(self) -> _OldModelSpec:
        if 86400 % self.window_seconds and self.window_seconds % 86400:
            raise ValueError("window_seconds must divide a day or be whole days")
        return self


@pytest.mark.parametrize(
    ("window", "stored", "seconds"),
    [
        ("hour", None, 3600),
        ("60m", None, 3600),
        ("6h", None, 21_600),
        ("day", None, 86_400),
        ("3d", None, 259_200),
        ("7d", None, 604_800),  # from the epoch (Thursdays), as window_seconds=604800 always was
        ("week", "week", 604_800),  # from Mondays: only `window` says it
        ("month", "month", 31 * 86_400),
        ("quarter", "quarter", 31 * 86_400),
        ("Year", "year", 31 * 86_400),
        ("day@Europe/Oslo", "day@Europe/Oslo", 86_400),
        ("week@Asia/Tokyo", "week@Asia/Tokyo", 604_800),
        ("90d", "90d", 31 * 86_400),
        ("7h", "7h", 86_400),
    ],
)
def test_a_window_is_stored_as_window_seconds_when_that_says_it(
    window: str, stored: str | None, seconds: int
) -> None:
    spec = ModelSpec(name="m", features=["x"], window=window)
    assert (spec.window, spec.window_seconds) == (stored, seconds)
    assert spec.grid == Grid.parse(window)
    body = spec.model_dump(mode="json")
    assert ("window" in body) is (stored is not None)
    assert ModelSpec.model_validate(body) == spec
    # A client from before `window` reads the models whose grid it knows, as before; a grid it
    # does not know is a field it refuses.
    if stored is None:
        assert _OldModelSpec.model_validate(body).window_seconds == seconds
    else:
        with pytest.raises(ValidationError, match="window"):
            _OldModelSpec.model_validate(body)
        legacy = {k: v for k, v in body.items() if k != "window"}
        assert _OldModelSpec.model_validate(legacy).window_seconds == seconds


def test_window_seconds_alone_keeps_its_meaning() -> None:
    assert ModelSpec(name="m").grid == Grid("hour")
    assert ModelSpec(name="m", window_seconds=86_400).grid == Grid("day")
    assert ModelSpec(name="m", window_seconds=604_800).grid == Grid.parse("7d")
    assert ModelSpec(name="m", window_seconds=604_800).grid != Grid.parse("week")
    assert "window" not in ModelSpec(name="m", window_seconds=900).model_dump()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"window": "fortnight"}, "window 'fortnight' is not one of"),
        ({"window": "hour@Europe/Oslo"}, "drop the time zone 'Europe/Oslo'"),
        ({"window": "month", "window_seconds": 3600}, "window='month' and window_seconds=3600"),
        ({"window": 3600}, "window must be a short string"),
        ({"window_seconds": 7 * 3600}, "must divide a day"),
        ({"window_seconds": 40 * 86_400}, "less than or equal to 2678400"),
    ],
)
def test_bad_windows_are_refused_with_the_value(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        ModelSpec(name="m", **fields)


def test_agreeing_window_and_window_seconds_are_one_grid() -> None:
    spec = ModelSpec(name="m", window="month", window_seconds=31 * 86_400)
    assert spec == ModelSpec(name="m", window="month")
    assert ModelSpec(name="m", window="day", window_seconds=86_400).window is None
    out = ModelOut(name="m", window="quarter", created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert out.grid == Grid("quarter")


def test_the_store_keeps_the_window(store: Store) -> None:
    with store.session() as session:
        repo = ModelRepository(session)
        repo.create(ModelSpec(name="monthly", features=["x"], window="month@Europe/Oslo"))
        repo.create(ModelSpec(name="hourly", features=["x"], window="hour"))
        session.commit()
    with store.session() as session:
        rows = {
            m.name: (m.window, m.window_seconds)
            for m in session.scalars(select(MonitoredModel)).all()
        }
    assert rows == {"monthly": ("month@Europe/Oslo", 31 * 86_400), "hourly": (None, 3600)}
