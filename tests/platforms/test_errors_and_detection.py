"""Error patterns against real device error output, and version/banner autodetection."""

from __future__ import annotations

import pytest

from netfleet.platforms import compiled, detect_platform

# (output of the failed command, the message netfleet must report)
ERRORS: dict[str, list[tuple[str, str]]] = {
    "cisco_ios": [
        (
            "show ip intrface brief\n           ^\n% Invalid input detected at '^' marker.\n",
            "% Invalid input detected at '^' marker.",
        ),
        ("show ip\n% Incomplete command.\n", "% Incomplete command."),
        ('sh c\n% Ambiguous command:  "sh c"\n', '% Ambiguous command:  "sh c"'),
        (
            'foo\nTranslating "foo"\n% Unknown command or computer name, or unable to find '
            "computer address\n",
            "% Unknown command or computer name, or unable to find computer address",
        ),
        (
            "ip address 10.0.0.300 255.255.255.0\n% Bad IP address or host name\n"
            "% Unknown command or computer name, or unable to find computer address\n",
            "% Bad IP address or host name\n"
            "% Unknown command or computer name, or unable to find computer address",
        ),
        (
            "copy tftp://10.0.0.9/x flash:\n%Error opening tftp://10.0.0.9/x (Timed out)\n",
            "%Error opening tftp://10.0.0.9/x (Timed out)",
        ),
    ],
    "cisco_nxos": [
        (
            "show intrface\n          ^\n% Invalid command at '^' marker.\n",
            "% Invalid command at '^' marker.",
        ),
        ("show ip\n% Incomplete command at '^' marker.\n", "% Incomplete command at '^' marker."),
        (
            "interface ethernet 9/99\n                  ^\n% Invalid parameter detected at '^' "
            "marker.\n",
            "% Invalid parameter detected at '^' marker.",
        ),
        (
            "rollback running-config checkpoint nf\nERROR: Checkpoint nf does not exist.\n",
            "ERROR: Checkpoint nf does not exist.",
        ),
    ],
    "cisco_xr": [
        (
            "Fri Nov 27 03:31:12.345 UTC\n                   ^\n"
            "% Invalid input detected at '^' marker.\n",
            "% Invalid input detected at '^' marker.",
        ),
        ("show ip\n% Incomplete command.\n", "% Incomplete command."),
        (
            "commit\n\n% Failed to commit one or more configuration items during a "
            "pseudo-atomic operation. All changes made have been reverted. Please issue "
            "'show configuration failed [inheritance]' from this session to view the errors\n",
            "% Failed to commit one or more configuration items during a pseudo-atomic "
            "operation. All changes made have been reverted. Please issue 'show configuration "
            "failed [inheritance]' from this session to view the errors",
        ),
    ],
    "cisco_asa": [
        (
            "show intrface\n          ^\nERROR: % Invalid input detected at '^' marker.\n",
            "ERROR: % Invalid input detected at '^' marker.",
        ),
        (
            "object network web\nERROR: Unable to add object, name already in use\n",
            "ERROR: Unable to add object, name already in use",
        ),
    ],
    "arista_eos": [
        ("show intrface\n% Invalid input\n", "% Invalid input"),
        (
            "configure\n% Invalid input (privileged mode required)\n",
            "% Invalid input (privileged mode required)",
        ),
        ("show ip\n% Incomplete command\n", "% Incomplete command"),
        ("sh in\n% Ambiguous command\n", "% Ambiguous command"),
    ],
    "juniper_junos": [
        (
            "show intrfaces terse\n     ^\nsyntax error, expecting <command>.\n",
            "syntax error, expecting <command>.",
        ),
        ("show foo\n     ^\nunknown command.\n", "unknown command."),
        (
            "set interfaces ge-0/0/0 unit\n                            ^\nmissing argument.\n",
            "missing argument.",
        ),
        (
            "commit check\n[edit interfaces]\n  'ge-0/0/0'\n    Missing mandatory statement\n"
            "error: configuration check-out failed\n",
            "error: configuration check-out failed",
        ),
        (
            "sh\n   ^\n'sh' is ambiguous.\nPossible completions:\n"
            "  show   Show system information\n",
            "'sh' is ambiguous.\nPossible completions:\n  show   Show system information",
        ),
    ],
    "linux": [
        ("shwo version\nbash: shwo: command not found\n", "bash: shwo: command not found"),
        (
            "cat /nope\ncat: /nope: No such file or directory\n",
            "cat: /nope: No such file or directory",
        ),
        (
            "cat /etc/shadow\ncat: /etc/shadow: Permission denied\n",
            "cat: /etc/shadow: Permission denied",
        ),
    ],
}
# A TACACS+ server refusing a command (command authorization): no "%", at the line start.
for _name in ("cisco_ios", "cisco_nxos", "cisco_xr", "cisco_asa", "arista_eos"):
    ERRORS[_name].append(("Command authorization failed.\n", "Command authorization failed."))
