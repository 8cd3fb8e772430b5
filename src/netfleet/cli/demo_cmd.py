"""``netfleet demo``: a simulated fleet, the service and example jobs, in one process.

Starts ``netfleet_sim.Simulator`` (mixed platforms, loopback), stores its devices
and one shared credential in a fresh SQLite database, runs the same service as
``netfleet serve`` (API, scheduler, one embedded worker), submits example jobs and
a schedule over the REST API, prints the URL and an admin token, and keeps running
until Ctrl-C. Exit codes: 0 after Ctrl-C, 2 for bad options or a port in use, 3
when the database cannot be opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import httpx

    from netfleet.core.models import DeviceSpec
    from netfleet.core.settings import Settings
    from netfleet_sim import SimDevice

EXIT_BAD_INPUT = 2
EXIT_STORE = 3
CREDENTIAL = "sim-admin"

ROLE_OF_PLATFORM = {
    "cisco_ios": "access",
    "cisco_xe": "access",
    "cisco_nxos": "core",
    "arista_eos": "core",
    "cisco_xr": "wan",
    "juniper_junos": "wan",
    "cisco_asa": "firewall",
    "linux": "servers",
}
SITES = ("dc1", "dc2", "branch1", "branch2")


@dataclass(frozen=True, slots=True)
class Example:
    """An example job the demo submits: what it is and the request body."""

    title: str
    body: dict[str, Any]


def device_specs(devices: list[SimDevice]) -> list[DeviceSpec]:
    """Inventory entries for the simulated devices: role and site groups, one named credential."""
    from netfleet.core.models import Credential, DeviceSpec

    specs = []
    for index, dev in enumerate(devices):
        credential = Credential(
            username=dev.username,
            password=dev.password,
            enable_secret=dev.enable_secret,
            name=CREDENTIAL,
        )
        specs.append(
            DeviceSpec(
                name=dev.name,
                host=dev.host,
                port=dev.port,
                platform=dev.platform,
                credentials=(credential,),
                max_sessions=2,
                groups=(
                    ROLE_OF_PLATFORM.get(dev.platform, "other"),
                    SITES[index // 8 % len(SITES)],
                ),
                tags=("demo", dev.platform.split("_")[0]),
            )
        )
    return specs


def examples(specs: list[DeviceSpec]) -> list[Example]:
    """Three jobs: show version on network devices, parsed interfaces on 'access', a config push."""
    access = [s.name for s in specs if "access" in s.groups and s.platform == "cisco_ios"]
    network = sum(1 for s in specs if s.platform != "linux")
    out = [
        Example(
            f"show version on all {network} network devices (platform!=linux)",
            {"name": "demo: show version", "targets": {"filter": "platform!=linux"},
             "commands": ["show version"]},
        )
    ]  # fmt: skip
    if any("access" in s.groups for s in specs):
        out.append(
            Example(
                "show ip interface brief on group 'access', parsed with TextFSM",
                {"name": "demo: interfaces", "targets": {"groups": ["access"]},
                 "commands": ["show ip interface brief"], "options": {"parse": "textfsm"}},
            )
        )  # fmt: skip
    if access:
        out.append(
            Example(
                f"config (ntp server) on {len(access[:3])} IOS device(s)",
                {"name": "demo: ntp", "targets": {"devices": access[:3]},
                 "config": ["ntp server 192.0.2.123"], "options": {"save": True}},
            )
        )  # fmt: skip
    return out


def schedule_body(specs: list[DeviceSpec]) -> dict[str, Any]:
    groups = sorted({g for s in specs for g in s.groups if g in ROLE_OF_PLATFORM.values()})
    group = "core" if "core" in groups else groups[0]
    return {
        "name": "demo-clock",
        "cron": "* * * * *",
        "job": {"targets": {"groups": [group]}, "commands": ["show clock"]},
    }


BACKUP_TITLE = "configuration backup of every device"


def backup_schedule_body() -> dict[str, Any]:
    """A nightly backup of every device (``netfleet schedules add ... --backup``)."""
    return {
        "name": "demo-backup",
        "cron": "30 2 * * *",
        "job": {"name": "backup", "targets": {"filter": "name=*"}, "backup": True},
    }


def _fresh(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{db}{suffix}").unlink()


async def _import(settings: Settings, specs: list[DeviceSpec]) -> None:
    from netfleet.core.errors import StoreError
    from netfleet.store import open_store

    store = await open_store(settings.database.url, settings=settings)
    try:
        report = await store.devices.import_many(specs)
    finally:
        await store.close()
    if not report.ok:
        bad = [r for r in report.rows if r.action == "error"]
        raise StoreError(f"cannot store device {bad[0].name}: {bad[0].error}")


async def _submit(client: httpx.AsyncClient, specs: list[DeviceSpec]) -> list[tuple[int, str]]:
    jobs = []
    for example in examples(specs):
        r = await client.post("/api/v1/jobs", json=example.body)
        r.raise_for_status()
        jobs.append((int(r.json()["id"]), example.title))
    r = await client.post(
        "/api/v1/backups", json={"name": "demo: backup", "targets": {"filter": "name=*"}}
    )
    r.raise_for_status()
    jobs.append((int(r.json()["id"]), BACKUP_TITLE))
    for body in (schedule_body(specs), backup_schedule_body()):
        r = await client.post("/api/v1/schedules", json=body)
        r.raise_for_status()
    return jobs


def _line(job: dict[str, Any], title: str) -> str:
    counts = job["counts"]
    took = job["finished_at"] - job["created_at"]
    return (
        f"  job {job['id']} {job['state']}: {counts['succeeded']}/{counts['total']} "
        f"devices in {took:.1f} s  ({title})"
    )


async def _report(
    client: httpx.AsyncClient, jobs: list[tuple[int, str]], echo: Callable[[str], None]
) -> None:
    """Print one line per example job, then per scheduled job, as each finishes."""
    pending = dict(jobs)
    seen: set[int] = set(pending)
    while True:
        await asyncio.sleep(0.5 if pending else 2.0)
        r = await client.get("/api/v1/jobs", params={"limit": 20})
        if r.status_code != 200:
            continue
        for job in reversed(r.json()["items"]):
            if job["finished_at"] is None:
                continue
            if job["id"] in pending:
                echo(_line(job, pending.pop(job["id"])))
            elif job["id"] not in seen and job["schedule_id"] is not None:
                seen.add(job["id"])
                echo(_line(job, f"fired by schedule {job['schedule_id']}"))


def _banner(
    url: str,
    token: str,
    sim_devices: list[SimDevice],
    db: Path,
    jobs: list[tuple[int, str]],
    schedule: dict[str, Any],
) -> str:
    platforms = sorted({d.platform for d in sim_devices})
    ports = sorted(d.port for d in sim_devices)
    lines = [
        "",
        "netfleet demo is running",
        f"  API       {url}   (docs {url}/api/docs)",
        f"  dashboard {url}/ui/   (sign in with the token)",
        f"  token     {token}   (admin)",
        f"  fleet     {len(sim_devices)} simulated devices on 127.0.0.1, ports "
        f"{ports[0]}-{ports[-1]}: {', '.join(platforms)}",
        f"  database  {db}",
    ]
    lines += [f"  job {job_id:<5} {title}" for job_id, title in jobs]
    lines += [
        f"  schedule  {schedule['name']}: {schedule['job']['commands'][0]} on group "
        f"'{schedule['job']['targets']['groups'][0]}' every minute",
        "  schedule  demo-backup: back up every device nightly at 02:30 UTC",
        "",
        "Try:",
        f"  export NETFLEET_URL={url} NETFLEET_TOKEN={token}",
        "  .venv/bin/netfleet jobs list",
        f"  .venv/bin/netfleet jobs show {jobs[0][0] if jobs else 1}",
        f"  .venv/bin/netfleet jobs submit -g {schedule['job']['targets']['groups'][0]} "
        "-c 'show clock' --wait",
        "  .venv/bin/netfleet backup status --all",
        f"  .venv/bin/netfleet backup history {sim_devices[0].name}",
        '  curl -s -H "Authorization: Bearer $NETFLEET_TOKEN" $NETFLEET_URL/api/v1/jobs',
        "",
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)


async def run_demo(
    settings: Settings,
    *,
    devices: int,
    host: str,
    port: int,
    sim_base_port: int,
    db: Path,
    token: str,
    echo: Callable[[str], None] = typer.echo,
) -> None:
    """Run the demo until SIGINT/SIGTERM."""
    import httpx

    from netfleet.api.service import ServeOptions, serve
    from netfleet.web import mount_dashboard
    from netfleet_sim import ALL_PLATFORMS, Simulator

    sim = Simulator(devices=devices, platforms=list(ALL_PLATFORMS), base_port=sim_base_port)
    started = time.perf_counter()
    await sim.start()
    try:
        took = time.perf_counter() - started
        echo(f"netfleet demo: {devices} simulated devices up in {took:.1f} s")
        specs = device_specs(sim.devices)
        await _import(settings, specs)
        echo(f"netfleet demo: stored {len(specs)} devices and credential '{CREDENTIAL}' in {db}")
        url_ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def announce(line: str) -> None:
            match = re.search(r"serving on (\S+)", line)
            if match and not url_ready.done():
                url_ready.set_result(match.group(1))
            elif not match:
                echo(line)

        options = ServeOptions(host=host, port=port, workers=1)
        server = asyncio.create_task(
            serve(settings, options, announce=announce, configure_app=mount_dashboard)
        )
        waiters: set[asyncio.Future[Any]] = {server, url_ready}
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if not url_ready.done():
            await server  # raises the reason it stopped (e.g. the port is taken)
            return
        url = url_ready.result()
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            jobs: list[tuple[int, str]] = []
            try:
                jobs = await _submit(client, specs)
            except httpx.HTTPError as exc:
                echo(f"warning: cannot submit the example jobs: {exc}")
            echo(_banner(url, token, sim.devices, db, jobs, schedule_body(specs)))
            reporter = asyncio.create_task(_report(client, jobs, echo))
            try:
                await server
            finally:
                reporter.cancel()
                with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                    await reporter
    finally:
        await sim.stop()
    echo("netfleet demo: stopped")


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        devices: Annotated[
            int, typer.Option("--devices", min=1, max=20_000, help="Simulated devices.")
        ] = 200,
        port: Annotated[
            int, typer.Option("--port", min=0, max=65535, help="API port (0 = any free port).")
        ] = 8080,
        host: Annotated[str, typer.Option("--host", help="API listen address.")] = "127.0.0.1",
        sim_base_port: Annotated[
            int,
            typer.Option("--sim-base-port", min=0, max=65535, help="First device port; 0 = any."),
        ] = 0,
        db: Annotated[
            Path, typer.Option("--db", help="SQLite file, recreated at every start.")
        ] = Path("netfleet-demo.db"),
    ) -> None:
        """Start a simulated fleet, the service and example jobs; run until Ctrl-C."""
        from netfleet.core.errors import InputError, NetfleetError
        from netfleet.core.logging import configure_logging
        from netfleet.core.settings import load_settings
        from netfleet.store.sql.tokens import new_token
        from netfleet_sim import SimulatorError

        try:
            settings = load_settings()
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if sim_base_port and sim_base_port + devices - 1 > 65535:
            typer.echo(
                f"error: --sim-base-port {sim_base_port}: {devices} ports do not fit", err=True
            )
            raise typer.Exit(EXIT_BAD_INPUT)
        db = db.expanduser().resolve()
        _fresh(db)
        settings.database.url = f"sqlite:///{db}"
        settings.admin_token = settings.admin_token or new_token()
        if "level" not in settings.log.model_fields_set:
            settings.log.level = "WARNING"  # the banner is the demo's output
        configure_logging(settings.log)
        with tempfile.TemporaryDirectory(prefix="netfleet-demo-") as scratch:
            # The simulator makes new host keys at each start: keep them out of ~/.netfleet.
            settings.connect.known_hosts = Path(scratch) / "known_hosts"
            try:
                asyncio.run(
                    run_demo(
                        settings,
                        devices=devices,
                        host=host,
                        port=port,
                        sim_base_port=sim_base_port,
                        db=db,
                        token=settings.admin_token,
                    )
                )
            except (InputError, SimulatorError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(EXIT_BAD_INPUT) from None
            except NetfleetError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(EXIT_STORE) from None
