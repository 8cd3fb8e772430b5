"""Junos configuration databases as documented: shared, private and exclusive candidates."""

from __future__ import annotations

from netfleet_sim.platforms.junos import JunosPlatform
from netfleet_sim.platforms.junos_variant import VARIANTS
from tests.support.sim_session import Session


def _pair() -> tuple[Session, Session]:
    a = Session("juniper_junos")
    return a, Session("juniper_junos", state=a.state)


def test_plain_configure_shares_one_candidate_and_exit_keeps_it() -> None:
    a, b = _pair()
    a.run("configure")
    a.run("set snmp contact shared")
    entered = b.run("configure")
    assert entered.startswith("Entering configuration mode\nUsers currently editing")
    assert "The configuration has been changed but not committed\n" in entered
    assert "+  contact shared;" in b.run("show | compare")
    assert a.run("exit") == "The configuration has been changed but not committed\n"
    assert a.prompt() == "Exit with uncommitted changes? [yes,no] (yes) "
    assert a.run("yes") == "Exiting configuration mode\n"
    assert "snmp contact shared" in a.state.db.shared  # kept for the next commit
    assert b.run("commit") == "commit complete\n\n[edit]\n"
    assert "snmp contact shared" in a.state.committed


def test_private_candidate_is_refused_while_shared_is_modified() -> None:
    a, b = _pair()
    a.run("configure")
    a.run("set snmp contact shared")
    refused = b.run("configure private")
    assert refused.startswith("error: shared configuration database modified\n")
    assert "Users currently editing the configuration:\n  admin terminal p1" in refused
    assert b.prompt() == "admin@R1> "
    assert b.run("configure exclusive").startswith("error: configuration database modified\n")


def test_private_commit_merges_only_own_changes_and_rollback_is_private() -> None:
    a, b = _pair()
    assert a.run("configure private").startswith(
        "warning: uncommitted changes will be discarded on exit\nEntering configuration mode\n"
    )
    b.run("configure private")
    a.run("set snmp contact mine")
    b.run("set snmp location theirs")
    a.run("rollback 0")
    assert a.run("show | compare") == "\n[edit]\n"
    a.run("set snmp contact mine")
    a.run("commit")
    assert "snmp contact mine" in a.state.committed
    assert "snmp location theirs" not in a.state.committed
    assert b.run("exit") == "The configuration has been changed but not committed\n"
    assert b.prompt() == "Discard uncommitted changes? [yes,no] (yes) "
    assert b.run("yes") == (
        "warning: discarding uncommitted changes\nload complete\nExiting configuration mode\n"
    )
    assert "snmp location theirs" not in a.state.committed + a.state.db.shared


def test_exclusive_lock_blocks_other_changes_and_rolls_back_on_exit() -> None:
    a, b = _pair()
    a.run("configure exclusive")
    a.run("set snmp contact locked")
    b.run("configure")
    assert b.run("set snmp location x").startswith("error: configuration database locked by:\n")
    assert b.run("commit").startswith("error: configuration database locked by:\n")
    assert "exclusive [edit]" in b.run("commit")
    b.run("exit")
    assert a.run("exit").endswith("warning: Auto rollback on exiting 'configure exclusive'\n")
    a.run("yes")
    assert a.state.db.lock is None
    assert a.state.db.shared == a.state.committed


def test_disconnect_discards_private_changes_and_releases_the_lock() -> None:
    a, b = _pair()
    a.run("configure exclusive")
    a.run("set snmp contact gone")
    a.engine.session_ended()  # type: ignore[attr-defined]
    assert a.state.db.lock is None
    assert a.state.db.shared == a.state.committed
    assert b.run("configure private").startswith("warning: uncommitted changes")


def test_compare_shows_only_the_current_level() -> None:
    s = Session("juniper_junos")
    s.run("configure private")
    s.run("set system ntp server 10.7.7.7")
    s.run("edit interfaces ge-0/0/6")
    s.run("set description x")
    here = s.run("show | compare")
    assert "description x" in here
    assert "10.7.7.7" not in here
    s.run("top")
    assert "10.7.7.7" in s.run("show | compare")


def test_variants_print_chassis_lines_logical_systems_and_legacy_versions() -> None:
    vc = JunosPlatform(VARIANTS["ex-vc"])
    state = vc.new_state("sw1", index=1)
    eng = vc.engine(state, username="admin", enable_secret="")
    assert eng.motd().endswith("\n{master:0}\n")
    assert eng.execute("show system uptime").output.endswith("\n\n{master:0}\n")
    assert eng.execute("configure private").output.endswith("\n{master:0}[edit]\n")
    lsys = JunosPlatform(VARIANTS["lsys"]).engine(state, username="admin", enable_secret="")
    assert lsys.prompt() == "admin@sw1:pe1> "
    legacy = JunosPlatform(VARIANTS["ex-legacy"]).engine(state, username="u", enable_secret="")
    assert "JUNOS EX  Software Suite [12.3R12.4]\n" in legacy.execute("show version").output
    no_private = JunosPlatform(VARIANTS["no-private"]).engine(state, username="u", enable_secret="")
    assert no_private.execute("configure private").output.endswith("syntax error.\n")
