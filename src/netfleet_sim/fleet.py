"""The :class:`Simulator`: a fleet of simulated devices served by one asyncio process.

Usage::

    from netfleet_sim import Simulator

    async with Simulator(devices=3, platforms=["cisco_ios"], base_port=0) as sim:
        device = sim.devices[0]           # name, host, port, platform, username, password ...
        device.set_faults(hang_on="show clock")
        device.stats.commands              # recent commands
        sim.write_inventory("fleet.yaml")

``base_port=0`` lets every device bind an OS-chosen free port (use it in
tests); otherwise device ``i`` listens on ``base_port + i``. Platforms are
assigned round-robin and device names look like ``sim-ios-0001``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib
import resource
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import asyncssh

from netfleet_sim.contract import PlatformSim
from netfleet_sim.device import DEFAULT_ENABLE_SECRET, DeviceStats, Settings, SimDevice
from netfleet_sim.errors import SimulatorError
from netfleet_sim.faults import Faults, apply_fault_changes
from netfleet_sim.hostkeys import default_key_dir, host_keys
from netfleet_sim.inventory import inventory_entries, write_inventory
from netfleet_sim.persist import load_state, prepare_state_dir, save_dirty
from netfleet_sim.server import (
    DeviceServer,
    LegacyMode,
    algorithm_options,
    bind_socket,
    connection_factory,
)

SHORT_NAMES = {
    "cisco_ios": "ios",
    "cisco_xe": "xe",
    "cisco_nxos": "nxos",
    "cisco_xr": "xr",
    "cisco_asa": "asa",
    "arista_eos": "eos",
    "juniper_junos": "junos",
    "linux": "linux",
}
AUTH_METHODS = ("password", "keyboard-interactive", "publickey")
MAX_CONFIG_SIZE = 12 << 20
SAVE_INTERVAL_S = 5.0


def builtin_platforms() -> Mapping[str, PlatformSim]:
    """The platforms shipped in ``netfleet_sim.platforms`` (empty if not importable)."""
    try:
        module = importlib.import_module("netfleet_sim.platforms")
    except ImportError:
        return {}
    return cast("Mapping[str, PlatformSim]", getattr(module, "PLATFORMS", {}))


ALL_PLATFORMS: tuple[str, ...] = tuple(builtin_platforms())
"""The shipped platforms, in the order ``netfleet_sim.platforms`` lists them (round-robin)."""


def device_name(platform: str, number: int, width: int) -> str:
    short = SHORT_NAMES.get(platform, platform.replace("_", "-"))
    return f"sim-{short}-{number:0{width}d}"


def raise_fd_limit(needed: int) -> None:
    """Raise the soft RLIMIT_NOFILE towards the hard limit; fail clearly if too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = hard if hard == resource.RLIM_INFINITY else max(soft, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < needed:
            raise SimulatorError(
                f"need about {needed} open files but the limit is {soft} (hard {hard}); "
                "raise it with `ulimit -n`"
            )


def _key_blob(key: asyncssh.SSHKey | str | bytes) -> bytes:
    """The public key blob of an SSHKey or an OpenSSH public key line."""
    if isinstance(key, asyncssh.SSHKey):
        return key.public_data
    try:
        return asyncssh.import_public_key(key).public_data
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise SimulatorError(f"invalid authorized key: {exc}") from None


class Simulator:
    """Simulated devices over real SSH on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        devices: int = 1,
        *,
        platforms: Sequence[str] | None = None,
        base_port: int = 0,
        host: str = "127.0.0.1",
        username: str = "admin",
        password: str = "admin",
        enable_secret: str = DEFAULT_ENABLE_SECRET,
        login_delay_ms: float = 0.0,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        max_sessions: int = 5,
        exec_timeout_s: float | None = None,
        config_size: int = 0,
        bytes_per_second: int | None = None,
        auth: Sequence[str] = AUTH_METHODS,
        authorized_keys: Sequence[asyncssh.SSHKey | str | bytes] = (),
        legacy_algorithms: LegacyMode = False,
        faults: Mapping[str, Mapping[str, Any]] | None = None,
        state_dir: str | Path | None = None,
        control_port: int | None = None,
        registry: Mapping[str, PlatformSim] | None = None,
        host_key_dir: str | Path | None = None,
        ephemeral_host_keys: bool = False,
    ) -> None:
        self._registry = dict(registry) if registry is not None else dict(builtin_platforms())
        self._platforms = list(platforms) if platforms else list(ALL_PLATFORMS)
        self._count = devices
        self._base_port = base_port
        self._host = host
        self._config_size = config_size
        self._legacy = legacy_algorithms
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._host_key_dir: Path | None = None
        """Host keys are kept here and reused across restarts (None: ephemeral keys)."""
        if not ephemeral_host_keys:
            self._host_key_dir = (
                Path(host_key_dir)
                if host_key_dir is not None
                else self._state_dir or default_key_dir()
            )
        self._control_port = control_port
        self._initial_faults = dict(faults or {})
        self.settings = Settings(
            username=username,
            password=password,
            enable_secret=enable_secret,
            login_delay_ms=login_delay_ms,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            max_sessions=max_sessions,
            exec_timeout_s=exec_timeout_s,
            bytes_per_second=bytes_per_second or None,
            auth_methods=frozenset(auth),
            authorized_keys=frozenset(_key_blob(k) for k in authorized_keys),
        )
        self._validate()
        self.devices: list[SimDevice] = []
        self._by_name: dict[str, SimDevice] = {}
        self._by_port: dict[int, SimDevice] = {}
        self._servers: list[asyncio.Server] = []
        self._control: Any = None
        self._saver: asyncio.Task[None] | None = None
        self._started = False

    def __repr__(self) -> str:
        return f"Simulator(devices={self._count}, platforms={self._platforms!r})"

    # -- validation ------------------------------------------------------------------
    def _validate(self) -> None:
        if self._count < 1:
            raise SimulatorError(f"--devices must be at least 1, got {self._count}")
        if self._base_port < 0 or (self._base_port and self._base_port + self._count - 1 > 65535):
            raise SimulatorError(
                f"ports {self._base_port}..{self._base_port + self._count - 1} "
                "do not fit in 1..65535"
            )
        if self.settings.max_sessions < 1:
            raise SimulatorError("--max-sessions must be at least 1")
        if not 0 <= self._config_size <= MAX_CONFIG_SIZE:
            raise SimulatorError(f"--config-size must be between 0 and {MAX_CONFIG_SIZE} bytes")
        bad = sorted(self.settings.auth_methods - set(AUTH_METHODS))
        if bad or not self.settings.auth_methods:
            raise SimulatorError(
                f"unknown auth method {bad[0] if bad else ''!r} (known: {', '.join(AUTH_METHODS)})"
            )
        for name in ("login_delay_ms", "latency_ms", "jitter_ms"):
            if getattr(self.settings, name) < 0:
                raise SimulatorError(f"{name} must not be negative")
        timeout = self.settings.exec_timeout_s
        if timeout is not None and timeout <= 0:
            raise SimulatorError("--exec-timeout-s must be positive")
        for spec in self._initial_faults.values():
            apply_fault_changes(Faults(), spec)
        unknown = [p for p in self._platforms if p not in self._registry]
        if unknown:
            known = ", ".join(sorted(self._registry)) or "none installed"
            raise SimulatorError(f"unknown platform {unknown[0]!r} (known: {known})")

    # -- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Create the devices, bind every port, then start serving."""
        if self._started:
            raise SimulatorError("simulator already started")
        raise_fd_limit(self._count + 256)
        if self._state_dir is not None:
            prepare_state_dir(self._state_dir)
        keys = host_keys(self._host_key_dir)
        self._create_devices()
        options = self._options(keys)
        if self._control_port is not None:
            # Bound first: devices on OS-chosen ports (base port 0) could take the one asked for.
            from netfleet_sim.control import ControlServer

            self._control = ControlServer(self, self._host, self._control_port)
            await self._control.start()
        try:
            sockets = self._bind_all()
        except BaseException:
            await self.stop()
            raise
        self._started = True
        try:
            for device, sock in zip(self.devices, sockets, strict=True):
                server = await asyncio.get_running_loop().create_server(
                    connection_factory(device, options), sock=sock
                )
                self._servers.append(server)
        except BaseException:
            for sock in sockets[len(self._servers) :]:
                sock.close()
            await self.stop()
            raise
        if self._state_dir is not None:
            self._saver = asyncio.create_task(self._save_periodically())

    def _create_devices(self) -> None:
        width = max(4, len(str(self._count)))
        for i in range(self._count):
            platform = self._platforms[i % len(self._platforms)]
            sim = self._registry[platform]
            name = device_name(platform, i + 1, width)
            state = None
            if self._state_dir is not None:
                state = load_state(self._state_dir, name, platform, sim)
            if state is None:
                state = sim.new_state(name, index=i, config_size=self._config_size)
            device = SimDevice(
                name=name,
                index=i,
                platform=platform,
                platform_sim=sim,
                state=state,
                settings=self.settings,
                host=self._host,
            )
            self.devices.append(device)
            self._by_name[name] = device
        for pattern, changes in self._initial_faults.items():
            chosen = self.select(pattern)
            if not chosen:
                example = self.devices[0].name
                self.devices.clear()
                self._by_name.clear()
                raise SimulatorError(
                    f"fault pattern {pattern!r} matches no device (names look like {example!r})"
                )
            for device in chosen:
                device.set_faults(**changes)

    def _options(self, keys: list[asyncssh.SSHKey]) -> asyncssh.SSHServerConnectionOptions:
        by_port = self._by_port
        if self._legacy == "only":
            keys = [k for k in keys if k.algorithm == b"ssh-rsa"]
        return asyncssh.SSHServerConnectionOptions(
            config=None,
            server_factory=lambda: DeviceServer(by_port),
            server_host_keys=keys,
            server_version="Simulated_SSH",
            line_editor=False,
            errors="replace",
            compression_algs=["none"],
            login_timeout=120,
            **algorithm_options(self._legacy),
        )

    def _bind_all(self) -> list[Any]:
        sockets = []
        try:
            for i, device in enumerate(self.devices):
                port = self._base_port + i if self._base_port else 0
                try:
                    sock = bind_socket(self._host, port)
                except OSError as exc:
                    if exc.errno == errno.EADDRINUSE:
                        raise SimulatorError(
                            f"port {port} on {self._host} is already in use "
                            f"(needed for {device.name}); choose another --base-port"
                        ) from None
                    raise SimulatorError(
                        f"cannot listen on {self._host}:{port} for {device.name}: "
                        f"{exc.strerror or exc}"
                    ) from None
                sockets.append(sock)
                device.port = sock.getsockname()[1]
                self._by_port[device.port] = device
        except BaseException:
            for sock in sockets:
                sock.close()
            self._by_port.clear()
            raise
        return sockets

    async def stop(self) -> None:
        """Stop listening, drop every session and save changed states."""
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            self._saver = None
        if self._control is not None:
            await self._control.stop()
            self._control = None
        for server in self._servers:
            server.close()
        for device in self.devices:
            for conn in device.connections():
                conn.abort()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self._state_dir is not None and self._started:
            save_dirty(self._state_dir, self.devices)
        self._started = False

    async def _save_periodically(self) -> None:
        assert self._state_dir is not None
        while True:
            await asyncio.sleep(SAVE_INTERVAL_S)
            save_dirty(self._state_dir, self.devices)

    def save_states(self) -> int:
        """Save every changed device state now (needs a state dir); returns how many."""
        if self._state_dir is None:
            return 0
        return save_dirty(self._state_dir, self.devices)

    # -- access --------------------------------------------------------------------------
    def device(self, name: str) -> SimDevice:
        """The device called ``name`` (KeyError naming it if there is none)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no simulated device named {name!r}") from None

    def select(self, pattern: str) -> list[SimDevice]:
        """Devices whose name matches the shell-style ``pattern`` (``*`` = all)."""
        import fnmatch

        if pattern in ("*", ""):
            return list(self.devices)
        return [d for d in self.devices if fnmatch.fnmatchcase(d.name, pattern)]

    @property
    def control_url(self) -> str | None:
        """``http://127.0.0.1:PORT`` of the control interface, if it runs."""
        return self._control.url if self._control is not None else None

    def stats(self) -> dict[str, DeviceStats]:
        return {d.name: d.stats for d in self.devices}

    def reset_stats(self) -> None:
        for device in self.devices:
            device.reset_stats()

    def clear_faults(self) -> None:
        for device in self.devices:
            device.clear_faults()

    def inventory(self) -> list[dict[str, Any]]:
        """The inventory entries (as written by :meth:`write_inventory`)."""
        return inventory_entries(self.devices)

    def write_inventory(self, path: str | Path) -> None:
        """Write the YAML inventory (``devices:`` list) other netfleet commands read."""
        write_inventory(Path(path), self.devices)
