"""Secrets a device prints are masked in outputs, parsed rows and session logs."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from netfleet.core.redact import MASK
from netfleet.device import Device
from netfleet.device.masking import StreamMask
from netfleet.platforms.secrets import (
    mask_output,
    redactor_for,
    register_secret_rules,
    reset_secret_rules,
)
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


async def test_the_simulators_default_secrets_leave_its_config_readable() -> None:
    """A fleet started with the defaults (``netfleet sim``, ``netfleet demo``): no default
    secret is a word its devices print, so masking by value leaves the keywords alone."""
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        d = sim.devices[0]
        async with Device(
            d.host, port=d.port, platform=d.platform, username=d.username,
            password=d.password, enable_secret=d.enable_secret, host_key_policy="off",
        ) as dev:  # fmt: skip
            r = await dev.send_command("show running-config")
    assert r.ok, r.error
    lines = r.output.splitlines()
    assert f"enable secret 9 {MASK}" in lines
    assert not [line for line in lines if line.startswith(MASK)]


def test_known_values_and_user_rules() -> None:
    out = mask_output("cisco_ios", f"login {PASSWORD} ok\n", [PASSWORD, "x"])
    assert out == f"login {MASK} ok\n"  # the one-character value masks nothing
    try:
        register_secret_rules("linux", ["^ export API_TOKEN <secret>"])
        assert mask_output("linux", "export API_TOKEN abc123") == f"export API_TOKEN {MASK}"
        assert mask_output("cisco_ios", "export API_TOKEN abc123") == "export API_TOKEN abc123"
    finally:
        reset_secret_rules()


_SECRET_LINES = [
    "enable secret 9 $9$abcDEF",
    f"username ops privilege 15 password 0 {PASSWORD}",
    "snmp-server community Pub1ic RO",
    f" login {ENABLE} ok",
    " description keyless interface",
    "interface Gi1/0/1",
    "",
]


@given(
    st.lists(st.sampled_from(_SECRET_LINES), max_size=40),
    st.lists(st.integers(0, 40), max_size=6),
    st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_masking_in_runs_of_lines_is_masking_at_once(
    lines: list[str], cuts: list[int], last_break: bool
) -> None:
    redactor = redactor_for("cisco_ios", [PASSWORD, ENABLE])
    body = "".join(f"{line}\n" for line in lines)
    stream = StreamMask(redactor)
    starts = [sum(len(ln) + 1 for ln in lines[:c]) for c in sorted(set(cuts)) if c <= len(lines)]
    for a, b in itertools.pairwise([0, *starts]):
        if b > a:
            stream(body[a:b])
    if not last_break:
        body += "password 0 hunter2-tail"  # the read's text may end in an unterminated line
    output = body[:-1] if body.endswith("\n") else body  # the session's output
    assert asyncio.run(stream.finish(body)) == redactor.redact(output)


async def test_a_long_output_masked_as_it_streams_is_masked_as_a_whole() -> None:
    async with Simulator(
        devices=1, platforms=["cisco_ios"], password=PASSWORD, enable_secret=ENABLE,
        config_size=48 * 1024,
    ) as sim:  # fmt: skip
        d = sim.devices[0]
        async with Device(
            d.host, port=d.port, platform=d.platform, username=d.username,
            password=PASSWORD, enable_secret=ENABLE, host_key_policy="off",
        ) as dev:  # fmt: skip
            dev.keep_raw = True
            r = await dev.send_command("show running-config")
            assert r.ok, r.error
            assert r.raw_output is not None
            assert len(r.raw_output) > 40_000
            assert r.output == mask_output("cisco_ios", r.raw_output, [PASSWORD, ENABLE])
            assert "snmp-server community " + MASK in r.output
