"""``POST /backups/export-git``: every device's stored versions into ``[backup] git_dir``.

One file per device, one commit per version the repository does not have yet (the
newest versions are read back until the text at the repository's HEAD is met), so a
second export adds only what is new. The commits carry the version's job and time, as
``netfleet backup export-git DIR`` writes them from the CLI.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from netfleet.configs.gitexport import ConfigExport, GitExport
from netfleet.store import SqlStore

_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export did."""

    devices: int
    """Devices with stored versions looked at."""
    commits: int
    """Commits made (versions the repository did not have)."""


async def export_history(store: SqlStore, directory: Path) -> ExportReport:
    """Commit the versions of every device that ``directory``'s repository lacks."""
    repo = await asyncio.to_thread(lambda: GitExport(directory.expanduser()))
    try:
        names = await store.configs.names()
        commits = 0
        for device in names:
            items = await _missing(store, repo, device)
            if items:
                commits += len(await asyncio.to_thread(repo.export, items))
        return ExportReport(devices=len(names), commits=commits)
    finally:
        repo.close()


async def _missing(store: SqlStore, repo: GitExport, device: str) -> list[ConfigExport]:
    """The versions of ``device`` newer than the repository's text, oldest first."""
    current = await asyncio.to_thread(repo.current, device)
    found: list[ConfigExport] = []
    before = None
    while True:
        page = await store.configs.list(device, limit=_PAGE, before=before)
        for summary in page:  # newest first
            version = await store.configs.get(device, summary.version)
            if version.text == current:
                return found[::-1]
            found.append(
                ConfigExport(
                    device=device,
                    text=version.text or "",
                    author="netfleet backup",
                    message=f"{device}: configuration version {version.version}",
                    job=None if version.job_id is None else str(version.job_id),
                    when=version.created_at,
                )
            )
        if len(page) < _PAGE:
            return found[::-1]
        before = page[-1].version
