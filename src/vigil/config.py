"""Vigil's settings: ONE `Settings`, with a section per area, built once at the edge (the `vigil`
command, `create_app`) and passed down.

Every setting keeps its VIGIL_* environment variable. Each section reads its own variables, so a
section can also be built alone (`MonitorSettings()` where only monitoring is needed):

>>> settings = Settings(store_url="sqlite:///m.db", monitor_scheduler=False)
>>> settings.store.store_url, settings.monitor.monitor_scheduler
('sqlite:///m.db', False)

A setting may be given by its flat name (its variable without `VIGIL_`, lower case), or a whole
section at once (`Settings(monitor=MonitorSettings(...))`); whatever is not given comes from the
environment, then from the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from vigil.errors import InvalidInputError
from vigil.outbound import OutboundPolicy, parse_networks

DEFAULT_STORE_URL = "sqlite:///.vigil/vigil.db"
DEFAULT_ARTIFACTS_URL = ".vigil/artifacts"


class StoreSettings(BaseSettings):
    """Where the store and the artifacts live (every command and the server)."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="forbid", frozen=True)

    store_url: str = Field(default=DEFAULT_STORE_URL, description="SQLAlchemy URL of the store.")
    artifacts_url: str = Field(
        default=DEFAULT_ARTIFACTS_URL, description="A local folder or an s3://bucket/prefix URL."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 endpoint for a non-AWS S3 server (MinIO, Ceph, moto)."
    )
    migrate: bool = Field(
        default=True, description="Bring the store's schema up to date when the server starts."
    )


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How much a registered archive may hold (`ServerSettings.archive_limits`, from the
    VIGIL_MAX_ARCHIVE_* settings); what `vigil.registry.archives` checks uploads against."""

    max_members: int = 10_000
    max_bytes: int = 512 << 20

    def __post_init__(self) -> None:
        for name in ("max_members", "max_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")


class ServerSettings(BaseSettings):
    """The server process: where it listens and the bounds of one request (docs/security.md,
    "Limits"); the caps fixed in the request models are in the OpenAPI document instead."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address the server listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the server listens on.")
    max_request_bytes: int = Field(
        default=64 << 20, ge=1024, description="Largest request body accepted; larger is a 413."
    )
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
        return ArchiveLimits(self.max_archive_members, self.max_archive_bytes)


class MonitorSettings(BaseSettings):
    """Monitoring: the scheduler, alert deliveries and the outbound address policy of channels
    and event subscriptions. Build one at start-up and pass it to the scheduler and channels."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="forbid", frozen=True)

    monitor_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the server's scheduler evaluates monitors."
    )
    monitor_scheduler: bool = Field(
        default=True, description="Run the monitor scheduler inside the server."
    )
    outbound_allow: str = Field(
        default="",
        description="Networks (comma-separated CIDR, `*` for all) that channels and event "
        "subscriptions may reach besides global addresses; loopback, private, link-local, "
        "multicast and other non-global addresses are refused otherwise.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Shorthand: add the private networks (10/8, 172.16/12, 192.168/16, "
        "100.64/10, fc00::/7) to `outbound_allow`.",
    )
    webhook_allow_loopback: bool = Field(
        default=False, description="Shorthand: add 127.0.0.0/8 and ::1 to `outbound_allow`."
    )
    delivery_max_attempts: int = Field(
        default=12, ge=1, description="Attempts of one notification before it is marked failed."
    )
    delivery_backoff_seconds: float = Field(
        default=30.0, ge=0, description="First wait before retrying a failed notification; doubles."
    )
    delivery_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a delivery being sent is reserved for the server process sending "
        "it; another process sends it after this when that one died. Longer than any send takes.",
    )
    retention_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between two passes of the retention worker (which runs where the "
        "scheduler does) applying the models' retention policies.",
    )

    @field_validator("outbound_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a bad entry stops start-up, naming it
        return value

    def outbound_policy(self) -> OutboundPolicy:
        """The outbound address policy of channels and event subscriptions."""
        return OutboundPolicy.parse(
            self.outbound_allow,
            allow_loopback=self.webhook_allow_loopback,
            allow_private=self.webhook_allow_private,
        )


class EventSettings(BaseSettings):
    """The server's delivery worker (`vigil.events.dispatch.Dispatcher`). Addresses, attempts
    and backoff follow `MonitorSettings`."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="forbid", frozen=True)

    events_dispatcher: bool = Field(
        default=True,
        description="Send the outbox's deliveries (webhook subscriptions and alert channels) "
        "from inside the server.",
    )
    events_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often the server sends pending deliveries."
    )


