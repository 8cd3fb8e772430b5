"""The dashboard's task page shows a config task's diff, checks and rollback."""

from __future__ import annotations

from netfleet.core.models import CommandResult
from netfleet.jobs.change_run import ChangeOutcome, ChangePlan
from netfleet.jobs.changes import CHANGE_RECORD, CheckSpec, RollbackSpec
from netfleet.jobs.checks import evaluate
from netfleet.store import SqlStore
from netfleet.store.records import TaskOutcome
from tests.support.store import add_devices
from tests.support.web import MakeClient, submit


async def test_task_page_shows_diff_checks_and_rollback(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 1)
    job = await submit(
        store, ["edge-000"], commands=[], config=["ntp server 192.0.2.7"], rollback={}
    )
    check = CheckSpec(command="show ntp associations", rule="contains", pattern="192.0.2.7")
    before = CommandResult(command=check.command, output="")
    after = CommandResult(command=check.command, output="no peers")
    outcome = ChangeOutcome(
        diff="+ ntp server 192.0.2.7\n",
        diff_source="device",
        checks=[evaluate(check, before, after)],
        rolled_back=True,
        rollback_reason="post-check failed; replaced the running configuration",
    )
    plan = ChangePlan(["ntp server 192.0.2.7"], checks=[check], rollback=RollbackSpec())
    claimed = await store.claims.claim("test-worker", 10, lease_s=30)
    assert len(claimed) == 1
    record = outcome.record(plan)
    done = TaskOutcome(
        status="failed",
        outputs=[before, after, record],
        error="post-check failed",
        error_kind="check_failed",
        retryable=False,
    )
    await store.completions.complete(claimed[0].task_id, "test-worker", 1, done)
    detail = await store.jobs.get(job.id)
    assert detail.tasks is not None
    task = detail.tasks[0]
    assert task.rolled_back is True
    assert task.diff == "+ ntp server 192.0.2.7\n"
    client = await browser("viewer")
    page = (await client.get(f"/ui/tasks/{task.id}")).text
    assert "ntp server 192.0.2.7" in page
    assert "Rolled back: post-check failed; replaced the running configuration" in page
    assert "show ntp associations" in page
    assert CHANGE_RECORD not in page
