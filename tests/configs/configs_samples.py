"""Sample outputs as devices print them (``tests/configs/data``)."""

from __future__ import annotations

import random
from pathlib import Path

DATA = Path(__file__).parent / "data"


def sample(name: str) -> str:
    """The text of ``tests/configs/data/<name>.txt``."""
    return (DATA / f"{name}.txt").read_text(encoding="utf-8")


def realistic_config(target: int = 50_000, seed: int = 3) -> str:
    """An IOS running configuration of about ``target`` bytes with varied lines."""
    rnd = random.Random(seed)
    words = ["floor", "rack", "printer", "ap", "camera", "desk", "lab", "voice", "door"]
    lines = ["!", "version 17.9", "hostname edge-r1", "!", "aaa new-model", "!"]
    n = 0
    while sum(len(x) + 1 for x in lines) < target - 200:
        n += 1
        lines += [
            f"interface GigabitEthernet1/0/{n}",
            f" description {rnd.choice(words)} {rnd.randrange(1, 400)} {rnd.choice(words)}",
            f" switchport access vlan {100 + rnd.randrange(60)}",
            " switchport mode access",
            " spanning-tree portfast",
            f" ip access-group ACL-{rnd.randrange(12)} in" if rnd.random() < 0.4 else " no cdp",
            "!",
        ]
        if n % 9 == 0:
            lines.append(f"ip access-list extended ACL-{n}")
            for k in range(rnd.randrange(3, 9)):
                a, b = rnd.randrange(1, 254), rnd.randrange(1, 254)
                lines.append(f" {k * 10 + 10} permit tcp 10.{a}.{b}.0 0.0.0.255 any eq 443")
            lines.append("!")
    lines += ["line vty 0 4", " login local", "!", "end", ""]
    return "\n".join(lines)
