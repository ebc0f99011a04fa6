"""Settings, read once from VIGIL_* environment variables (or given in code) and passed in."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STORE_URL = "sqlite:///.vigil/vigil.db"
DEFAULT_ARTIFACTS_URL = ".vigil/artifacts"


class Settings(BaseSettings):
    """Vigil's settings. Build one at the edge (CLI, server start-up) and pass it down."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore", frozen=True)

    store_url: str = Field(default=DEFAULT_STORE_URL, description="SQLAlchemy URL of the store.")
    artifacts_url: str = Field(
        default=DEFAULT_ARTIFACTS_URL, description="A local folder or an s3://bucket/prefix URL."
    )
    batch_rows: int = Field(
        default=65_536, ge=1, description="Rows per record batch when reading data."
    )
