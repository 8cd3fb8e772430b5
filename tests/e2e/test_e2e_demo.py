"""End to end: ``netfleet demo`` starts, its example jobs succeed, Ctrl-C stops it."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.e2e import NETFLEET, Proc, base_env, client, wait_job


def test_demo_serves_its_example_jobs_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    db.write_text("left over from an earlier run")  # the demo starts afresh
    proc = Proc(
        [*NETFLEET, "demo", "--devices", "10", "--port", "0", "--db", str(db)],
        base_env(tmp_path),
        tmp_path / "demo.log",
    )
    try:
        url = proc.wait_line(r"API\s+(http://\S+)", timeout=60).group(1)
        token = proc.wait_line(r"token\s+(nf_\S+)", timeout=5).group(1)
        with client(url, token) as api:
            jobs = api.get("/api/v1/jobs").json()["items"]
            assert len(jobs) == 4
            kinds = sorted(j["kind"] for j in jobs)
            assert kinds == ["backup", "commands", "commands", "config"]
            for job in jobs:
                detail = wait_job(api, job["id"], timeout=60)
                assert detail["state"] == "succeeded", detail
            parsed = [
                t["results"][0]["parsed"]
                for j in jobs
                if j["name"] == "demo: interfaces"
                for t in wait_job(api, j["id"])["tasks"]
            ]
            assert parsed
            assert all(p for p in parsed)
            assert api.get("/ui/", follow_redirects=True).status_code == 200  # the dashboard
            schedules = api.get("/api/v1/schedules").json()["items"]
            by_name = {s["name"]: s for s in schedules}
            assert by_name["demo-clock"]["enabled"]
            assert by_name["demo-clock"]["cron"] == "* * * * *"
            assert by_name["demo-backup"]["job"]["backup"] is True
            devices = api.get("/api/v1/devices", params={"limit": 100}).json()["items"]
            for device in devices:  # the backup job stored a first version of each
                [v1] = api.get(f"/api/v1/devices/{device['name']}/configs").json()["items"]
                assert v1["version"] == 1
        proc.wait_line(r"job \d+ succeeded", timeout=10)
    finally:
        code = proc.stop(signal.SIGINT, timeout=20)
    assert code == 0, proc.stderr()[-2000:]
    assert "netfleet demo: stopped" in proc.stdout()
