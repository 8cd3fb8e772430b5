"""Compact storage of configuration versions: zlib full texts and line deltas.

Measured on a generated 50 KB IOS configuration (``benchmarks/configs.py``): zlib (level
9) of the full text is about 4.3 KB (real configurations with more varied lines compress
less), above the 2 KB aim for a version that changes one line, while a line delta of that
version is about 60 bytes. So versions are stored as *reverse deltas*
(as RCS does): the latest version is a full text, and when a new version arrives the one
before it is re-encoded as a delta that rebuilds it from the new one (``roll``). Reading
the latest (diffs, search) costs one decompression; an older version applies the deltas
from the nearest newer full text down to it, and a full checkpoint is kept every
``CHECKPOINT_EVERY`` versions to bound that. The latest is compressed fast
(``LATEST_LEVEL``: it is rewritten on every change); deltas and older full versions are
compressed hard (``KEPT_LEVEL``) when they are written, once. Retention deletes the
oldest versions, which nothing newer depends on. A version whose delta would not be
smaller is stored full.

Blobs are self-describing: ``Z`` + zlib(text) or ``D`` + crc32 of the result + zlib(edit
script). Stdlib ``zlib`` is used: zstd is not in the 3.11 standard library, and on these
texts the deltas, not the compressor, bring the size down. Texts round-trip exactly.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, TypeVar, overload

from netfleet.configs.edges import text_edges
from netfleet.core.errors import ConfigHistoryError

CHECKPOINT_EVERY = 32
"""At most this many deltas in a row; reading any version applies fewer than that."""

T = TypeVar("T")

_FULL = b"Z"
_DELTA = b"D"
LATEST_LEVEL = 1
"""zlib level of the latest version, written on every change: on a 50 KB configuration
level 1 takes about 0.1 ms against 2.4 ms at level 9, for 8.4 KB instead of 6.3 KB."""
KEPT_LEVEL = 9
"""zlib level of deltas and of older versions kept full (written once, kept long)."""


@dataclass(frozen=True, slots=True)
class Rolled:
    """The blobs to store when a new version arrives (see ``roll``)."""

    latest: bytes
    """The new version, full."""
    previous: bytes | None
    """The new blob of the version before it (a delta, or full at ``KEPT_LEVEL``); None
    for a first version."""


def deflate(data: bytes, level: int) -> bytes:
    """zlib of ``data`` with a window no larger than it: setting up the full 32 KB window
    and hash table costs more than compressing a delta script of a few hundred bytes
    (about 60 us against 5). ``zlib.decompress`` reads any window size."""
    wbits = min(15, max(9, len(data).bit_length()))
    mem = min(8, max(1, wbits - 7))
    packer = zlib.compressobj(level, zlib.DEFLATED, wbits, mem)
    return packer.compress(data) + packer.flush()


def pack_full(text: str, level: int = LATEST_LEVEL) -> bytes:
    """``text`` compressed on its own."""
    return _FULL + deflate(text.encode("utf-8"), level)


def common_edges(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """How many leading and trailing lines ``a`` and ``b`` share (not overlapping)."""
    limit = min(len(a), len(b))
    head = 0
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


def delta_script(text: str, base: str) -> list[str]:
    """The line edits that make ``text`` from ``base`` (``apply_script``): ``=n`` keeps
    the next n lines of ``base``, ``-n`` skips them, ``+n`` adds the n lines after it."""
    script: list[str] = []
    # Common leading and trailing lines first (on the texts: ``text_edges``): a typical
    # change touches a few lines in the middle, and the matcher is much slower.
    edges = text_edges(base, text)
    if edges.head:
        script.append(f"={edges.head}")
    _edit_script(edges.old_mid, edges.new_mid, script)
    if edges.tail:
        script.append(f"={edges.tail}")
    return script


def pack_delta(text: str, base: str, *, script: list[str] | None = None) -> bytes:
    """``text`` as line edits of ``base`` (``unpack(blob, base) == text``); ``script``:
    ``delta_script(text, base)`` when the caller has it."""
    if script is None:
        script = delta_script(text, base)
    crc = zlib.crc32(text.encode("utf-8")).to_bytes(4, "big")
    return _DELTA + crc + deflate("\n".join(script).encode("utf-8"), KEPT_LEVEL)


def _edit_script(old: list[str], new: list[str], script: list[str]) -> None:
    """Append the edits from ``old`` to ``new``. Lines equal in step, and single lines
    replaced between them (a configuration's size or the time of its last change in
    the header), are walked through first; the matcher gets what is left."""
    n = min(len(old), len(new))
    i = same = 0
    while i < n:
        if old[i] == new[i]:
            same += 1
        elif i + 1 < n and old[i + 1] == new[i + 1]:
            if same:
                script.append(f"={same}")
                same = 0
            script.extend(("-1", "+1", new[i]))
        else:
            break
        i += 1
    if same:
        script.append(f"={same}")
    if i == len(old) == len(new):
        return
    matcher = SequenceMatcher(None, old[i:], new[i:], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            script.append(f"={i2 - i1}")
            continue
        if i2 > i1:
            script.append(f"-{i2 - i1}")
        if j2 > j1:
            script.append(f"+{j2 - j1}")
            script.extend(new[i + j1 : i + j2])


def is_full(blob: bytes) -> bool:
    """Whether ``blob`` holds a whole text (needs no base)."""
    return blob[:1] == _FULL


def unpack(blob: bytes, base: str | None = None) -> str:
    """The text of ``blob``; a delta needs the text of the version it was made against.

    Raises ``ConfigHistoryError`` for a corrupt blob or a delta applied to the wrong base.
    """
    kind = blob[:1]
    try:
        if kind == _FULL:
            return zlib.decompress(blob[1:]).decode("utf-8")
        if kind != _DELTA:
            raise ConfigHistoryError(f"not a stored configuration (format byte {kind!r})")
        if base is None:
            raise ConfigHistoryError("a delta version needs the text it was made against")
        script = zlib.decompress(blob[5:]).decode("utf-8").split("\n")
    except (zlib.error, UnicodeDecodeError) as exc:
        raise ConfigHistoryError(f"corrupt stored configuration: {exc}") from None
    text = "\n".join(apply_script(base.split("\n"), script))
    if zlib.crc32(text.encode("utf-8")).to_bytes(4, "big") != blob[1:5]:
        raise ConfigHistoryError("a delta version does not match the text it is applied to")
    return text


@overload
def apply_script(old: Sequence[str], script: Sequence[str]) -> list[str]: ...
@overload
def apply_script(old: Sequence[T], script: Sequence[str], added: Callable[[str], T]) -> list[T]: ...
def apply_script(
    old: Sequence[Any], script: Sequence[str], added: Callable[[str], Any] | None = None
) -> list[Any]:
    """The lines of ``script`` applied to ``old``: kept items of ``old`` and the added
    lines (``added(line)`` of each when given). ``ConfigHistoryError`` for a bad script."""
    out: list[Any] = []
    at = i = 0
    try:
        while i < len(script):
            op, count = script[i][0], int(script[i][1:])
            i += 1
            if op == "=":
                out.extend(old[at : at + count])
                at += count
            elif op == "-":
                at += count
            elif op == "+":
                lines = script[i : i + count]
                out.extend(lines if added is None else map(added, lines))
                i += count
            else:
                raise ValueError(op)
    except (ValueError, IndexError):
        raise ConfigHistoryError("corrupt stored configuration: bad delta script") from None
    return out


def roll(latest: str, previous: str | None, *, run: int = 0) -> Rolled:
    """Blobs for a new ``latest`` version over ``previous`` (None for the first version).

    ``previous`` is the text of the version that was the latest (stored full). ``run`` is
    how many delta versions lie directly below it (down to a full one or the first
    version). It stays full (recompressed at ``KEPT_LEVEL``) when it must be a checkpoint
    or when its delta is not smaller.
    """
    new = pack_full(latest)
    if previous is None:
        return Rolled(new, None)
    return Rolled(new, older_blob(previous, latest, run=run, stored=len(pack_full(previous))))


def older_blob(
    previous: str, latest: str, *, run: int, stored: int, script: list[str] | None = None
) -> bytes:
    """The blob of ``previous`` once ``latest`` follows it: a delta against ``latest``, or
    full at ``KEPT_LEVEL`` for a checkpoint or when that is smaller. ``stored`` is the size
    of ``previous``'s blob now: a delta below half of it is taken without compressing the
    full text again. ``script``: ``delta_script(previous, latest)`` if already made."""
    if run + 1 >= CHECKPOINT_EVERY:
        return pack_full(previous, KEPT_LEVEL)
    delta = pack_delta(previous, latest, script=script)
    if len(delta) < stored // 2:
        return delta
    full = pack_full(previous, KEPT_LEVEL)
    return delta if len(delta) < len(full) else full


def reconstruct(blobs: Sequence[bytes]) -> str:
    """The text of the last blob of a chain that starts with a full one, each next blob a
    delta against the text of the one before it (reverse deltas: newest first)."""
    if not blobs:
        raise ConfigHistoryError("no stored versions to read")
    if not is_full(blobs[0]):
        raise ConfigHistoryError("a version chain must start with a full text")
    text = unpack(blobs[0])
    for blob in blobs[1:]:
        text = unpack(blob, text)
    return text