class DashboardSettings(BaseSettings):
    """The dashboard under /ui: its background drift-cell warmer and the time a page may spend
    computing the cells the warmer has not."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_DASHBOARD_", extra="forbid", frozen=True)

    warm_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How often the background warmer computes the dashboard's drift cells "
        "(0 turns it off; pages then compute what they show within the page budget).",
    )
    page_budget: float = Field(
        default=0.4,
        ge=0,
        description="Seconds a dashboard page may spend computing drift cells the warmer has "
        "not; the rest shows as pending and fills in on the next visit.",
    )


def variable(section: type[BaseSettings], field: str) -> str:
    """The environment variable of a section's field: `variable(ServerSettings, "port")` is
    'VIGIL_PORT'."""
    return f"{section.model_config.get('env_prefix', '')}{field}".upper()


def _flat_name(section: type[BaseSettings], field: str) -> str:
    return variable(section, field).removeprefix("VIGIL_").lower()


class Settings(BaseSettings):
    """All of Vigil's settings, one section per area. Build one at the edge and pass it down:
    `create_app(settings)`, or `Settings.from_env()` in a command (bad values: one clear error)."""

    # Each section reads its own VIGIL_* variables; this object only gathers them.
    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    store: StoreSettings = Field(default_factory=StoreSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)

    def __init__(self, **given: Any) -> None:
        super().__init__(**_sections(given))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the sections read the environment, by their own names

    @classmethod
    def from_env(cls, **given: Any) -> Settings:
        """Settings from `given` (flat names or sections) and the environment, with a bad value
        reported as an `InvalidInputError` naming its VIGIL_* variable and what is allowed."""
        try:
            return cls(**given)
        except ValidationError as exc:
            raise _invalid(exc) from None

    # Shortcuts kept for callers of the former flat `Settings`.
    @property
    def store_url(self) -> str:
        return self.store.store_url

    @property
    def artifacts_url(self) -> str:
        return self.store.artifacts_url


SECTIONS: Mapping[str, type[BaseSettings]] = {
    "store": StoreSettings,
    "server": ServerSettings,
    "monitor": MonitorSettings,
    "events": EventSettings,
    "dashboard": DashboardSettings,
}
FLAT_NAMES: Mapping[str, tuple[str, str]] = {
    _flat_name(kind, field): (section, field)
    for section, kind in SECTIONS.items()
    for field in kind.model_fields
}
"""Each setting's flat name (its variable without VIGIL_, lower case) -> (section, field)."""


def _sections(given: Mapping[str, Any]) -> dict[str, Any]:
    """Gather flat names into their sections, and build each section given (as flat names or
    a mapping) as the section alone is built: what is not given comes from VIGIL_*."""
    gathered = dict(given)
    flat: dict[str, dict[str, Any]] = {}
    for key in given:
        owner = FLAT_NAMES.get(key)
        if owner is not None:
            section, field = owner
            flat.setdefault(section, {})[field] = gathered.pop(key)
    for section, values in flat.items():
        if section in gathered:
            names = ", ".join(sorted(values))
            raise TypeError(f"{names} given both alone and in the {section!r} section")
        gathered[section] = values
    for section, kind in SECTIONS.items():
        value = gathered.get(section)
        if isinstance(value, Mapping):
            gathered[section] = kind(**value)
    return gathered


def _invalid(exc: ValidationError) -> InvalidInputError:
    kind = next((k for k in SECTIONS.values() if k.__name__ == exc.title), None)
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        if kind is not None and location and location[0] in kind.model_fields:
            name = variable(kind, location[0])
        elif len(location) >= 2 and location[0] in SECTIONS:
            name = variable(SECTIONS[location[0]], location[1])
        else:
            name = ".".join(location) or "settings"
        shown = f"={error['input']!r}" if "input" in error and kind is not None else ""
        problems.append(f"{name}{shown}: {error['msg']}")
    return InvalidInputError(
        "invalid settings: " + "; ".join(problems), settings=[p.split(":")[0] for p in problems]
    )


__all__ = [
    "DEFAULT_ARTIFACTS_URL",
    "DEFAULT_STORE_URL",
    "FLAT_NAMES",
    "SECTIONS",
    "ArchiveLimits",
    "DashboardSettings",
    "EventSettings",
    "MonitorSettings",
    "ServerSettings",
    "Settings",
    "StoreSettings",
    "variable",
]
