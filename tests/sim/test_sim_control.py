"""The HTTP control interface."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import asyncssh
import httpx
import pytest

from netfleet_sim import Simulator
from netfleet_sim.control import loopback_host
from tests.support.echo_platform import REGISTRY
from tests.support.simclient import connect, open_shell


@pytest.fixture
async def controlled() -> AsyncIterator[tuple[Simulator, httpx.AsyncClient]]:
    async with Simulator(
        devices=3, platforms=["echo", "echo2"], registry=REGISTRY, control_port=0
    ) as sim:
        assert sim.control_url is not None
        assert sim.control_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=sim.control_url) as client:
            yield sim, client


async def test_lists_devices_with_stats(controlled: tuple[Simulator, httpx.AsyncClient]) -> None:
    sim, client = controlled
    shell = await open_shell(sim.devices[0])
    await shell.command("show config")
    response = await client.get("/devices")
    assert response.status_code == 200
    devices = response.json()["devices"]
    assert [d["name"] for d in devices] == [d.name for d in sim.devices]
    first = devices[0]
    assert first["port"] == sim.devices[0].port
    assert first["platform"] == "echo"
    assert (first["sessions_open"], first["peak_sessions"], first["logins"]) == (1, 1, 1)
    assert first["commands"] == ["show config"]
    assert first["command_count"] == 1
    assert "password" not in response.text
    one = (await client.get(f"/devices/{sim.devices[0].name}")).json()
    assert one["name"] == sim.devices[0].name
    shell.close()


async def test_lists_open_connections_by_client_port(
    controlled: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = controlled
    shell = await open_shell(sim.devices[1])
    await shell.command("show config")
    bare = await connect(sim.devices[2])
    listed = (await client.get("/connections")).json()["connections"]
    by_port = {c["peer_port"]: c for c in listed}
    first = by_port[shell.conn.get_extra_info("sockname")[1]]
    assert first["device"] == sim.devices[1].name
    assert (first["line"], first["authenticated"], first["channels"], first["commands"]) == (
        True,
        True,
        1,
        1,
    )
    second = by_port[bare.get_extra_info("sockname")[1]]
    assert (second["device"], second["channels"], second["commands"]) == (sim.devices[2].name, 0, 0)
    assert len(listed) == 2
    shell.close()
    bare.close()
    await bare.wait_closed()
    await shell.conn.wait_closed()


async def test_set_and_clear_faults(controlled: tuple[Simulator, httpx.AsyncClient]) -> None:
    sim, client = controlled
    device = sim.devices[1]
    response = await client.post(
        f"/devices/{device.name}/faults", json={"refuse_auth": True, "latency_ms": 5}
    )
    assert response.status_code == 200
    assert response.json()["faults"]["refuse_auth"] is True
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(device)
    response = await client.delete(f"/devices/{device.name}/faults")
    assert response.json()["faults"]["refuse_auth"] is False
    (await open_shell(device)).close()


async def test_fleet_wide_faults_by_pattern(
    controlled: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = controlled
    response = await client.post("/faults", json={"devices": "sim-echo-*", "hang_on": "x"})
    assert response.json()["devices"] == ["sim-echo-0001", "sim-echo-0003"]
    assert [d.faults.hang_on is not None for d in sim.devices] == [True, False, True]
    await client.delete("/faults")
    assert all(d.faults.hang_on is None for d in sim.devices)


async def test_reboot_and_reset_stats(controlled: tuple[Simulator, httpx.AsyncClient]) -> None:
    sim, client = controlled
    device = sim.devices[0]
    shell = await open_shell(device)
    await shell.command("set unsaved 1")
    response = await client.post(f"/devices/{device.name}/reboot")
    assert response.status_code == 200
    await shell.read_to_eof()
    assert "unsaved" not in await (await open_shell(device)).command("show config")
    assert (await client.post("/reset-stats")).json() == {"ok": True}
    assert device.stats.command_count == 0


async def test_errors_are_json(controlled: tuple[Simulator, httpx.AsyncClient]) -> None:
    sim, client = controlled
    missing = await client.get("/devices/nope")
    assert missing.status_code == 404
    assert "nope" in missing.json()["error"]
    bad = await client.post(f"/devices/{sim.devices[0].name}/faults", json={"bogus": 1})
    assert bad.status_code == 400
    assert "unknown fault 'bogus'" in bad.json()["error"]
    bad_json = await client.post(f"/devices/{sim.devices[0].name}/faults", content=b"{nope")
    assert bad_json.status_code == 400
    assert (await client.get("/nowhere")).status_code == 404
    assert (await client.get("/health")).json() == {"ok": True, "devices": 3}


@pytest.mark.parametrize(
    ("host", "bound"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.5", "127.0.0.5"),
        ("::1", "::1"),
        ("localhost", "localhost"),
        ("0.0.0.0", "127.0.0.1"),
        ("::", "127.0.0.1"),
        ("192.0.2.10", "127.0.0.1"),
        ("sim.example.net", "127.0.0.1"),
    ],
)
def test_control_listens_on_loopback_only(host: str, bound: str) -> None:
    assert loopback_host(host) == bound


async def test_the_control_port_is_bound_before_the_devices_ports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Devices on OS-chosen ports could otherwise take the control port asked for (the
    benchmarks pick a free port, then start a simulator of 1,000 devices)."""
    seen: list[str | None] = []
    bind_all = Simulator._bind_all

    def bind_after_control(self: Simulator) -> list[socket.socket]:
        seen.append(self.control_url)
        return bind_all(self)

    monkeypatch.setattr(Simulator, "_bind_all", bind_after_control)
    async with Simulator(devices=2, platforms=["echo"], registry=REGISTRY, control_port=0) as sim:
        assert seen == [sim.control_url]
        assert sim.control_url is not None
