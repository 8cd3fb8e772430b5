"""Key chains: the key id stays readable, the key string is masked, on every IOS-family
platform, in ``show running-config`` and ``show key chain`` as the devices print them,
and in the echo of the commands typed at the key-chain prompt."""

from __future__ import annotations

import pytest

from netfleet.core.redact import MASK
from netfleet.platforms.secrets import mask_output

IOS_CONFIG = """\
key chain OSPF
 key 1
  key-string 7 070C285F4D06
 key 2
  key-string Plain-Key-2
  accept-lifetime 00:00:00 Jan 1 2026 infinite
 key 2147483647
  key-string 7 121A0C041104
!
radius server ISE
 address ipv4 10.1.1.10 auth-port 1812 acct-port 1813
 key 12345678
radius server ISE2
 key 7 045802150C2E
tacacs server TAC
 key Tac-Plain-1
"""
IOS_MASKED = f"""\
key chain OSPF
 key 1
  key-string 7 {MASK}
 key 2
  key-string {MASK}
  accept-lifetime 00:00:00 Jan 1 2026 infinite
 key 2147483647
  key-string 7 {MASK}
!
radius server ISE
 address ipv4 10.1.1.10 auth-port 1812 acct-port 1813
 key {MASK}
radius server ISE2
 key 7 {MASK}
tacacs server TAC
 key {MASK}
"""


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_xe", "cisco_nxos", "cisco_asa"])
def test_key_ids_are_kept_and_key_strings_masked(platform: str) -> None:
    assert mask_output(platform, IOS_CONFIG) == IOS_MASKED
    # The same with CRLF line ends, as read from a terminal.
    crlf = IOS_CONFIG.replace("\n", "\r\n")
    assert mask_output(platform, crlf) == IOS_MASKED.replace("\n", "\r\n")


def test_nxos_and_xr_key_chains() -> None:
    nxos = 'key chain KC1\n  key 0\n    key-string 7 "075e731f1a"\n  key 5\n    key-string Nx-Key\n'
    assert mask_output("cisco_nxos", nxos) == (
        f'key chain KC1\n  key 0\n    key-string 7 "{MASK}"\n  key 5\n    key-string {MASK}\n'
    )
    xr = (
        "key chain ISIS\n key 8\n"
        "  key-string password 7 1104141D0A1E\n  key-string clear Xr-Plain\n"
    )
    assert mask_output("cisco_xr", xr) == (
        f"key chain ISIS\n key 8\n  key-string password 7 {MASK}\n  key-string clear {MASK}\n"
    )


def test_show_key_chain_masks_the_text_it_prints() -> None:
    ios = (
        "Key-chain OSPF:\n"
        '    key 1 -- text "chestnut-99"\n'
        "        accept lifetime (always valid) - (always valid) [valid now]\n"
        '    key 2 -- text "1234"\n'
    )
    out = mask_output("cisco_ios", ios)
    assert "chestnut-99" not in out
    assert '"1234"' not in out
    assert f'    key 1 -- text "{MASK}"' in out
    assert "accept lifetime (always valid)" in out
    nxos = 'Key-Chain KC1\n  Key 0 -- text 7 "075e731f1a"\n'
    assert mask_output("cisco_nxos", nxos) == f'Key-Chain KC1\n  Key 0 -- text 7 "{MASK}"\n'


def test_commands_typed_at_the_key_chain_prompt() -> None:
    echo = (
        "r1(config)#key chain OSPF\n"
        "r1(config-keychain)#key 1\n"
        "r1(config-keychain-key)#key-string 7 070C285F4D06\n"
        "r1(config-radius-server)#key 12345678\n"
    )
    assert mask_output("cisco_ios", echo) == (
        "r1(config)#key chain OSPF\n"
        "r1(config-keychain)#key 1\n"
        f"r1(config-keychain-key)#key-string 7 {MASK}\n"
        f"r1(config-radius-server)#key {MASK}\n"
    )


def test_a_lone_number_is_masked_unless_a_key_chain_holds_it() -> None:
    # No header (an excerpt, e.g. `| include`): masked, as a numeric shared secret may be.
    assert mask_output("cisco_ios", " key 12345678\n") == f" key {MASK}\n"
    # A key chain cannot hold a key id beyond 2^31-1: such a number is masked.
    assert mask_output("cisco_ios", "key chain K\n key 99999999999\n") == (
        f"key chain K\n key {MASK}\n"
    )
    # Anything after the number: not a key id line.
    assert mask_output("cisco_ios", "key chain K\n key 7 0822455D0A16\n") == (
        f"key chain K\n key 7 {MASK}\n"
    )
