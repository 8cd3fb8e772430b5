"""The worker's hold ledger: what it believes the store counts never exceeds the store's
count, whatever order claims, completions, closes and releases come in."""

from __future__ import annotations

from netfleet.core.models import Credential, DeviceSpec
from netfleet.jobs.model import JobSpec
from netfleet.store.records import ClaimedTask
from netfleet.worker.holds import HoldLedger

SPEC = DeviceSpec(
    name="r1", host="127.0.0.1", port=22, platform="cisco_ios", credentials=(Credential("u"),)
)
JOB = JobSpec.model_validate({"targets": {"devices": ["r1"]}, "commands": ["show clock"]})


def task(task_id: int, *, used_hold: bool = False) -> ClaimedTask:
    return ClaimedTask(
        task_id=task_id,
        job_id=1,
        attempt=1,
        max_attempts=1,
        device_id=7,
        device=SPEC,
        spec=JOB,
        exclusive=False,
        lease_expires_at=0.0,
        deadline_at=None,
        used_hold=used_hold,
    )


def test_kept_session_becomes_a_hold_and_a_closed_one_is_released() -> None:
    sessions = {"r1": 0}
    ledger = HoldLedger(lambda name: sessions[name])
    t1 = task(1)
    ledger.claimed("w", t1)
    assert ledger.budget("r1") == 1
    sessions["r1"] = 1  # logged in, then kept idle after the task
    assert ledger.settle("w", t1) is True
    ledger.forget("w", t1)
    assert ledger.budget("r1") == 1
    # The next claim runs on the idle session: the count stays one.
    t2 = task(2, used_hold=True)
    ledger.claimed("w", t2)
    assert ledger.budget("r1") == 1
    assert ledger.settle("w", t2) is True
    ledger.forget("w", t2)
    # The pool closes the idle session: the hold is queued for release.
    sessions["r1"] = 0
    ledger.slot_freed("r1")
    assert ledger.budget("r1") == 0
    assert ledger.pending_releases()["w"] == {7: 1}


def test_session_gone_before_the_report_frees_the_slot() -> None:
    sessions = {"r1": 1}
    ledger = HoldLedger(lambda name: sessions[name])
    t1 = task(1)
    ledger.claimed("w", t1)
    sessions["r1"] = 0  # discarded and closed before the result was reported
    assert ledger.settle("w", t1) is False
    assert ledger.budget("r1") == 0


def test_claim_of_a_hold_being_released_sends_one_less() -> None:
    sessions = {"r1": 1}
    ledger = HoldLedger(lambda name: sessions[name])
    t1 = task(1)
    ledger.claimed("w", t1)
    assert ledger.settle("w", t1)
    ledger.forget("w", t1)
    sessions["r1"] = 0
    ledger.slot_freed("r1")  # release pending (not sent: no store attached)
    t2 = task(2, used_hold=True)  # the store handed out that hold meanwhile
    ledger.claimed("w", t2)
    assert ledger.budget("r1") == 1  # the task is counted
    assert ledger.pending_releases()["w"] == {7: 0}  # and its hold is not released


def test_rejected_report_drops_the_hold_and_lost_attempt_its_task() -> None:
    sessions = {"r1": 1}
    ledger = HoldLedger(lambda name: sessions[name])
    t1, t2 = task(1), task(2)
    ledger.claimed("w", t1)
    ledger.claimed("w", t2)
    assert ledger.budget("r1") == 2
    assert ledger.settle("w", t1) is False  # one session, two tasks: t2 has it
    ledger.rejected("w", t1, kept=False)
    ledger.forget("w", t1)
    ledger.forget("w", t2)  # never reported (lease lost): its count is gone
    assert ledger.budget("r1") == 0


def test_expired_holds_stop_counting() -> None:
    sessions = {"r1": 1}
    ledger = HoldLedger(lambda name: sessions[name])
    t1 = task(1)
    ledger.claimed("w", t1)
    ledger.settle("w", t1)
    ledger.forget("w", t1)
    assert ledger.holds_expired("w") == ["r1"]
    assert ledger.budget("r1") == 0
    assert ledger.names(frozenset({7})) == ["r1"]


def test_an_untrusted_settle_frees_the_count_even_with_a_session() -> None:
    sessions = {"r1": 1}
    ledger = HoldLedger(lambda name: sessions[name])
    t1 = task(1)
    ledger.claimed("w", t1)
    assert ledger.settle("w", t1, may_keep=False) is False  # its session is to close
    assert ledger.budget("r1") == 0
    assert ledger.pending_releases() == {}  # nothing kept, nothing to release


def test_a_rejected_kept_report_cancels_its_held_back_release() -> None:
    sessions = {"r1": 2}
    ledger = HoldLedger(lambda name: sessions[name])
    t1, t2 = task(1), task(2)
    ledger.claimed("w", t1)
    assert ledger.settle("w", t1)  # a hold (the completion has not committed)
    ledger.claimed("w", t2)
    assert ledger.settle("w", t2)
    ledger.confirmed("w", t2)
    ledger.forget("w", t2)
    assert ledger.budget("r1") == 2
    sessions["r1"] = 1  # one idle session closed: its release waits for t1's report
    ledger.slot_freed("r1")
    assert ledger.pending_releases()["w"] == {7: 1}
    ledger.rejected("w", t1, kept=True)  # the store never made t1's hold
    ledger.forget("w", t1)
    # Sending the release would free t2's hold in the store, whose session is open.
    assert ledger.pending_releases()["w"] == {7: 0}
    assert ledger.budget("r1") == 1


def test_a_rejected_report_of_an_expired_epoch_leaves_newer_holds() -> None:
    sessions = {"r1": 1}
    ledger = HoldLedger(lambda name: sessions[name])
    t1, t2 = task(1), task(2)
    ledger.claimed("w", t1)
    assert ledger.settle("w", t1)
    ledger.holds_expired("w")  # the fence dropped t1's hold; its report still retries
    sessions["r1"] = 0
    ledger.slot_freed("r1")
    sessions["r1"] = 1
    ledger.claimed("w", t2)
    assert ledger.settle("w", t2)
    ledger.confirmed("w", t2)
    ledger.rejected("w", t1, kept=True)
    assert ledger.budget("r1") == 1  # t2's hold, made in the new epoch, still counts


def test_an_attempt_ending_unsettled_trims_the_sessions_it_no_longer_counts() -> None:
    sessions = {"r1": 1}
    trimmed: list[tuple[str, int]] = []
    ledger = HoldLedger(lambda name: sessions[name])
    ledger.bind_trim(lambda device, n: trimmed.append((device, n)))
    t1 = task(1)
    ledger.claimed("w", t1)
    ledger.forget("w", t1)  # lost before it was reported: an idle session may be left
    assert trimmed == [("r1", 0)]