ERRORS["cisco_xe"] = ERRORS["cisco_ios"]

# Successful output that merely talks about errors must not fail the command.
NORMAL: dict[str, str] = {
    "cisco_ios": (
        "Building configuration...\n\nCurrent configuration : 1543 bytes\n!\n"
        "interface GigabitEthernet0/1\n description % Invalid input detected test circuit\n"
        " ip address 10.0.0.1 255.255.255.0\n!\nlogging buffered 4096\n"
        "GigabitEthernet0/1 is up, line protocol is up\n"
        "     0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored\n"
    ),
    "cisco_nxos": (
        "Ethernet1/1 is up\n  0 input error  0 short frame  0 overrun   0 underrun\n"
        "  description Invalid command center\n"
    ),
    "cisco_xr": "Building configuration...\n!! IOS XR Configuration 7.3.2\ninterface Loopback0\n"
    " description Failed to commit? never\n ipv4 address 192.0.2.1 255.255.255.255\n!\nend\n",
    "cisco_asa": 'Interface GigabitEthernet0/0 "outside", is up, line protocol is up\n'
    "        0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored, 0 abort\n"
    "names\nobject network ERROR_HOSTS\n",
    "arista_eos": "Ethernet1 is up, line protocol is up (connected)\n"
    "  Description: % Invalid input drill\n     0 input errors, 0 CRC, 0 alignment\n",
    "juniper_junos": "Physical interface: ge-0/0/0, Enabled, Physical link is Up\n"
    "  Description: syntax error lab\n    Input errors: 0, Output errors: 0\n"
    "    Bit errors                             0\n",
    "linux": "total 8\n-rw-r--r-- 1 root root 220 Jan  1 00:00 .bash_logout\n"
    "Nov 27 03:00:01 web1 CRON[1234]: (root) CMD (run-parts /etc/cron.hourly)\n",
}
NORMAL["cisco_xe"] = NORMAL["cisco_ios"]


@pytest.mark.parametrize(
    ("name", "output", "message"),
    [(name, out, msg) for name, cases in ERRORS.items() for out, msg in cases],
)
def test_error_pattern_reports_the_device_message(name: str, output: str, message: str) -> None:
    assert compiled(name).find_error(output) == message


@pytest.mark.parametrize(("name", "output"), NORMAL.items())
def test_normal_output_is_not_an_error(name: str, output: str) -> None:
    assert compiled(name).find_error(output) is None


def test_each_error_pattern_is_exercised() -> None:
    """Every built-in error pattern matches at least one real error sample above."""
    unused = []
    for name, cases in ERRORS.items():
        for rx in compiled(name).errors:
            if not any(rx.search(out) for out, _ in cases):
                unused.append((name, rx.pattern))
    # A few patterns cover rarer messages; keep the list of untested ones small and explicit.
    assert set(unused) <= {
        ("cisco_ios", r"^[ \t]*% ?Unrecognized command"),
        ("cisco_ios", r"^[ \t]*% ?Bad mask"),
        ("cisco_xe", r"^[ \t]*% ?Unrecognized command"),
        ("cisco_xe", r"^[ \t]*% ?Bad mask"),
        ("cisco_nxos", r"^[ \t]*% ?Invalid (?:number|range|value|ip address|interface)"),
        ("cisco_nxos", r"^[ \t]*% ?Ambiguous command"),
        ("cisco_nxos", r"^[ \t]*% ?Permission denied"),
        ("cisco_nxos", r"^[ \t]*% ?Invalid input detected"),
        ("cisco_xr", r"^[ \t]*% ?Ambiguous command"),
        ("cisco_xr", r"^[ \t]*% ?Bad IP address"),
        ("cisco_xr", r"^[ \t]*% ?Unknown command"),
        ("cisco_asa", r"^[ \t]*% ?Invalid input detected"),
        ("arista_eos", r"^[ \t]*% ?Unavailable command"),
        ("arista_eos", r"^[ \t]*% ?Error"),
        ("juniper_junos", r"^[ \t]*invalid (?:value|interface|ip address)"),
    }, unused


