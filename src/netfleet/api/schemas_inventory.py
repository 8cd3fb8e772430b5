"""Request and response bodies of the devices, groups and credentials routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from netfleet.core.models import Credential, DeviceSpec, JumpHost
from netfleet.core.names import NAME_PATTERN
from netfleet.store.records import CredentialRecord, DeviceRecord, ImportReport

Name = Field(
    min_length=1,
    max_length=255,
    pattern=NAME_PATTERN,
    description="Letters, digits and . _ - : @ +, starting with a letter or digit.",
)


class JumpHostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(22, ge=1, le=65535)
    credential: str | None = Field(None, description="Name of a stored credential.")
    host_key_policy: Literal["strict", "accept-new", "off"] = "accept-new"


class DeviceFields(BaseModel):
    """Everything about a device but its name."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(22, ge=1, le=65535)
    platform: str = Field(min_length=1, max_length=64, examples=["cisco_ios"])
    credentials: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="Names of stored credentials, tried in order.",
    )
    max_sessions: int = Field(2, ge=1, le=10_000)
    groups: list[str] = Field(default_factory=list, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=100)
    host_key_policy: Literal["strict", "accept-new", "off"] = "accept-new"
    legacy_algorithms: bool = False
    jump_host: JumpHostIn | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_spec(self, name: str) -> DeviceSpec:
        jump = None
        if self.jump_host is not None:
            jh = self.jump_host
            jump = JumpHost(
                host=jh.host,
                port=jh.port,
                credential=Credential(username="", name=jh.credential) if jh.credential else None,
                host_key_policy=jh.host_key_policy,
            )
        return DeviceSpec(
            name=name,
            host=self.host,
            port=self.port,
            platform=self.platform,
            credentials=tuple(Credential(username="", name=c) for c in self.credentials),
            max_sessions=self.max_sessions,
            groups=tuple(dict.fromkeys(self.groups)),
            tags=tuple(dict.fromkeys(self.tags)),
            jump_host=jump,
            host_key_policy=self.host_key_policy,
            legacy_algorithms=self.legacy_algorithms,
            data=dict(self.data),
        )


class DeviceIn(DeviceFields):
    name: str = Name


