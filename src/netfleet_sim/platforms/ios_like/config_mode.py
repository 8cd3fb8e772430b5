"""Configuration-mode handling of the IOS-like engine (global and sub-modes, banners)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from netfleet_sim.contract import Reply
from netfleet_sim.platforms.cmdtree import (
    Ambiguous,
    Incomplete,
    Invalid,
    resolve_keyword,
    tokenize,
)
from netfleet_sim.platforms.ios_like import config as cfg
from netfleet_sim.platforms.ios_like import vocab as vocab_data
from netfleet_sim.platforms.ios_like import xr_commit
from netfleet_sim.platforms.ios_like.config import Config
from netfleet_sim.platforms.ios_like.state import IosFlavor

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import IosSession

VIRTUAL_TYPES = frozenset(
    {"loopback", "vlan", "port-channel", "tunnel", "bdi", "bundle-ether", "nve", "null"}
)
_IFNAME = re.compile(r"^([A-Za-z][A-Za-z-]*?)(\d[\w/.:]*)$")


def motd_text(config: Config, fallback: str, *, undelimited: bool = False) -> str:
    """The text of ``banner motd`` in ``config`` followed by a newline, else ``fallback``."""
    for stanza in config:
        if stanza[0].startswith("banner motd"):
            lines = stanza[0].split("\n")
            if undelimited:
                body = [lines[0][len("banner motd ") :]]
            elif len(lines) > 1:
                body = lines[1:-1]
            else:
                rest = lines[0][len("banner motd") :].strip()
                body = [rest[1:].split(rest[0])[0]] if rest else []
            return "\n" + "\n".join(body) + "\n" if body else ""
    return fallback


# -- configuration mode --------------------------------------------------------------------
def canonical_interface(flavor: IosFlavor, text: str) -> str | None:
    """``gi 0/1`` -> ``GigabitEthernet0/1`` using the flavour's interface types."""
    match = _IFNAME.match(text.replace(" ", ""))
    if match is None:
        return None
    kind, number = match.groups()
    low = kind.lower()
    exact = [t for t in flavor.iface_types if t.lower() == low]
    hits = exact or [t for t in flavor.iface_types if t.lower().startswith(low)]
    if len(hits) != 1:
        return None
    return hits[0] + number


def _submode(flavor: IosFlavor, header: str) -> str | None:
    best: tuple[int, str] | None = None
    for prefix, mode in flavor.submodes.items():
        if (header == prefix or header.startswith(prefix + " ")) and (
            best is None or len(prefix) > best[0]
        ):
            best = (len(prefix), mode)
    if best is None:
        return None
    words = header.split()
    short = ""
    if words[0] == "interface" and len(words) > 1:
        match = _IFNAME.match(words[1])
        short = (match.group(1)[:2] + match.group(2)) if match else words[1]
    return best[1].format(arg=" ".join(words[1:]), short=short)


def _vocab_for(eng: IosSession) -> vocab_data.Vocab | None:
    if eng.context is None:
        return eng.flavor.global_vocab
    header = eng.context[0].split()
    first = header[0]
    if first == "interface":
        return eng.flavor.iface_vocab
    if first == "router" and len(header) > 1:
        return eng.flavor.router_vocab.get(header[1])
    if first == "vlan":
        return vocab_data.VLAN
    if first == "line":
        return vocab_data.LINE
    return None


def config_line(eng: IosSession, line: str) -> Reply:
    """Handle a line typed in global or sub-configuration mode."""
    tokens = tokenize(line)
    first = tokens[0][1]
    specials = ["end", "exit", "do"]
    if eng.flavor.candidate:
        specials += ["commit", "abort", "clear"]
    if eng.flavor.show_in_config:
        specials.append("show")
    vocab = _vocab_for(eng)
    words = [*specials, "no", "default", *(vocab or {}).keys()]
    hit = resolve_keyword(first, [w for w in words if w])
    if isinstance(hit, Ambiguous) and first.lower() not in specials:
        return eng.error(Ambiguous(0), line)
    if hit in ("end", "exit", "do", "commit", "abort", "clear", "show"):
        return _special(eng, str(hit), line, tokens)
    if eng.context is not None and ((hit is None and vocab is not None) or _is_global(eng, first)):
        if _is_global(eng, first):
            eng.leave_stanza()
            return config_line(eng, line)
        return eng.error(Invalid(tokens[0][0]), line)
    return _apply(eng, line, vocab)


def _is_global(eng: IosSession, first: str) -> bool:
    """Does a line starting with ``first`` leave the stanza for global configuration? A
    whole global keyword does unless the mode has it too (``router`` in ``router ospf``,
    though ``router-id`` starts with it); an abbreviation only when the mode has none."""
    vocab = eng.flavor.global_vocab or {}
    own_vocab = _vocab_for(eng)
    low = first.lower()
    if own_vocab is None:
        return low in ("interface", "vlan", "router", "line", "hostname")
    if low in vocab and low not in own_vocab:
        return True
    hit = resolve_keyword(first, [k for k in vocab if k])
    own = resolve_keyword(first, [k for k in own_vocab if k])
    return isinstance(hit, str) and own is None


def _special(eng: IosSession, hit: str, line: str, tokens: list[tuple[int, str]]) -> Reply:
    if hit == "do" or hit == "show":
        rest = line[tokens[1][0] :] if hit == "do" and len(tokens) > 1 else line
        if hit == "do" and len(tokens) < 2:
            return eng.error(Incomplete(), line)
        offset = tokens[1][0] if hit == "do" else 0
        return eng.exec_line(rest, prefix_columns=offset)
    if hit == "commit":
        return xr_commit.commit(eng, tuple(word for _, word in tokens[1:]))
    if hit == "abort":
        eng.leave_config()
        return Reply(pageable=False)
    if hit == "clear":
        return xr_commit.clear(eng)
    if hit == "exit" and eng.context is not None:
        eng.leave_stanza()
        return Reply(pageable=False)
    return xr_commit.leave(eng)


