"""Variants of the simulated Linux host (prompt styles) and shell helpers: ``;`` lists, ``printf``.

Prompt styles, as bash prints them with common ``PS1`` settings:

* ``debian``: ``user@host:~$`` (root: ``root@host:~#``), the default;
* ``bash``: ``bash-5.1$`` (bash's built-in default ``\\s-\\v\\$``);
* ``host``: ``host:~$`` (``\\h:\\w\\$``);
* ``venv``: ``(venv) user@host:~$`` (an activated Python virtualenv).
"""

from __future__ import annotations

PROMPT_STYLES = ("debian", "bash", "host", "venv")


def shell_prompt(style: str, user: str, host: str, where: str, root: bool) -> str:
    """The prompt of ``style`` for ``user`` (``root`` after ``sudo -s``) in ``where``."""
    mark = "#" if root else "$"
    who = "root" if root else user
    if style == "bash":
        return f"bash-5.1{mark} "
    if style == "host":
        return f"{host}:{where}{mark} "
    prefix = "(venv) " if style == "venv" else ""
    return f"{prefix}{who}@{host}:{where}{mark} "


def split_list(line: str) -> list[str]:
    """``a; b; c`` -> the commands of a ``;`` list (``;`` inside quotes does not split)."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in line:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in ("'", '"'):
            quote = ch
        elif ch == ";":
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def printf(args: list[str], last_status: int) -> str:
    """``printf FORMAT [ARG...]`` with ``%s``, ``%d``, ``%%`` and ``\\n``/``\\t`` escapes."""
    if not args:
        return "printf: usage: printf [-v var] format [arguments]\n"
    fmt = args[0].replace("\\n", "\n").replace("\\t", "\t")
    values = [str(last_status) if a == "$?" else a for a in args[1:]]
    out: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            spec = fmt[i + 1]
            i += 2
            if spec == "%":
                out.append("%")
            elif spec in "sd":
                out.append(values.pop(0) if values else ("" if spec == "s" else "0"))
            else:
                out.append("%" + spec)
            continue
        out.append(ch)
        i += 1
    return "".join(out)