class DevicePatch(BaseModel):
    """Fields to change; absent fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(None, min_length=1, max_length=255)
    port: int | None = Field(None, ge=1, le=65535)
    platform: str | None = Field(None, min_length=1, max_length=64)
    credentials: list[str] | None = Field(None, max_length=16)
    max_sessions: int | None = Field(None, ge=1, le=10_000)
    groups: list[str] | None = Field(None, max_length=100)
    tags: list[str] | None = Field(None, max_length=100)
    host_key_policy: Literal["strict", "accept-new", "off"] | None = None
    legacy_algorithms: bool | None = None
    data: dict[str, Any] | None = None


class JumpHostOut(BaseModel):
    host: str
    port: int
    credential: str | None
    host_key_policy: str


class DeviceOut(BaseModel):
    id: int
    name: str
    host: str
    port: int
    platform: str
    credentials: list[str] = Field(description="Credential names, in fallback order.")
    usernames: list[str]
    max_sessions: int
    groups: list[str]
    tags: list[str]
    host_key_policy: str
    legacy_algorithms: bool
    jump_host: JumpHostOut | None
    data: dict[str, Any]
    generation: int
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, record: DeviceRecord) -> DeviceOut:
        spec = record.spec
        jump = None
        if spec.jump_host is not None:
            jh = spec.jump_host
            jump = JumpHostOut(
                host=jh.host,
                port=jh.port,
                credential=jh.credential.name if jh.credential else None,
                host_key_policy=jh.host_key_policy,
            )
        return cls(
            id=record.id,
            name=spec.name,
            host=spec.host,
            port=spec.port,
            platform=spec.platform,
            credentials=list(record.credential_names),
            usernames=[c.username for c in spec.credentials],
            max_sessions=spec.max_sessions,
            groups=list(spec.groups),
            tags=list(spec.tags),
            host_key_policy=spec.host_key_policy,
            legacy_algorithms=spec.legacy_algorithms,
            jump_host=jump,
            data=dict(spec.data),
            generation=record.generation,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    def fields(self) -> DeviceFields:
        return DeviceFields(
            host=self.host,
            port=self.port,
            platform=self.platform,
            credentials=self.credentials,
            max_sessions=self.max_sessions,
            groups=self.groups,
            tags=self.tags,
            host_key_policy=self.host_key_policy,
            legacy_algorithms=self.legacy_algorithms,
            jump_host=(
                JumpHostIn(**self.jump_host.model_dump()) if self.jump_host is not None else None
            ),
            data=self.data,
        )


class DevicePage(BaseModel):
    items: list[DeviceOut]
    next_cursor: int | None = Field(description="Pass back as `cursor` for the next page.")


class GroupOut(BaseModel):
    name: str
    devices: int = Field(description="Number of member devices.")


class GroupList(BaseModel):
    items: list[GroupOut]


class ImportRowOut(BaseModel):
    name: str
    action: Literal["created", "updated", "unchanged", "error"]
    error: str | None = None


class ImportResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    errors: int
    rows: list[ImportRowOut]

    @classmethod
    def of(cls, report: ImportReport) -> ImportResult:
        return cls(
            created=report.count("created"),
            updated=report.count("updated"),
            unchanged=report.count("unchanged"),
            errors=report.count("error"),
            rows=[ImportRowOut(name=r.name, action=r.action, error=r.error) for r in report.rows],
        )


class ImportIn(BaseModel):
    """An inventory to import, as text. ``format`` picks the parser."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["netfleet", "nornir", "csv"] = Field(
        "netfleet",
        description="netfleet: YAML with a `devices:` list (the simulator's inventory); "
        "nornir: `hosts` (+ `groups`, `defaults`) SimpleInventory YAML; csv: a header row "
        "with name,host,platform[,port,credentials,groups,tags,max_sessions,username,"
        "password,enable_secret] plus any `data.KEY` columns (template variables)",
    )
    text: str | None = Field(None, description="The netfleet YAML or CSV document.")
    filename: str | None = Field(
        None,
        max_length=255,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The document's file name, as errors name it (default: inventory.yaml).",
    )
    hosts: str | None = Field(None, description="Nornir hosts.yaml text.")
    groups: str | None = Field(None, description="Nornir groups.yaml text.")
    defaults: str | None = Field(None, description="Nornir defaults.yaml text.")


# --- credentials --------------------------------------------------------------


class CredentialFields(BaseModel):
    """A credential's username and secrets. Secrets are write-only."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=255)
    password: SecretStr | None = Field(None, max_length=4096)
    private_key: SecretStr | None = Field(
        None, max_length=65536, description="Private key text (OpenSSH/PEM), not a path."
    )
    private_key_passphrase: SecretStr | None = Field(None, max_length=4096)
    enable_secret: SecretStr | None = Field(None, max_length=4096)
    use_agent: bool = False

    def to_credential(self, name: str) -> Credential:
        def plain(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        return Credential(
            username=self.username,
            password=plain(self.password),
            private_key=plain(self.private_key),
            private_key_passphrase=plain(self.private_key_passphrase),
            enable_secret=plain(self.enable_secret),
            name=name,
            use_agent=self.use_agent,
        )


class CredentialIn(CredentialFields):
    name: str = Name


class CredentialOut(BaseModel):
    id: int
    name: str
    username: str
    has_password: bool
    has_private_key: bool
    has_enable_secret: bool
    use_agent: bool
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, record: CredentialRecord) -> CredentialOut:
        return cls(
            id=record.id,
            name=record.name,
            username=record.username,
            has_password=record.has_password,
            has_private_key=record.has_private_key,
            has_enable_secret=record.has_enable_secret,
            use_agent=record.use_agent,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class CredentialList(BaseModel):
    items: list[CredentialOut]
