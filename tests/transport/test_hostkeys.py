"""The known_hosts file: pinning, lookup, outside edits."""

from __future__ import annotations

from pathlib import Path

import asyncssh

from netfleet.transport import KnownHosts


def test_pin_lookup_and_outside_edits(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "known_hosts"
    kh = KnownHosts(path)
    a, b, c = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(3))
    assert kh.lookup("10.0.0.1", 22) == []
    kh.add("10.0.0.1", 22, a)
    kh.add("10.0.0.1", 2222, b)
    assert [k.public_data for k in kh.lookup("10.0.0.1", 22)] == [a.public_data]
    assert [k.public_data for k in kh.lookup("10.0.0.1", 2222)] == [b.public_data]
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text().splitlines()[0].startswith("10.0.0.1 ssh-ed25519 ")
    # Another process appends; the cache notices.
    with path.open("a") as fh:
        fh.write("# comment\n\n[h2]:830,[h2-alias]:830 " + c.export_public_key().decode())
    assert [k.public_data for k in KnownHosts(path).lookup("h2", 830)] == [c.public_data]
    assert [k.public_data for k in kh.lookup("h2-alias", 830)] == [c.public_data]
    assert [k.public_data for k in kh.lookup("10.0.0.1", 22)] == [a.public_data]