# --- autodetection ------------------------------------------------------------------

IOS_VERSION = """\
Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5, RELEASE SOFTWARE (fc1)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2019 by Cisco Systems, Inc.
Compiled Wed 30-Jan-19 20:34 by prod_rel_team
"""
XE_VERSION = (
    "Cisco IOS XE Software, Version 16.09.03\n"
    "Cisco IOS Software [Fuji], Virtual XE Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), "
    "Version 16.9.3, RELEASE SOFTWARE (fc2)\n"
    "Technical Support: http://www.cisco.com/techsupport\n"
)
XE3_VERSION = (
    "Cisco IOS Software, IOS-XE Software, Catalyst 4500 L3 Switch  Software "
    "(cat4500e-UNIVERSALK9-M), Version 03.06.06E RELEASE SOFTWARE (fc1)\n"
)
NXOS_VERSION = """\
Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Copyright (c) 2002-2020, Cisco Systems, Inc. All rights reserved.
Some parts of this software are covered under the GNU Public
License. A copy of the license is available at
http://www.gnu.org/licenses/gpl.html.
"""
XR_VERSION = """\
Fri Nov 27 03:31:12.345 UTC
Cisco IOS XR Software, Version 7.3.2
Copyright (c) 2013-2021 by Cisco Systems, Inc.

cisco IOS-XRv 9000 () processor
"""
ASA_VERSION = """\

Cisco Adaptive Security Appliance Software Version 9.12(4)
SSP Operating System Version 2.6(1.192)
"""
EOS_VERSION = """\
Arista vEOS-lab
Hardware version:
Software image version: 4.27.0F
Architecture: x86_64
"""
JUNOS_VERSION = """\
Hostname: vmx1
Model: vmx
Junos: 21.4R3.15
JUNOS OS Kernel 64-bit  [20220620.7e2b0bf_builder_stable_12_214]
"""
JUNOS_EX_VERSION = (
    "\nfpc0:\n" + "-" * 76 + "\nHostname: sw1\nModel: ex2200-24t-4g\n"
    "JUNOS EX  Software Suite [12.3R12.4]\nJUNOS FIPS mode utilities [12.3R12.4]\n"
    "JUNOS Online Documentation [12.3R12.4]\nJUNOS Web Management [12.3R12.4]\n"
)
"""An older EX switch: no ``Junos:`` line, no ``JUNOS Base OS``."""
LINUX_UNAME = (
    "Linux web1 5.15.0-91-generic #101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023 "
    "x86_64 x86_64 x86_64 GNU/Linux\n"
)


@pytest.mark.parametrize(
    ("output", "name"),
    [
        (IOS_VERSION, "cisco_ios"),
        (XE_VERSION, "cisco_xe"),
        (XE3_VERSION, "cisco_xe"),
        (NXOS_VERSION, "cisco_nxos"),
        (XR_VERSION, "cisco_xr"),
        (ASA_VERSION, "cisco_asa"),
        (EOS_VERSION, "arista_eos"),
        (JUNOS_VERSION, "juniper_junos"),
        (JUNOS_EX_VERSION, "juniper_junos"),
        (LINUX_UNAME, "linux"),
    ],
)
def test_version_output_identifies_exactly_one_platform(output: str, name: str) -> None:
    assert detect_platform(output) == name
    matching = [
        n
        for n in (
            "cisco_ios",
            "cisco_xe",
            "cisco_nxos",
            "cisco_xr",
            "cisco_asa",
            "arista_eos",
            "juniper_junos",
            "linux",
        )
        if any(rx.search(output) for rx in compiled(n).version)
    ]
    assert matching == [name]


def test_detect_by_banner_and_unknown() -> None:
    assert (
        detect_platform(banner="--- JUNOS 21.4R3.15 Kernel 64-bit JNPR-12.1\n") == "juniper_junos"
    )
    assert detect_platform(banner="Welcome to Ubuntu 22.04.3 LTS (GNU/Linux 5.15.0 x86_64)\n") == (
        "linux"
    )
    assert detect_platform("bash: show: command not found\n", banner="Authorized use only") is None
    assert detect_platform() is None
