"""Settings of the server process (VIGIL_* environment variables, or given in code)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.config import DEFAULT_ARTIFACTS_URL, DEFAULT_STORE_URL

if TYPE_CHECKING:
    from vigil.registry.archives import ArchiveLimits


class ServerSettings(BaseSettings):
    """What `vigil server` needs. Build one at start-up and pass it to `create_app`."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore", frozen=True)

    store_url: str = Field(default=DEFAULT_STORE_URL, description="SQLAlchemy URL of the store.")
    artifacts_url: str = Field(
        default=DEFAULT_ARTIFACTS_URL, description="A local folder or an s3://bucket/prefix URL."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 endpoint for a non-AWS S3 server (MinIO, Ceph, moto)."
    )
    host: str = Field(default="127.0.0.1", description="Address the server listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the server listens on.")
    max_request_bytes: int = Field(
        default=64 << 20, ge=1024, description="Largest request body accepted; larger is a 413."
    )
    # Bounded work per request (docs/security.md, "Limits"); the caps fixed in the request
    # models (list lengths, page sizes) are in the OpenAPI document instead.
    request_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Time budget of a request until its answer starts: past it the answer is a "
        "504 (408 while the body is still arriving) and the request's SQLite queries are "
        "interrupted (on PostgreSQL, statement_timeout).",
    )
    max_batch_rows: int = Field(
        default=2_000_000, ge=1, description="Most prediction or label rows in one upload."
    )
    max_batch_columns: int = Field(
        default=2_000, ge=1, description="Most columns in the rows of one upload."
    )
    max_batch_profiles: int = Field(
        default=10_000, ge=1, description="Most window profiles in one log upload."
    )
    backfill_max_windows: int = Field(
        default=5_000,
        ge=1,
        description="Most monitor windows one POST /api/v1/monitors/run evaluates (summed over "
        "its monitors); a larger range is a 422 (split it, or use `vigil monitors run`).",
    )
    shutdown_timeout_seconds: int = Field(
        default=5,
        ge=0,
        le=8,
        description="On SIGTERM, how long open requests may finish before they are cut "
        "(the server exits within 10 s).",
    )
    token_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a verified token is trusted without a store read (0: never cached). "
        "A token revoked outside this server process stops working within this time.",
    )
    migrate: bool = Field(
        default=True, description="Bring the store's schema up to date when the server starts."
    )
    # Models in the server (docs/security.md, "No code from a client runs in the server").
    server_side_explain: bool = Field(
        default=False,
        description="Let write tokens have the server explain rows with a registered skops "
        "model (POST /api/v1/explain). Off: a 403 pointing to vigil.explain in your own "
        "process. Even on, the server never loads joblib, pickle or MLflow models.",
    )
    max_archive_members: int = Field(
        default=10_000,
        ge=1,
        description="Most members in a registered tar.gz folder or skops zip; more is a 413.",
    )
    max_archive_bytes: int = Field(
        default=512 << 20,
        ge=1024,
        description="Most bytes a registered tar.gz folder or skops zip may decompress to; "
        "decompression stops and the registration is a 413 past it.",
    )

    @property
    def archive_limits(self) -> ArchiveLimits:
        """What an uploaded archive may hold (`max_archive_members`, `max_archive_bytes`)."""
        from vigil.registry.archives import ArchiveLimits

        return ArchiveLimits(self.max_archive_members, self.max_archive_bytes)
