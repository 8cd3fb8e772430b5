"""Typed settings: ``netfleet.toml`` (or ``NETFLEET_CONFIG``) plus ``NETFLEET_*`` environment.

Nested keys use ``__`` in the environment: ``NETFLEET_WORKER__CONCURRENCY=50``.
The ``[worker]`` names follow the scheduler netfleet re-creates, so existing
worker sections keep working.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from netfleet.core.models import FailureStrategyName

MIN_PRESET_TOKEN_LENGTH = 24
"""Preset API tokens (``admin_token``) are at least this long."""


class WorkerSettings(BaseModel):
    concurrency: int = Field(100, ge=1, description="Tasks one worker runs at once.")
    timeout_seconds: float = Field(60.0, gt=0, description="Default per-command timeout.")
    connection_reuse: bool = Field(True, description="Keep sessions open between tasks.")
    max_idle_time_seconds: float = Field(300.0, gt=0, description="Close sessions idle this long.")
    max_connections_per_worker: int = Field(1000, ge=1, description="Global session cap.")
    failure_strategy: FailureStrategyName = Field(
        "continue", description="Default for jobs: continue, abort_first or abort_after_n."
    )
    failure_strategy_n: int = Field(1, ge=1, description="N for abort_after_n.")
    lease_seconds: float = Field(30.0, gt=0, description="Task lease; renewed by heartbeats.")
    heartbeat_seconds: float = Field(5.0, gt=0, description="Lease renewal and stats interval.")
    poll_seconds: float = Field(0.5, gt=0, description="Queue poll interval without NOTIFY.")
    drain_timeout_seconds: float = Field(30.0, ge=0, description="Grace for in-flight tasks.")
    scheduler: bool = Field(True, description="Run the schedule loop inside the worker.")


class PoolSettings(BaseModel):
    max_waiters: int = Field(10000, ge=0, description="Queued checkouts before PoolFull.")
    checkout_timeout_seconds: float = Field(120.0, gt=0, description="Wait for a session.")
    max_lifetime_seconds: float = Field(3600.0, gt=0, description="Close older sessions.")
    lifetime_jitter_seconds: float = Field(60.0, ge=0, description="Random spread of lifetimes.")
    max_uses: int = Field(0, ge=0, description="0 = unlimited.")
    probe_after_idle_seconds: float = Field(
        10.0, ge=0, description="Check liveness of sessions idle this long before reuse."
    )
    max_concurrent_logins: int = Field(64, ge=1, description="Logins in progress at once.")
    logins_per_second_per_device: float = Field(2.0, gt=0, description="Login rate limit.")
    login_jitter_ms: float = Field(0.0, ge=0, description="Random delay before each login.")
    auth_failure_backoff_seconds: float = Field(
        300.0, ge=0, description="Pause logins to a device after its credentials were refused."
    )
    probe_timeout_seconds: float = Field(5.0, gt=0, description="Liveness probe limit.")
    reset_timeout_seconds: float = Field(10.0, gt=0, description="Reset-on-release limit.")
    close_timeout_seconds: float = Field(5.0, gt=0, description="Closing one session.")
    reuse_wait_factor: float = Field(
        1.0, ge=0, description="Wait up to this x mean login time for an in-use session; 0 = off."
    )


class ConnectSettings(BaseModel):
    tcp_timeout_seconds: float = Field(10.0, gt=0, description="TCP connect limit.")
    handshake_timeout_seconds: float = Field(15.0, gt=0, description="SSH handshake limit.")
    auth_timeout_seconds: float = Field(20.0, gt=0, description="SSH authentication limit.")
    prompt_timeout_seconds: float = Field(20.0, gt=0, description="Wait for the first prompt.")
    keepalive_seconds: float = Field(30.0, ge=0, description="SSH keepalive; 0 = off.")
    known_hosts: Path = Field(
        Path("~/.netfleet/known_hosts"), description="Host keys seen (accept-new) or pinned."
    )
    host_key_policy: Literal["strict", "accept-new", "off"] = Field(
        "accept-new", description="Default policy for unknown or changed host keys."
    )
    session_log_dir: Path | None = Field(
        None, description="Write a redacted transcript per session here; unset = off."
    )
    ssh_config: Path | None = Field(
        Path("~/.ssh/config"),
        description="OpenSSH client config read for Hostname, Port, IdentityFile, ProxyJump "
        "(as ssh does); empty = off.",
    )


class SecretSettings(BaseModel):
    cache_seconds: float = Field(
        60.0, ge=0, description="Keep resolved secret references this long; 0 = resolve each login."
    )
    exec_timeout_seconds: float = Field(10.0, gt=0, description="Limit for an exec: secret helper.")
    max_bytes: int = Field(
        65536, ge=64, description="Largest secret a file: or exec: reference may yield."
    )


class DatabaseSettings(BaseModel):
    url: str = Field("sqlite:///netfleet.db", description="sqlite:///PATH or postgresql://...")
    retention_days: float = Field(30.0, ge=0, description="Delete finished jobs older; 0 = keep.")


class ServiceSettings(BaseModel):
    host: str = Field("127.0.0.1", description="`netfleet serve` listen address.")
    port: int = Field(8080, ge=1, le=65535, description="`netfleet serve` port.")
    auth: bool = Field(
        True, description="Require API tokens; false is refused on non-loopback addresses."
    )
    key_file: Path = Field(
        Path("~/.netfleet/secret.key"),
        description="Fernet key file (made 0600 on first start) unless secret_key is set.",
    )
    max_request_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Larger request bodies get 413."
    )
    header_timeout_seconds: float = Field(
        10.0, gt=0, description="A connection must send its request headers within this."
    )
    keep_alive_seconds: float = Field(
        5.0, gt=0, description="Idle keep-alive connections are closed after this."
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description="Requests beyond this many open connections get 503; more are closed.",
    )
    auth_failure_limit: int = Field(
        10,
        ge=0,
        description="Failed authentications (401) per client address and window before "
        "that address gets 429 with Retry-After; 0 = no throttling.",
    )
    auth_failure_window_seconds: float = Field(
        60.0, gt=0, le=86_400, description="The window of auth_failure_limit."
    )
    auth_throttle_max_clients: int = Field(
        10_000, ge=1, description="Client addresses the throttle remembers (oldest dropped)."
    )
    event_stream_max_seconds: float = Field(
        3600.0,
        gt=0,
        le=7 * 86_400,
        description="Live event streams (API and dashboard) end after this long; clients "
        "reconnect with Last-Event-ID.",
    )
    event_streams_per_token: int = Field(
        20, ge=0, description="Live event streams one token may hold open (429 beyond); 0 = any."
    )
    event_stream_token_check_seconds: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="How often open streams re-check that their token is not revoked.",
    )
    audit_retention_days: float = Field(
        365.0, ge=0, description="Delete audit log entries older than this; 0 = keep all."
    )
    housekeeping_seconds: float = Field(
        3600.0,
        gt=0,
        le=86_400,
        description="How often the service applies audit retention and drops ended "
        "dashboard sessions (also once at start).",
    )
    session_lifetime_seconds: float = Field(
        12 * 3600.0,
        gt=0,
        le=30 * 86_400,
        description="A dashboard sign-in ends this long after it began.",
    )
    session_idle_seconds: float = Field(
        3600.0,
        gt=0,
        le=30 * 86_400,
        description="A dashboard sign-in ends after this long without a request.",
    )
    restart_backoff_seconds: float = Field(
        1.0,
        gt=0,
        description="First delay before restarting a crashed embedded worker or scheduler; "
        "doubles per crash in a row.",
    )
    restart_backoff_max_seconds: float = Field(
        60.0, gt=0, description="Longest delay between restarts of a crashed component."
    )
    restart_settle_seconds: float = Field(
        5.0,
        ge=0,
        description="A restarted component counts as up (`/readyz`) once it has run this "
        "long without crashing.",
    )


class MaskingSettings(BaseModel):
    keep_raw: bool = Field(
        False,
        description="Also keep the unmasked device output, encrypted with the secret key; "
        "only admins can read it (`GET /api/v1/jobs/{id}/tasks/{task}?raw=true`).",
    )


class BackupSettings(BaseModel):
    keep_versions: int = Field(
        100, ge=0, description="Configuration versions kept per device; 0 = no count limit."
    )
    keep_days: float = Field(
        0.0, ge=0, description="Delete versions older than this many days; 0 = no age limit."
    )
    stale_hours: float = Field(
        26.0, gt=0, description="A device whose last good backup is older is listed as stale."
    )
    git_dir: Path | None = Field(
        None, description="Commit each new version into this git repository; unset = off."
    )
    junos_format: Literal["hierarchical", "set"] = Field(
        "hierarchical", description="Junos: `show configuration` or `| display set`."
    )
    linux_files: list[str] = Field(
        default_factory=lambda: ["/etc/hostname", "/etc/hosts"],
        description="Linux: the files a backup reads (one text, a header per file).",
    )
    max_search_results: int = Field(
        1000, ge=1, le=100_000, description="Lines one configuration search returns at most."
    )


class LogSettings(BaseModel):
    level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    format: Literal["auto", "text", "json"] = Field(
        "auto", description="auto: text on a terminal, JSON otherwise."
    )
    file: Path | None = Field(None, description="Also log to this rotating file.")
    file_max_bytes: int = Field(10 * 1024 * 1024, description="Rotate the log file at this size.")
    file_backups: int = Field(5, description="Rotated log files kept.")


def _config_file() -> Path:
    return Path(os.environ.get("NETFLEET_CONFIG", "netfleet.toml"))


class Settings(BaseSettings):
    """All netfleet settings. Sources, strongest first: init args, env, TOML file, defaults."""

    model_config = SettingsConfigDict(
        env_prefix="NETFLEET_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    worker: WorkerSettings = WorkerSettings()
    pool: PoolSettings = PoolSettings()
    connect: ConnectSettings = ConnectSettings()
    database: DatabaseSettings = DatabaseSettings()
    service: ServiceSettings = ServiceSettings()
    log: LogSettings = LogSettings()
    secrets: SecretSettings = SecretSettings()
    masking: MaskingSettings = MaskingSettings()
    backup: BackupSettings = BackupSettings()
    secret_key: str | None = Field(None, repr=False, description="Fernet key for secrets.")
    admin_token: str | None = Field(
        None,
        repr=False,
        description="Preset the admin API token, at least 24 characters "
        "(else one is made and printed on first start).",
    )

    @field_validator("admin_token")
    @classmethod
    def _long_token(cls, value: str | None) -> str | None:
        if value is not None and len(value.strip()) < MIN_PRESET_TOKEN_LENGTH:
            raise ValueError(
                f"a preset token needs at least {MIN_PRESET_TOKEN_LENGTH} characters "
                f"(this one has {len(value.strip())}); make one with "
                "python -c 'import secrets; print(\"nf_\" + secrets.token_urlsafe(32))'"
            )
        return value.strip() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_config_file()),
        )


def load_settings() -> Settings:
    """Load settings, translating validation failures into ``ConfigurationError``."""
    from pydantic import ValidationError as PydanticValidationError

    from netfleet.core.errors import ConfigurationError

    try:
        return Settings()
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings ({_config_file()}): {problems}") from None
