"""The known_hosts file: pinning, lookup, outside edits."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

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


def _key_line(pattern: str, key: asyncssh.SSHKey) -> str:
    return f"{pattern} {key.export_public_key().decode().strip()}\n"


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lines parsed by each asyncssh ``load`` call the cache makes."""
    calls: list[int] = []
    original = asyncssh.SSHKnownHosts.load

    def load(self: asyncssh.SSHKnownHosts, text: str) -> None:
        calls.append(text.count("\n"))
        original(self, text)

    monkeypatch.setattr(asyncssh.SSHKnownHosts, "load", load)
    return calls


def test_pins_appended_by_other_processes_are_parsed_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several workers pinning a fleet into one file: each lookup parses only the lines
    added since the last one, not the whole file again (O(N^2) over a fleet)."""
    path = tmp_path / "known_hosts"
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.write_text("".join(_key_line(f"[10.0.0.1]:{20000 + i}", key) for i in range(500)))
    kh = KnownHosts(path)
    calls = _count_parses(monkeypatch)
    assert kh.lookup("10.0.0.1", 20000)
    assert calls == [500]
    for i in range(500, 520):
        with path.open("a") as fh:  # another worker pins a device
            fh.write(_key_line(f"[10.0.0.1]:{20000 + i}", key))
        assert kh.lookup("10.0.0.1", 20000 + i), i
        kh.add("10.0.0.2", 20000 + i, key)  # and so does this one
    assert kh.lookup("10.0.0.2", 20519)
    assert kh.lookup("10.0.0.1", 20499)
    # One whole read, then the 40 pins (20 each way), a line or two at a time.
    assert calls[0] == 500
    assert sum(calls[1:]) == 40
    assert max(calls[1:]) <= 2


def test_a_rewritten_file_is_read_again_whole(tmp_path: Path) -> None:
    """``ssh-keygen -R`` (a new file) or an edit in place that keeps the size growing:
    a removed or changed pin is not served from the cache."""
    path = tmp_path / "known_hosts"
    a, b = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(2))
    kh = KnownHosts(path)
    kh.add("r1", 22, a)
    kh.add("r2", 22, a)
    assert kh.lookup("r1", 22)
    # Rewritten in place (same inode): r1 removed, r2 re-pinned, and the file longer.
    with path.open("r+") as fh:
        fh.write(_key_line("r2", b) + _key_line("r3-with-a-longer-name", b) * 2)
        fh.truncate()
    assert kh.lookup("r1", 22) == []
    assert [k.public_data for k in kh.lookup("r2", 22)] == [b.public_data]
    # Replaced by a new file, as ``ssh-keygen -R`` does.
    tmp = tmp_path / "known_hosts.new"
    tmp.write_text(_key_line("r9", a))
    tmp.replace(path)
    assert kh.lookup("r2", 22) == []
    assert kh.lookup("r9", 22)
    path.unlink()
    assert kh.lookup("r9", 22) == []


def test_a_pin_after_a_last_line_without_line_break_stays_on_its_own_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "known_hosts"
    a, b = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(2))
    path.write_text(_key_line("edited", a).rstrip("\n"))
    kh = KnownHosts(path)
    assert kh.lookup("edited", 22)
    kh.add("new", 22, b)
    assert path.read_text().splitlines()[1].startswith("new ssh-ed25519 ")
    assert [k.public_data for k in KnownHosts(path).lookup("new", 22)] == [b.public_data]
    assert [k.public_data for k in kh.lookup("edited", 22)] == [a.public_data]


def test_a_line_still_being_written_is_read_once_it_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    a, b = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(2))
    kh = KnownHosts(path)
    kh.add("r1", 22, a)
    assert kh.lookup("r1", 22)
    line = _key_line("[r2]:830", b)
    with path.open("a") as fh:  # another writer, halfway through its line
        fh.write(line[:12])
    assert kh.lookup("r2", 830) == []
    assert kh.lookup("r2", 22) == []
    with path.open("a") as fh:
        fh.write(line[12:])
    assert [k.public_data for k in kh.lookup("r2", 830)] == [b.public_data]
    assert [k.public_data for k in kh.lookup("r1", 22)] == [a.public_data]
