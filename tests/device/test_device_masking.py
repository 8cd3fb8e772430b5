"""Secrets a device prints are masked in outputs, parsed rows and session logs."""

from __future__ import annotations

from pathlib import Path

from netfleet.core.redact import MASK
from netfleet.device import Device
from netfleet.platforms.secrets import mask_output, register_secret_rules, reset_secret_rules
from netfleet_sim import Simulator

PASSWORD = "Zebra-Pw-7731-q"
ENABLE = "Okapi-En-5520-x"
PRINTED = (
    "$9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM",  # IOS secret 9
    "$6$Zr0ld4Ws$Hx1",  # EOS username secret sha512
    "community public",  # SNMP community
)


async def test_running_config_secrets_are_masked_in_outputs_and_logs(tmp_path: Path) -> None:
    async with Simulator(
        devices=2, platforms=["cisco_ios", "arista_eos"], password=PASSWORD, enable_secret=ENABLE
    ) as sim:
        for d in sim.devices:
            log = tmp_path / f"{d.name}.log"
            async with Device(
                d.host, port=d.port, platform=d.platform, username=d.username,
                password=PASSWORD, enable_secret=ENABLE, host_key_policy="off",
                session_log=log,
            ) as dev:  # fmt: skip
                await dev.enable()
                r = await dev.send_command("show running-config")
                assert r.ok, r.error
                assert "snmp-server community " + MASK in r.output
                for secret in PRINTED:
                    assert secret not in r.output, (d.platform, secret)
            text = log.read_text()
            assert "show running-config" in text
            assert ENABLE not in text
            for secret in PRINTED:
                assert secret not in text, (d.platform, secret)


def test_known_values_and_user_rules() -> None:
    out = mask_output("cisco_ios", f"login {PASSWORD} ok\n", [PASSWORD, "x"])
    assert out == f"login {MASK} ok\n"  # the one-character value masks nothing
    try:
        register_secret_rules("linux", ["^ export API_TOKEN <secret>"])
        assert mask_output("linux", "export API_TOKEN abc123") == f"export API_TOKEN {MASK}"
        assert mask_output("cisco_ios", "export API_TOKEN abc123") == "export API_TOKEN abc123"
    finally:
        reset_secret_rules()
