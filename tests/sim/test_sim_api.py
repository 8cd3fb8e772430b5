"""The Simulator Python API, the shell (echo, line endings, backspace, secrets) and exec."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh
import pytest
import yaml

from netfleet_sim import BackgroundSimulator, FaultError, SimDevice, Simulator, SimulatorError
from netfleet_sim.device import DEFAULT_ENABLE_SECRET
from tests.support.echo_platform import REGISTRY
from tests.support.simclient import Shell, connect, open_shell, wait_until


def test_unknown_platform_is_rejected() -> None:
    with pytest.raises(SimulatorError, match="unknown platform 'nope'"):
        Simulator(devices=1, platforms=["nope"], registry=REGISTRY)


async def test_devices_are_named_round_robin_with_own_ports(sim: Simulator) -> None:
    names = [d.name for d in sim.devices]
    assert names == ["sim-echo-0001", "sim-echo2-0002"]
    assert [d.platform for d in sim.devices] == ["echo", "echo2"]
    assert len({d.port for d in sim.devices}) == 2
    assert all(d.host == "127.0.0.1" and d.port > 0 for d in sim.devices)
    assert sim.device("sim-echo2-0002") is sim.devices[1]
    with pytest.raises(KeyError, match="sim-x"):
        sim.device("sim-x")


async def test_repr_never_shows_secrets(sim: Simulator) -> None:
    text = repr(sim) + repr(sim.devices[0]) + repr(sim.settings)
    assert "admin" not in text.replace("username='admin'", "")
    assert "enable" not in text


async def test_shell_prints_motd_prompt_and_echoes(device: SimDevice) -> None:
    conn = await connect(device)
    proc = await conn.create_process(term_type="vt100")
    shell = Shell(conn, proc)
    first = await shell.read_until(">$")
    assert first == "Welcome to the echo device\r\nsim-echo-0001>"
    assert await shell.command("hello") == "hello\r\necho: hello\r\nsim-echo-0001>"
    shell.close()


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n"])
async def test_every_line_ending_ends_a_line_once(device: SimDevice, ending: str) -> None:
    shell = await open_shell(device)
    shell.send(f"one{ending}two{ending}")
    text = await shell.read_until("echo: two\r\nsim-echo-0001>")
    assert text.count("sim-echo-0001>") == 2
    assert "echo: one\r\n" in text
    shell.send("\r")
    assert await shell.read_until(">$") == "\r\nsim-echo-0001>"
    shell.close()


async def test_backspace_erases(device: SimDevice) -> None:
    shell = await open_shell(device)
    text = await shell.command("helxy\x7f\x08lo\x7f\x7f\x7f\x7f\x7f\x7f\x7fok")
    assert text.startswith("helxy\b \b\b \blo" + "\b \b" * 5 + "ok\r\n")
    assert text.endswith("\r\necho: ok\r\nsim-echo-0001>")
    shell.close()


async def test_secret_is_neither_echoed_nor_recorded(device: SimDevice) -> None:
    shell = await open_shell(device)
    assert await shell.command("enable", "Password: $") == "enable\r\nPassword: "
    assert await shell.command(device.enable_secret) == "\r\nsim-echo-0001#"
    shell.close()
    assert device.stats.commands == ["enable"]


async def test_exit_closes_the_connection(device: SimDevice) -> None:
    shell = await open_shell(device)
    shell.send("exit\r")
    assert await shell.read_to_eof() == "exit\r\n"
    await asyncio.wait_for(shell.conn.wait_closed(), 5)


async def test_exec_request_returns_output_and_status(device: SimDevice) -> None:
    async with await connect(device) as conn:
        result = await conn.run("show lines 2")
    assert result.stdout == "line 1\r\nline 2\r\n"
    assert result.exit_status == 0


async def test_stats_count_logins_failures_commands_and_peak(sim: Simulator) -> None:
    device = sim.devices[0]
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(device, password="wrong")
    shells = [await open_shell(device) for _ in range(3)]
    await shells[0].command("show config")
    await shells[1].command("")
    stats = device.stats
    assert (stats.logins, stats.login_failures) == (3, 1)
    assert (stats.command_count, stats.commands) == (1, ["show config"])
    assert stats.sessions_open == 3
    assert stats.peak_sessions == 3
    for shell in shells:
        shell.close()
    await wait_until(lambda: device.stats.sessions_open == 0)
    assert device.stats.peak_sessions == 3
    sim.reset_stats()
    assert device.stats == type(device.stats)(0, 0, 0, 0, 0, 0, [])
    assert sim.devices[1].stats.logins == 0


async def test_recent_commands_are_bounded(device: SimDevice) -> None:
    shell = await open_shell(device)
    shell.send("".join(f"c{i}\r" for i in range(120)))
    await shell.read_until("echo: c119\r\nsim-echo-0001>")
    stats = device.stats
    assert stats.command_count == 120
    assert stats.commands[0] == "c20"
    assert stats.commands[-1] == "c119"
    assert len(stats.commands) == 100
    shell.close()


async def test_write_inventory(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    sim.write_inventory(path)
    data = yaml.safe_load(path.read_text())
    assert data["devices"][1] == {
        "name": "sim-echo2-0002",
        "host": "127.0.0.1",
        "port": sim.devices[1].port,
        "platform": "echo2",
        "username": "admin",
        "password": "admin",
        "enable_secret": DEFAULT_ENABLE_SECRET,
    }
    assert path.stat().st_mode & 0o077 == 0


async def test_set_faults_validates(device: SimDevice) -> None:
    with pytest.raises(FaultError, match="unknown fault 'explode'"):
        device.set_faults(explode=True)
    with pytest.raises(FaultError, match="hang_on"):
        device.set_faults(hang_on="(")
    with pytest.raises(FaultError, match="latency_ms"):
        device.set_faults(latency_ms=-1)
    device.set_faults(latency_ms=5, hang_on="x")
    device.set_faults(refuse_auth=True)
    assert device.faults.latency_ms == 5
    assert device.faults.refuse_auth
    device.clear_faults()
    assert device.faults.hang_on is None


async def test_latency_and_jitter_still_answer(device: SimDevice) -> None:
    device.set_faults(latency_ms=20, jitter_ms=20, login_delay_ms=20)
    shell = await open_shell(device)
    assert "echo: slow" in await shell.command("slow")
    shell.close()


def test_latency_plus_jitter_draws_stay_in_range_and_vary(device: SimDevice) -> None:
    assert device.latency_s() == 0.0
    device.set_faults(latency_ms=20, jitter_ms=20)
    draws = [device.latency_s() for _ in range(200)]
    assert all(0.020 <= d <= 0.040 for d in draws)
    assert max(draws) - min(draws) > 0.005  # jitter really varies the delay
    device.set_faults(jitter_ms=0)
    assert {device.latency_s() for _ in range(20)} == {0.020}


async def test_slow_output_arrives_complete(device: SimDevice) -> None:
    device.set_faults(bytes_per_second=20000)
    shell = await open_shell(device)
    await shell.command("terminal length 0")
    text = await shell.command("show lines 200")
    assert "line 1\r\n" in text
    assert "line 200\r\n" in text
    assert text.count("\r\n") == 201
    shell.close()


async def test_two_simulators_coexist() -> None:
    async with (
        Simulator(devices=1, platforms=["echo"], registry=REGISTRY) as a,
        Simulator(devices=1, platforms=["echo"], registry=REGISTRY, username="other") as b,
    ):
        shell = await open_shell(b.devices[0])
        shell.close()
        assert b.devices[0].stats.logins == 1
        assert a.devices[0].stats.logins == 0


def test_fault_specs_parse() -> None:
    from netfleet_sim.faults import parse_fault_spec

    assert parse_fault_spec("sim-ios-*:latency_ms=200,refuse_auth") == (
        "sim-ios-*",
        {"latency_ms": "200", "refuse_auth": "true"},
    )
    assert parse_fault_spec("hang_on=a,b c") == ("*", {"hang_on": "a,b c"})
    with pytest.raises(FaultError):
        parse_fault_spec("sim-1:")


async def test_platform_errors_are_reported_in_the_session(device: SimDevice) -> None:
    shell = await open_shell(device)
    shell.send("crash\r")
    assert "% simulator error: RuntimeError: boom" in await shell.read_to_eof()
    (await open_shell(device)).close()


def test_background_simulator_serves_synchronous_clients() -> None:
    import paramiko

    with BackgroundSimulator(devices=1, platforms=["echo"], registry=REGISTRY) as bg:
        device = bg.sim.devices[0]
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect(
            device.host,
            device.port,
            username=device.username,
            password=device.password,
            allow_agent=False,
            look_for_keys=False,
        )
        _, stdout, _ = client.exec_command("show lines 2")
        assert stdout.read() == b"line 1\r\nline 2\r\n"
        client.close()
        bg.run(device.reboot())
        assert bg.sim.inventory()[0]["port"] == device.port
        assert device.stats.logins == 1
