"""Backup tasks: fetch a device's configuration, check it, store it as a version.

``BackupRunner`` is the executor's backup hook (``PoolExecutor.backups``). It runs the
platform's backup commands (``netfleet.jobs.backup``) on a pooled session, rejects an
output that is not a complete configuration (a failed backup, never a version), and
stores a new version only when the normalised text changed. Outputs are masked by the
session; with ``[masking] keep_raw`` the unmasked text is fetched, masked here, and kept
encrypted beside the masked version. A changed version can be committed to the git
repository of ``[backup] git_dir`` as well.

The nightly case is a configuration that did not change: a text identical to the one
last recorded for the device (same sha256 of the text as fetched, same platform spec)
is not checked or normalised again; the store notes it unchanged if the latest version
still has the normalised sha256 found for that text (``SeenTexts``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import replace

from netfleet.configs.gitexport import ConfigExport, GitExport
from netfleet.configs.sanity import PreparedConfig, prepare_config
from netfleet.core.errors import NetfleetError
from netfleet.core.logging import get_logger
from netfleet.core.models import CommandResult
from netfleet.core.settings import Settings
from netfleet.jobs.backup import BackupPlan, backup_plan, backup_text
from netfleet.platforms import PlatformSpec, get_platform
from netfleet.platforms.secrets import mask_output
from netfleet.store import SqlStore
from netfleet.store.facades.configs import Recorded, Retention
from netfleet.store.records import ClaimedTask, TaskOutcome
from netfleet.worker.executor import AttemptReport, PoolExecutor

log = get_logger(__name__)


def keep_raw(settings: Settings) -> bool:
    """``[masking] keep_raw`` (admin-only: raw secrets kept, encrypted); False when unset."""
    masking = getattr(settings, "masking", None)
    return bool(getattr(masking, "keep_raw", False))


class SeenTexts:
    """Per device, the digest of the text last recorded (stored or found unchanged), the
    platform spec it was checked and normalised with, and its normalised sha256.

    A hint only: the store compares the sha256 with the latest version's before it
    notes a backup unchanged, and a device whose latest differs takes the long way.
    A new spec object (platform rules reloaded) does not match. At most ``limit``
    devices (then it starts again empty): about 200 bytes each."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._seen: dict[str, tuple[bytes, PlatformSpec, str]] = {}

    def expect(self, device: str, digest: bytes, spec: PlatformSpec) -> str | None:
        """The normalised sha256 of ``device``'s text of ``digest``, if known."""
        seen = self._seen.get(device)
        if seen is None or seen[0] != digest or seen[1] is not spec:
            return None
        return seen[2]

    def note(self, device: str, digest: bytes, spec: PlatformSpec, sha256: str) -> None:
        if len(self._seen) >= self._limit and device not in self._seen:
            self._seen.clear()
        self._seen[device] = (digest, spec, sha256)

    def __len__(self) -> int:
        return len(self._seen)