def _apply(eng: IosSession, line: str, vocab: vocab_data.Vocab | None) -> Reply:
    negate = line.split()[0].lower() in ("no", "default")
    body = line.split(None, 1)[1] if negate and len(line.split()) > 1 else line
    if negate and len(line.split()) < 2:
        return eng.error(Incomplete(), line)
    offset = line.index(body) if negate else 0
    expanded = vocab_data.expand(body, vocab)
    if isinstance(expanded, vocab_data.VocabError):
        if expanded.kind == "ambiguous":
            return eng.error(Ambiguous(0), line)
        if expanded.kind == "invalid":
            return eng.error(Invalid(expanded.column + offset), line)
        if not negate:
            return eng.error(Incomplete(), line)
        expanded = vocab_data.expand(body, None)
        assert isinstance(expanded, vocab_data.Expanded)
    words = list(expanded.words)
    if words and words[0] == "interface" and len(words) > 1:
        name = canonical_interface(eng.flavor, "".join(words[1:]))
        if name is None:
            return eng.error(Invalid(tokenize(body)[1][0] + offset), line)
        words = ["interface", name]
    text = " ".join(words)
    config = eng.target()
    if negate:
        return _negate(eng, config, text)
    if eng.context is not None:
        cfg.set_child(eng.context, text)
        eng.config_changed()
        return Reply(pageable=False)
    if words[0] == "banner" and eng.flavor.banner_eof and len(words) == 2:
        return _banner_eof(eng, config, text)
    if words[0] == "banner" and len(words) > 2 and not eng.flavor.banner_line:
        return _banner(eng, config, " ".join(words[:2]), body.split(None, 2)[2])
    mode = _submode(eng.flavor, text)
    if mode is not None:
        return _enter(eng, config, text, mode, body, offset, line)
    cfg.set_global(config, text, eng.flavor.iface_types)
    eng.config_changed()
    return Reply(pageable=False)


def _enter(
    eng: IosSession, config: Config, header: str, mode: str, body: str, offset: int, line: str
) -> Reply:
    words = header.split()
    if words[0] == "interface" and cfg.find(config, header) is None:
        kind = _IFNAME.match(words[1])
        if kind is None or kind.group(1).lower() not in VIRTUAL_TYPES:
            return eng.error(Invalid(tokenize(body)[1][0] + offset), line)
    if words[0] == "vlan":
        if not eng.flavor.switch:
            return eng.error(Invalid(0), line)
        if not (words[1].isdigit() and 1 <= int(words[1]) <= 4094):
            return eng.error(Invalid(tokenize(body)[1][0] + offset), line)
        header = f"vlan {int(words[1])}"
    existed = cfg.find(config, header) is not None
    eng.enter_stanza(cfg.ensure_stanza(config, header, eng.flavor.iface_types), mode)
    if not existed:
        eng.config_changed()
    return Reply(pageable=False)


def _negate(eng: IosSession, config: Config, text: str) -> Reply:
    if eng.context is not None:
        removed = cfg.negate_child(eng.context, text)
        if text == "shutdown" and eng.flavor.explicit_no_shutdown:
            cfg.set_child(eng.context, "no shutdown")
        elif not removed and not cfg.has_identity_rule(text):
            cfg.set_child(eng.context, f"no {text}")
    else:
        words = text.split()
        if words[0] == "interface" and len(words) > 1:
            kind = _IFNAME.match(words[1])
            if kind is None or kind.group(1).lower() not in VIRTUAL_TYPES:
                return Reply(pageable=False)
        removed = cfg.negate_global(config, text)
        if not removed and not cfg.has_identity_rule(text) and words[0] != "interface":
            cfg.set_global(config, f"no {text}", eng.flavor.iface_types)
    eng.config_changed()
    return Reply(pageable=False)


def _banner(eng: IosSession, config: Config, kind: str, rest: str) -> Reply:
    delim, body = rest[0], rest[1:]
    if delim in body:
        _store_banner(eng, config, kind, body[: body.index(delim)])
        return Reply(pageable=False)
    collected = [body] if body else []

    def more(line: str) -> Reply:
        if delim in line:
            collected.append(line[: line.index(delim)])
            _store_banner(eng, config, kind, "\n".join(collected))
            return Reply(pageable=False)
        collected.append(line)
        return eng.ask("", more)

    eng.ask("", more)
    return Reply(f"Enter TEXT message.  End with the character '{delim}'.\n", pageable=False)


def _banner_eof(eng: IosSession, config: Config, kind: str) -> Reply:
    collected: list[str] = []

    def more(line: str) -> Reply:
        if line.strip() == "EOF":
            text = "\n".join([kind, *collected, "EOF"])
            cfg.set_global(config, text, eng.flavor.iface_types)
            eng.config_changed()
            return Reply(pageable=False)
        collected.append(line)
        return eng.ask(">", more)

    eng.ask(">", more)
    return Reply("Enter TEXT message. Type 'EOF' on its own line to end.\n", pageable=False)


def _store_banner(eng: IosSession, config: Config, kind: str, text: str) -> None:
    lines = text.strip("\n").split("\n")
    cfg.set_global(config, "\n".join([f"{kind} ^C", *lines, "^C"]), eng.flavor.iface_types)
    eng.config_changed()
