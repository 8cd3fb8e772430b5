"""Simulator: commit confirmed (Junos), configure replace (IOS, EOS), checkpoints (NX-OS)."""

from __future__ import annotations

import time

from netfleet_sim.platforms.ios_like.state import IosState
from netfleet_sim.platforms.junos_state import JunosState
from tests.support.sim_session import Session, enabled


def _junos() -> Session:
    s = Session("juniper_junos")
    s.run("set cli screen-length 0")
    return s


def test_junos_commit_confirmed_is_refused_in_a_private_candidate() -> None:
    s = _junos()
    s.run("configure private")
    s.run("set system ntp server 192.0.2.1")
    out = s.run("commit confirmed 5")
    assert "not supported in configure private mode" in out
    assert isinstance(s.state, JunosState)
    assert not any("192.0.2.1" in line for line in s.state.committed)


def test_junos_commit_confirmed_reverts_at_the_deadline_unless_confirmed() -> None:
    s = _junos()
    state = s.state
    assert isinstance(state, JunosState)
    before = list(state.committed)
    s.run("configure exclusive")
    s.run("set system ntp server 192.0.2.1")
    out = s.run("commit confirmed 2")
    assert "automatically rolled back in 2 minutes unless confirmed" in out
    assert "commit complete" in out
    assert any("192.0.2.1" in line for line in state.committed)
    assert not state.expire(now=time.time() + 60)
    assert state.expire(now=time.time() + 121)
    assert state.committed == before
    assert state.auto_rollbacks == 1


def test_junos_commit_after_commit_confirmed_confirms() -> None:
    s = _junos()
    state = s.state
    assert isinstance(state, JunosState)
    s.run("configure exclusive")
    s.run("set system ntp server 192.0.2.1")
    s.run("commit confirmed 1")
    assert "commit complete" in s.run("commit")
    assert not state.expire(now=time.time() + 3600)
    assert any("192.0.2.1" in line for line in state.committed)


def test_junos_rollback_1_after_commit_confirmed_restores_the_previous_config() -> None:
    s = _junos()
    state = s.state
    assert isinstance(state, JunosState)
    before = list(state.committed)
    s.run("configure exclusive")
    s.run("set system ntp server 192.0.2.1")
    s.run("commit confirmed 1")
    assert "load complete" in s.run("rollback 1")
    s.run("commit")
    assert state.committed == before
    assert state.pending_confirm is None


def test_ios_copy_and_configure_replace_restore_the_snapshot() -> None:
    s = enabled("cisco_ios")
    state = s.state
    assert isinstance(state, IosState)
    before = [list(x) for x in state.running]
    assert s.run("copy running-config flash:snap.cfg") == ""
    assert s.prompt().startswith("Destination filename [snap.cfg]?")
    assert "bytes copied" in s.run("")
    s.lines("configure terminal", "ntp server 192.0.2.1", "end")
    assert [list(x) for x in state.running] != before
    out = s.run("configure replace flash:snap.cfg force")
    assert "Rollback Done" in out
    assert [list(x) for x in state.running] == before
    assert "File not found" in s.run("configure replace flash:nope.cfg force")
    # a second copy asks to overwrite
    s.run("copy running-config flash:snap.cfg")
    s.run("")
    assert "over write" in s.prompt()


def test_ios_configure_replace_without_force_asks() -> None:
    s = enabled("cisco_ios")
    s.run("copy running-config flash:a.cfg")
    s.run("")
    s.run("configure replace flash:a.cfg")
    assert "Enter Y if you are sure you want to proceed" in s.prompt()
    assert "Rollback Done" in s.run("y")


def test_eos_copy_and_replace() -> None:
    s = enabled("arista_eos")
    state = s.state
    assert isinstance(state, IosState)
    before = [list(x) for x in state.running]
    assert "Copy completed successfully." in s.run("copy running-config flash:x.cfg")
    s.lines("configure", "ntp server 192.0.2.1", "end")
    assert s.run("configure replace flash:x.cfg") == ""
    assert [list(x) for x in state.running] == before


def test_nxos_checkpoint_and_rollback() -> None:
    s = Session("cisco_nxos")
    state = s.state
    assert isinstance(state, IosState)
    before = [list(x) for x in state.running]
    assert "Done" in s.run("checkpoint snap")
    assert "already exists" in s.run("checkpoint snap")
    s.lines("configure terminal", "ntp server 192.0.2.1", "end")
    assert "Rollback completed successfully." in s.run("rollback running-config checkpoint snap")
    assert [list(x) for x in state.running] == before
    assert s.run("no checkpoint snap") == ""
    assert "No checkpoint" in s.run("no checkpoint snap")


def test_copy_is_not_in_user_exec() -> None:
    s = Session("cisco_ios")
    assert "Invalid input" in s.run("copy running-config flash:x.cfg")


def test_xr_commit_confirmed_reverts_unless_confirmed() -> None:
    s = enabled_xr()
    state = s.state
    assert isinstance(state, IosState)
    before = [list(x) for x in state.running]
    s.lines("configure terminal", "ntp server 192.0.2.1")
    assert "Invalid input" in s.run("commit confirmed 10")  # below 30 s
    assert s.run("commit confirmed 60") == ""
    assert "192.0.2.1" in repr(state.running)
    assert not state.expire(now=time.time() + 30)
    assert state.expire(now=time.time() + 61)
    assert [list(x) for x in state.running] == before
    # confirmed in time: stays
    s.lines("ntp server 192.0.2.2", "commit confirmed 60")
    assert s.run("commit") == ""
    assert not state.expire(now=time.time() + 10**6)
    assert "192.0.2.2" in repr(state.running)


def enabled_xr() -> Session:
    s = Session("cisco_xr")
    assert s.prompt().endswith("#")
    return s
