"""Rich output of ``netfleet jobs``: job lists, one job's tasks and outputs, event lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from netfleet.cli.common import console, when
from netfleet.cli.safe_text import escape
from netfleet.jobs.changes import describe_change

STATE_STYLE = {
    "succeeded": "green",
    "partial": "yellow",
    "failed": "red",
    "cancelled": "magenta",
    "running": "cyan",
    "retrying": "yellow",
    "queued": "dim",
}


def _console() -> Console:
    return console()


def _state(state: str) -> str:
    style = STATE_STYLE.get(state)
    return f"[{style}]{state}[/]" if style else escape(state)


def _targets(targets: dict[str, Any]) -> str:
    parts = []
    if targets.get("devices"):
        shown = ", ".join(targets["devices"][:3])
        more = len(targets["devices"]) - 3
        parts.append(f"devices {shown}" + (f" +{more}" if more > 0 else ""))
    if targets.get("groups"):
        parts.append("groups " + ", ".join(targets["groups"]))
    if targets.get("filter"):
        parts.append(f"filter {targets['filter']}")
    return "; ".join(parts)


def _progress(counts: dict[str, int]) -> str:
    done = counts["succeeded"] + counts["failed"] + counts["cancelled"]
    text = f"{done}/{counts['total']}"
    if counts["failed"]:
        text += f" ({counts['failed']} failed)"
    return text


def job_list(jobs: list[dict[str, Any]]) -> None:
    table = Table("id", "state", "kind", "name", "targets", "done", "created (UTC)", "took")
    for job in jobs:
        took = "-"
        if job["finished_at"] is not None:
            took = f"{job['finished_at'] - job['created_at']:.1f} s"
        table.add_row(
            str(job["id"]),
            _state(job["state"]),
            job["kind"],
            escape(job.get("name") or ""),
            escape(_targets(job["targets"])),
            _progress(job["counts"]),
            when(job["created_at"]),
            took,
        )
    _console().print(table)


def show_job(job: dict[str, Any], *, outputs: bool = True) -> None:
    """A summary line, a table of tasks, then each device's command outputs."""
    out = _console()
    spec = job.get("spec", {})
    lines = spec.get("commands") or spec.get("config") or []
    if spec.get("template"):
        lines = [f"template {spec.get('template_name') or ''}".strip()]
    title = f"job {job['id']}" + (f" ({escape(job['name'])})" if job.get("name") else "")
    out.print(
        f"[bold]{title}[/] {_state(job['state'])}: {job['kind']} "
        f"{escape(json.dumps(lines[:3]))}{' ...' if len(lines) > 3 else ''} on "
        f"{escape(_targets(job['targets']))}; {_progress(job['counts'])} done"
    )
    tasks = job.get("tasks", [])
    if outputs:
        for task in tasks:
            if not task["results"] and not task["error"]:
                continue
            out.rule(f"{escape(task['device'])} {_state(task['state'])}")
            for r in task["results"]:
                out.print(f"[bold]$ {escape(r['command'])}[/]")
                if r["output"]:
                    out.print(escape(r["output"].rstrip("\n")))
                if r["parsed"] is not None:
                    out.print(f"[dim]parsed: {len(r['parsed'])} record(s)[/]")
                if r["error"]:
                    out.print(f"[red]! {escape(r['error'])}[/]")
            if task.get("diff"):
                out.print("[bold]--- diff ---[/]")
                out.print(escape(task["diff"].rstrip("\n")))
            if task.get("change"):
                for line in describe_change(task["change"]):
                    out.print(escape(line))
            if task["error"] and not any(r["error"] == task["error"] for r in task["results"]):
                out.print(f"[red]! {escape(task['error'])}[/]")
    table = Table("task", "device", "state", "attempts", "commands ok", "ms", "error")
    for task in tasks:
        ok = sum(1 for r in task["results"] if r["ok"])
        ms = task.get("duration_ms")
        table.add_row(
            str(task["id"]),
            escape(task["device"]),
            _state(task["state"]),
            f"{task['attempts']}/{task['max_attempts']}",
            f"{ok}/{len(task['results'])}",
            "-" if ms is None else f"{ms:.0f}",
            escape(task["error"] or ""),
        )
    c = job["counts"]
    table.caption = (
        f"{c['succeeded']} succeeded, {c['failed']} failed, {c['cancelled']} cancelled, "
        f"{c['queued'] + c['retrying'] + c['running']} pending of {c['total']}"
    )
    out.print(table)


class EventPrinter:
    """One line per event: time, device, kind, message (or the raw JSON with ``as_json``)."""

    def __init__(self, devices: dict[int, str], *, as_json: bool = False) -> None:
        self.devices = devices
        self.as_json = as_json
        self.out = _console()

    def event(self, event: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps(event, separators=(",", ":")), flush=True)
            return
        at = datetime.fromtimestamp(event["at"], UTC).strftime("%H:%M:%S.%f")[:-3]
        task = event.get("task_id")
        device = self.devices.get(task, f"task {task}") if task is not None else "job"
        message = event.get("message") or ""
        self.out.print(f"{at}  {escape(device):<20} {escape(event['kind']):<10} {escape(message)}")

    def state(self, data: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps({"kind": "state", **data}, separators=(",", ":")), flush=True)
            return
        counts = data.get("counts") or {}
        extra = f" ({_progress(counts)} done)" if "total" in counts else ""
        self.out.print(f"[bold]job {_state(str(data.get('state')))}[/]{extra}")
