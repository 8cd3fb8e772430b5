"""Export configurations into a git repository: one file per device, one commit per change.

Written with dulwich's object API (pure Python, no git binary needed; no index scan per
commit, so thousands of devices export quickly). Each changed device gets its
own commit whose author is the given author and whose message names the device and the
job, so ``git log -p DEVICE`` shows that device's history the way Oxidized's git output
does. A device whose text is unchanged gets no commit. Hooks and commit signing of the
user's git configuration are not run. One process should write a repository at a time;
within a process, the ``GitExport``s of one directory serialise their commits.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.objects import Blob, Commit, Tree
from dulwich.refs import HEADREF
from dulwich.repo import Repo

from netfleet.core.errors import GitExportError

COMMITTER = "netfleet <netfleet@netfleet.invalid>"
_SAFE = re.compile(r"[^A-Za-z0-9._@+-]")
_PERSON = re.compile(r"[^<>\n]+ <[^<>\n]*>")
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _directory_lock(directory: Path) -> threading.Lock:
    """One lock per repository directory in this process (continuous and API exports)."""
    key = directory.resolve()
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(key, threading.Lock())


@dataclass(frozen=True, slots=True)
class ConfigExport:
    """One device's configuration to export."""

    device: str
    text: str
    author: str
    """``Name <email>``, or a bare name (an address is made up for it)."""
    message: str
    job: str | None = None
    when: float | None = None
    """Commit time, seconds since the epoch (default: now)."""


@dataclass(frozen=True, slots=True)
class ExportedCommit:
    """A commit made for one device."""

    device: str
    path: str
    commit: str
    """The commit id (hex)."""


def device_path(device: str) -> str:
    """The file name of ``device`` in the repository: unsafe characters %-encoded."""
    if not device:
        raise GitExportError("a device name is needed to export its configuration")
    name = _SAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), device)
    return "%2E" + name[1:] if name.startswith(".") else name


def _person(author: str) -> bytes:
    author = " ".join(author.split())
    if not author:
        raise GitExportError("a commit author is needed")
    if _PERSON.fullmatch(author) is None:
        if "<" in author or ">" in author:
            raise GitExportError(f"not a commit author 'Name <email>': {author!r}")
        local = re.sub(r"[^a-z0-9._-]+", "-", author.lower()).strip("-.") or "netfleet"
        author = f"{author} <{local}@netfleet.invalid>"
    return author.encode("utf-8")


class GitExport:
    """A git repository at ``directory`` (created when missing) that configs go into."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._lock = _directory_lock(self.directory)
        try:
            self._repo = Repo(str(self.directory))
        except NotGitRepository:
            try:
                self._repo = Repo.init(str(self.directory), mkdir=not self.directory.exists())
            except OSError as exc:
                raise GitExportError(
                    f"{self.directory}: cannot create a git repository: {exc}"
                ) from None
        except OSError as exc:
            raise GitExportError(
                f"{self.directory}: cannot open the git repository: {exc}"
            ) from None

    def close(self) -> None:
        """Release the repository's files."""
        self._repo.close()

    def __enter__(self) -> GitExport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def current(self, device: str) -> str | None:
        """The text of ``device`` at HEAD, or None if it was never exported."""
        path = device_path(device).encode()
        tree = self._head_tree()
        if path not in tree:
            return None
        blob = self._repo[tree[path][1]]
        assert isinstance(blob, Blob)
        return blob.data.decode("utf-8")

    def _head_tree(self) -> Tree:
        try:
            head = self._repo.head()
        except KeyError:
            return Tree()
        commit = self._repo[head]
        assert isinstance(commit, Commit)
        tree = self._repo[commit.tree]
        assert isinstance(tree, Tree)
        return tree

    def commit(self, item: ConfigExport) -> ExportedCommit | None:
        """Write and commit one device's text; None when it is unchanged."""
        made = self.export([item])
        return made[0] if made else None

    def export(self, items: Iterable[ConfigExport]) -> list[ExportedCommit]:
        """Commit each item in order (one commit per changed device); the commits made.

        Objects and the branch are written per commit; the work tree files and the index
        are brought up to date once, at the end.
        """
        made: list[ExportedCommit] = []
        with self._lock:
            try:
                tree = self._head_tree()
                for item in items:
                    result = self._commit_one(tree, item)
                    if result is not None:
                        made.append(result)
                paths = sorted({c.path for c in made})
                for path in paths:
                    text = self._blob_at(tree, path)
                    (self.directory / path).write_bytes(text)
                if paths:
                    self._repo.get_worktree().stage(paths)
            except (OSError, ValueError, KeyError) as exc:
                raise GitExportError(f"{self.directory}: cannot commit: {exc}") from None
        return made

    def _blob_at(self, tree: Tree, path: str) -> bytes:
        """The bytes of ``path`` in ``tree``."""
        blob = self._repo[tree[path.encode()][1]]
        assert isinstance(blob, Blob)
        return blob.data

    def _commit_one(self, tree: Tree, item: ConfigExport) -> ExportedCommit | None:
        path = device_path(item.device)
        data = item.text.encode("utf-8")
        key = path.encode()
        blob = Blob.from_string(data)
        if key in tree and tree[key][1] == blob.id:
            return None
        tree.add(key, 0o100644, blob.id)
        store = self._repo.object_store
        store.add_object(blob)
        store.add_object(tree)
        commit = Commit()
        commit.tree = tree.id
        try:
            commit.parents = [self._repo.head()]
        except KeyError:
            commit.parents = []
        when = int(time.time() if item.when is None else item.when)
        commit.author = _person(item.author)
        commit.committer = COMMITTER.encode()
        commit.author_time = commit.commit_time = when
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = b"UTF-8"
        body = item.message.strip() or f"Configuration of {item.device}"
        trailer = f"Device: {item.device}" + (f"\nJob: {item.job}" if item.job else "")
        commit.message = f"{body}\n\n{trailer}\n".encode()
        store.add_object(commit)
        self._repo.refs[HEADREF] = commit.id
        return ExportedCommit(item.device, path, commit.id.decode("ascii"))


def export_configs(
    directory: str | os.PathLike[str], items: Iterable[ConfigExport]
) -> list[ExportedCommit]:
    """Open (or create) the repository at ``directory`` and export ``items`` into it."""
    with GitExport(directory) as repo:
        return repo.export(items)
