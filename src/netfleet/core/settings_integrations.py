"""The ``[notifications]`` settings (delivery loop, retries) and rules written in TOML::

    [[notifications.rules]]
    name = "ops-webhook"
    kind = "webhook"
    url = "https://hooks.example.net/netfleet"
    secret = "env:NETFLEET_HOOK_SECRET"
    events = ["job.failed", "job.partial", "task.failed"]
    groups = ["core"]

Rules from the settings are stored with origin ``settings`` when a worker starts;
removing one here removes it there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SmtpRuleSettings(BaseModel):
    """Where an ``email`` rule sends (the password goes in the rule's ``secret``)."""

    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    sender: str
    recipients: list[str] = Field(min_length=1)
    ca_file: str | None = None
    timeout_seconds: float = Field(30.0, gt=0)


class NotificationRuleSettings(BaseModel):
    """One rule: which events (and filters), and where to deliver them."""

    name: str = Field(min_length=1, max_length=255)
    kind: Literal["webhook", "slack", "email"]
    events: list[str] = Field(min_length=1)
    url: str | None = Field(None, description="webhook/slack: where to POST.")
    secret: str | None = Field(
        None, repr=False, description="webhook HMAC key or SMTP password; or env:/file:/exec:."
    )
    smtp: SmtpRuleSettings | None = None
    task_error_kinds: list[str] = Field(default_factory=list)
    devices: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    schedules: list[str] = Field(default_factory=list)
    job_names: list[str] = Field(default_factory=list)
    enabled: bool = True


class NotificationSettings(BaseModel):
    deliver: bool = Field(True, description="Run the delivery loop in `netfleet worker`.")
    own_process: bool | None = Field(
        None,
        description="Run it in a process of its own, started with the worker (false: in the "
        "worker's event loop). Default: in the worker's event loop (on SQLite a second "
        "writing process slows the worker's completions down; on PostgreSQL set true).",
    )
    concurrency: int = Field(16, ge=1, le=1000, description="Deliveries sent at once per loop.")
    max_attempts: int = Field(10, ge=1, description="Attempts before a delivery fails for good.")
    backoff_seconds: float = Field(5.0, gt=0, description="First retry delay (doubles each time).")
    max_backoff_seconds: float = Field(3600.0, gt=0, description="Longest retry delay.")
    lease_seconds: float = Field(
        60.0, gt=0, description="A claimed delivery is retried by another process after this."
    )
    poll_seconds: float = Field(1.0, gt=0, description="How often the loop looks for work.")
    timeout_seconds: float = Field(10.0, gt=0, description="HTTP limit of one webhook attempt.")
    worker_down_after_seconds: float = Field(
        90.0, gt=0, description="A worker silent this long (not stopped) raises worker.down."
    )
    retention_days: float = Field(
        7.0, ge=0, description="Delete finished deliveries and their log older; 0 = keep."
    )
    rules: list[NotificationRuleSettings] = Field(
        default_factory=list, description="Rules from the settings (`[[notifications.rules]]`)."
    )
