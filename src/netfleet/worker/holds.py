"""The worker's side of session holds: idle pooled sessions the store counts.

The store counts every session a device has from netfleet: running tasks plus
*holds* (idle sessions a worker's pool keeps open). For each device this ledger
tracks what the store counts for the workers sharing one pool — their running
tasks (``tasks``) and their holds — and limits the pool to that many sessions
(``SessionPool.bind_budget``). The invariant, per device:

    pool sessions (opening + idle + in use + closing)  <=  tasks + holds  <=  store's count

The ledger never believes in more than the store counts: it raises its count only
after the store did (a claim), lowers it before the store does (a completion that
frees the slot, a release), and moves a count from ``tasks`` to ``holds`` when a
completion keeps the session (the store does the same, the total stays).

- A claim adds a task; one that used a hold turns that hold into the task.
- A finished attempt keeps its count as a hold (``keep_session``) if the pool
  still has a session for it — idle for reuse, or still closing — else frees it.
  Not while the worker's holds are untrusted (after the hold fence, until a heartbeat
  gets through): the store may free the task's slot when its lease ends, before the
  completion reaches it; the worker then closes the session (``may_keep=False``).
- When a session closes, holds beyond what the pool still has open are released
  (batched ``store.holds.release``): after the close, never before — and never
  before the completion that creates the hold has committed (a release applied
  first would find nothing to free, and the hold would outlive its session).
- Epochs: when a worker's holds may have expired (no heartbeat for half a lease)
  it stops counting them, closes their idle sessions and starts a new hold epoch;
  its next heartbeat frees whatever the store still counts from older epochs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable

from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.store import SqlStore
from netfleet.store.records import ClaimedTask
from netfleet.worker.waiting import Backoff

log = get_logger(__name__)

Sessions = Callable[[str], int]
"""Sessions of a device in the pool now (``SessionPool.sessions``)."""
Trim = Callable[[str, int], object]
"""Close idle sessions of a device beyond ``n`` open (``SessionPool.close_idle``)."""


class HoldLedger:
    """Per device: the store's count of this pool's sessions, and hold releases to send."""

    def __init__(self, sessions: Sessions, *, linger_s: float = 0.05) -> None:
        self._sessions = sessions
        self._linger_s = linger_s
        self._store: SqlStore | None = None
        self._tasks: dict[str, int] = defaultdict(int)
        self._holds: dict[str, dict[str, int]] = defaultdict(dict)
        """device -> worker id -> holds believed live in the store."""
        self._ids: dict[str, int] = {}
        self._settled: set[tuple[str, int, int]] = set()
        self._pending: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self._unconfirmed: dict[tuple[str, int, int], tuple[int, int]] = {}
        """Attempts settled as kept whose completion has not committed: key -> (device id,
        hold epoch)."""
        self._creating: dict[tuple[str, int], int] = defaultdict(int)
        """(worker id, device id) -> kept completions not committed yet."""
        self._epochs: dict[str, int] = defaultdict(int)
        self._flusher: asyncio.Task[None] | None = None
        self._trim: Trim | None = None
        self.released = 0

    def attach(self, store: SqlStore) -> None:
        """The store to send releases to (the first worker using the pool attaches it)."""
        if self._store is None:
            self._store = store

    def bind_trim(self, trim: Trim) -> None:
        """How to close the idle sessions of a device the ledger stops counting (an
        attempt that ended unsettled: a session idle for it would outlive its count)."""
        self._trim = trim

    # --- what the pool asks -------------------------------------------------------

    def budget(self, device: str) -> int:
        """Sessions the store counts for this pool on ``device``."""
        holds = self._holds.get(device)
        return self._tasks.get(device, 0) + (sum(holds.values()) if holds else 0)

    def slot_freed(self, device: str) -> None:
        """A session of ``device`` finished closing: release holds it no longer backs."""
        holds = self._holds.get(device)
        if not holds:
            return
        backed = max(0, self._sessions(device) - self._tasks.get(device, 0))
        excess = sum(holds.values()) - backed
        device_id = self._ids.get(device)
        for worker_id in sorted(holds):
            if excess <= 0:
                break
            n = min(excess, holds[worker_id])
            if n <= 0:
                continue
            holds[worker_id] -= n
            excess -= n
            if device_id is not None:
                self._pending[worker_id][device_id] += n
        self._drop_empty(device)
        self._schedule()

    def epoch(self, worker_id: str) -> int:
        """``worker_id``'s hold epoch: its heartbeats renew holds of this epoch only."""
        return self._epochs[worker_id]

    # --- what the worker tells it -------------------------------------------------

    def claimed(self, worker_id: str, task: ClaimedTask) -> None:
        """The store gave ``worker_id`` the task (before its session is checked out)."""
        device = task.device.name
        self._ids[device] = task.device_id
        self._tasks[device] += 1
        if not task.used_hold:
            return
        holds = self._holds[device]
        if holds.get(worker_id, 0) > 0:
            holds[worker_id] -= 1
        else:
            # The claim took a hold this ledger is releasing (or one it lost track of):
            # that release frees one less (the store clamps one already sent).
            pending = self._pending.get(worker_id)
            if pending is not None and pending.get(task.device_id, 0) > 0:
                pending[task.device_id] -= 1
        self._drop_empty(device)

    def settle(self, worker_id: str, task: ClaimedTask, *, may_keep: bool = True) -> bool:
        """The attempt is being reported: whether its count becomes a hold (``keep_session``).

        It does if ``may_keep`` and the pool still has a session for it: at least as many
        sessions as counted tasks (its own session is idle, in another task's hands, or
        closing). Otherwise the caller closes the sessions the ledger no longer counts
        (``budget``) before the report may free the slot."""
        device = task.device.name
        key = (worker_id, task.task_id, task.attempt)
        if key in self._settled:
            return False
        keep = may_keep and self._sessions(device) >= self._tasks.get(device, 0)
        self._settled.add(key)
        self._tasks[device] -= 1
        if keep:
            holds = self._holds[device]
            holds[worker_id] = holds.get(worker_id, 0) + 1
            self._unconfirmed[key] = (task.device_id, self._epochs[worker_id])
            self._creating[(worker_id, task.device_id)] += 1
        self._drop_empty(device)
        # Workers sharing the pool may now count one session twice: release the spare.
        self.slot_freed(device)
        return keep

    def confirmed(self, worker_id: str, task: ClaimedTask) -> None:
        """The completion committed: releases held back for its hold may go now."""
        if self._unconfirm((worker_id, task.task_id, task.attempt)):
            self._schedule()

    def _unconfirm(self, key: tuple[str, int, int]) -> bool:
        kept = self._unconfirmed.pop(key, None)
        if kept is None:
            return False
        pair = (key[0], kept[0])
        self._creating[pair] -= 1
        if self._creating[pair] <= 0:
            del self._creating[pair]
        return True

    def rejected(self, worker_id: str, task: ClaimedTask, *, kept: bool) -> None:
        """The store refused the report (lease lost): it has no hold for this attempt.

        If the hold's session closed meanwhile, its release (held back until now) is
        cancelled, not sent: it would free another session's count. A hold of an older
        epoch is not counted any more (the fence dropped it)."""
        key = (worker_id, task.task_id, task.attempt)
        made = self._unconfirmed.get(key)
        if kept and made is not None and made[1] == self._epochs[worker_id]:
            pending = self._pending.get(worker_id)
            if pending is not None and pending.get(task.device_id, 0) > 0:
                pending[task.device_id] -= 1
            else:
                device = task.device.name
                holds = self._holds[device]
                holds[worker_id] = max(0, holds.get(worker_id, 0) - 1)
                self._drop_empty(device)
        if self._unconfirm(key):
            self._schedule()

    def forget(self, worker_id: str, task: ClaimedTask) -> None:
        """The attempt ended; if it was never settled its count is gone (reaped or lost)."""
        key = (worker_id, task.task_id, task.attempt)
        if key in self._settled:
            self._settled.discard(key)
            if self._unconfirm(key):  # stopped while reporting: the outcome is unknown
                self._schedule()
            return
        device = task.device.name
        self._tasks[device] -= 1
        self._drop_empty(device)
        if self._trim is not None:
            self._trim(device, self.budget(device))

    def holds_expired(self, worker_id: str) -> list[str]:
        """``worker_id``'s holds may have expired in the store (no heartbeat for half a
        lease): stop counting them and start a new epoch (the next heartbeat frees what
        the store still counts of the old ones); returns the devices whose idle sessions
        must close now."""
        self._epochs[worker_id] += 1
        devices = []
        for device, holds in list(self._holds.items()):
            if holds.pop(worker_id, 0) > 0:
                devices.append(device)
            self._drop_empty(device)
        self._pending.pop(worker_id, None)
        return devices

    def names(self, device_ids: frozenset[int]) -> list[str]:
        """Names of the devices with these ids (those this pool has run tasks on)."""
        return [name for name, device_id in self._ids.items() if device_id in device_ids]

    def pending_releases(self) -> dict[str, dict[int, int]]:
        """Releases not sent yet: worker id -> device id -> sessions."""
        return {w: dict(p) for w, p in self._pending.items()}

    def holds_of(self, worker_id: str) -> int:
        return sum(h.get(worker_id, 0) for h in self._holds.values() if h.get(worker_id, 0) > 0)

    def _drop_empty(self, device: str) -> None:
        holds = self._holds.get(device)
        if holds is not None:
            for worker_id in [w for w, n in holds.items() if n <= 0]:
                del holds[worker_id]
            if not holds:
                del self._holds[device]
        if self._tasks.get(device) == 0:
            del self._tasks[device]

    # --- sending releases ---------------------------------------------------------

    def _schedule(self) -> None:
        if not self._pending or self._store is None:
            return
        if self._flusher is None or self._flusher.done():
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to send with
                self._flusher = asyncio.get_running_loop().create_task(self._flush())

    def _sendable(self) -> tuple[str, int, dict[int, int]] | None:
        """A worker's releases that may be sent now (with its epoch): none for a device
        while a completion that keeps one of its sessions has not committed."""
        for worker_id, pending in list(self._pending.items()):
            batch = {
                d: n for d, n in pending.items() if n > 0 and (worker_id, d) not in self._creating
            }
            for d in batch:
                del pending[d]
            for d in [d for d, n in pending.items() if n <= 0]:
                del pending[d]
            if not pending:
                del self._pending[worker_id]
            if batch:
                return worker_id, self._epochs[worker_id], batch
        return None

    async def _flush(self) -> None:
        await asyncio.sleep(self._linger_s)
        backoff = Backoff(first=0.2, cap=5.0)
        while self._store is not None:
            item = self._sendable()
            if item is None:
                return  # held back ones go when their completion commits (``confirmed``)
            worker_id, epoch, batch = item
            try:
                self.released += await self._store.holds.release(worker_id, batch, epoch=epoch)
                backoff.reset()
            except DatabaseUnavailable:
                # Put it back (merging with newer releases) and retry: until sent, the
                # store counts these sessions still open (safe; they expire anyway).
                if self._epochs[worker_id] == epoch:
                    merged = self._pending[worker_id]
                    for device_id, n in batch.items():
                        merged[device_id] += n
                await asyncio.sleep(backoff.failed())
            except NetfleetError as exc:  # not transient: the holds expire with the worker
                log.error("releasing session holds failed", error=str(exc), kind=exc.kind)

    async def close(self, timeout: float = 5.0) -> None:
        """Send the releases still pending (after the pool closed its sessions)."""
        self._schedule()
        if self._flusher is not None and not self._flusher.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self._flusher)
            if not self._flusher.done():
                self._flusher.cancel()