class BackupRunner:
    """Runs backup tasks for a ``PoolExecutor`` and stores their versions in ``store``."""

    def __init__(self, store: SqlStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings.backup
        self._keep_raw = keep_raw(settings)
        self._retention = Retention(settings.backup.keep_versions, settings.backup.keep_days)
        self._git: GitExport | None = None
        self._git_lock = asyncio.Lock()
        self.seen = SeenTexts()

    def plan(self, platform: str) -> BackupPlan:
        return backup_plan(
            platform,
            junos_format=self._settings.junos_format,
            linux_files=self._settings.linux_files,
        )

    async def __call__(
        self, executor: PoolExecutor, claimed: ClaimedTask, report: AttemptReport
    ) -> TaskOutcome:
        device = claimed.device
        plan = self.plan(device.platform)
        outcome = await executor.run(
            claimed, report, commands=plan.commands, unmasked=self._keep_raw
        )
        secrets = [s for c in device.credentials for s in c.secrets()]
        outputs = [self._masked(device.platform, r, secrets) for r in outcome.outputs]
        if outcome.status != "succeeded":
            error = outcome.error or "backup failed"
            if self._keep_raw:
                error = mask_output(device.platform, error, secrets)
            await self._failed(claimed, error)
            return replace(outcome, outputs=outputs, error=error, retryable=True)
        try:
            raw = backup_text(plan, outcome.outputs, device=device.name)
            recorded = await self.record(
                raw,
                device.name,
                device.platform,
                secrets,
                job_id=claimed.job_id,
                task_id=claimed.task_id,
                groups=device.groups,
            )
        except NetfleetError as exc:
            message = report.redact(exc.message)
            await self._failed(claimed, message)
            return TaskOutcome(
                status="failed",
                outputs=outputs,
                error=message,
                error_kind=exc.kind,
                transient=exc.transient,
                retryable=exc.transient,
            )
        summary = _describe(recorded)
        report.backup(summary, version=recorded.latest, changed=recorded.changed)
        if recorded.version is not None and self._settings.git_dir is not None:
            assert recorded.version.text is not None
            await self._export(claimed, recorded.version.text, recorded.latest)
        return replace(outcome, outputs=_summaries(outputs, summary))

    async def record(
        self,
        raw: str,
        name: str,
        platform: str,
        secrets: list[str],
        *,
        job_id: int | None = None,
        task_id: int | None = None,
        groups: Sequence[str] = (),
    ) -> Recorded:
        """Store the fetched text ``raw`` of device ``name`` as a version if it changed."""
        # with keep_raw the stored text is masked here with the credentials' secrets of
        # the moment: the same fetched text need not give the same stored one
        digest = None if self._keep_raw else hashlib.sha256(raw.encode()).digest()
        spec = get_platform(platform)
        expect = None if digest is None else self.seen.expect(name, digest, spec)
        # checking and normalising 50 KB off the loop, on the store's read thread that
        # then reads the latest version and diffs (one thread hop)
        prepare = functools.partial(self._prepare, raw, name, platform, secrets, spec=spec)
        recorded = await self._store.configs.record(
            name,
            prepare,
            platform=platform,
            job_id=job_id,
            task_id=task_id,
            groups=groups,
            raw=raw if self._keep_raw else None,
            retention=self._retention,
            expect=expect,
        )
        if digest is not None and recorded.sha256:
            self.seen.note(name, digest, spec, recorded.sha256)
        return recorded

    def _prepare(
        self,
        raw: str,
        name: str,
        platform: str,
        secrets: list[str],
        *,
        spec: PlatformSpec | None = None,
    ) -> PreparedConfig:
        """The checked and normalised config to store from the text as fetched (with
        ``spec``, the platform's spec looked up before)."""
        text = mask_output(platform, raw, secrets) if self._keep_raw else raw
        return prepare_config(text, spec or get_platform(platform), device=name)

    def _masked(self, platform: str, result: CommandResult, secrets: list[str]) -> CommandResult:
        if not self._keep_raw:
            return result
        return replace(
            result,
            output=mask_output(platform, result.output, secrets),
            error=None if result.error is None else mask_output(platform, result.error, secrets),
        )

    async def _failed(self, claimed: ClaimedTask, error: str) -> None:
        try:
            await self._store.configs.record_failure(
                claimed.device.name, error, job_id=claimed.job_id
            )
        except NetfleetError as exc:
            log.warning("cannot note a failed backup", device=claimed.device.name, error=str(exc))

    async def _export(self, claimed: ClaimedTask, text: str, version: int) -> None:
        """Commit the new version to ``[backup] git_dir`` (a failure is logged, not fatal)."""
        directory = self._settings.git_dir
        assert directory is not None
        item = ConfigExport(
            device=claimed.device.name,
            text=text,
            author="netfleet backup",
            message=f"{claimed.device.name}: configuration version {version}",
            job=str(claimed.job_id),
        )
        async with self._git_lock:
            try:
                if self._git is None:
                    self._git = await asyncio.to_thread(GitExport, directory.expanduser())
                await asyncio.to_thread(self._git.export, [item])
            except NetfleetError as exc:
                log.warning("git export failed", device=claimed.device.name, error=str(exc))

    def close(self) -> None:
        if self._git is not None:
            self._git.close()
            self._git = None


def _describe(recorded: Recorded) -> str:
    if recorded.version is None:
        return f"configuration unchanged (version {recorded.latest})"
    v = recorded.version
    if v.version == 1:
        return f"first configuration version stored ({v.size} bytes)"
    return f"configuration version {v.version} stored (+{v.added} -{v.removed})"


def _summaries(outputs: list[CommandResult], summary: str) -> list[CommandResult]:
    """The task's outputs: the configuration lives in the history, the job keeps a line."""
    return [replace(r, output=summary if i == 0 else "") for i, r in enumerate(outputs)]
