"""Structured logging: text on a terminal, JSON otherwise, secrets always redacted.

``configure_logging(settings)`` once at process start; then
``log = get_logger(__name__)`` and ``bind_context(job_id=..., task_id=..., device=...)``
(context variables, so concurrent tasks keep their own context).
Every secret registered with ``register_secret`` is masked on every line.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from netfleet.core.redact import MASK, MIN_SECRET_LEN, Redactor
from netfleet.core.settings import LogSettings

MAX_VALUE_CHARS = 16 * 1024
"""Longer strings in a log line are cut to this length (before redaction)."""

_lock = threading.Lock()
_secrets: set[str] = set()
_redactor = Redactor(key_values=True)


def register_secret(*values: str | None) -> None:
    """Mask these exact values on every log line from now on (short values are ignored)."""
    global _redactor
    with _lock:
        before = len(_secrets)
        _secrets.update(v for v in values if v and len(v) >= MIN_SECRET_LEN)
        if len(_secrets) != before:
            _redactor = Redactor(_secrets, key_values=True)


def registered_secrets() -> frozenset[str]:
    """The values ``register_secret`` has added (tests save them, then restore them with
    ``set_registered_secrets``: the registry is per process)."""
    with _lock:
        return frozenset(_secrets)


def set_registered_secrets(values: Iterable[str]) -> None:
    """Replace the registered values with ``values`` (tests)."""
    global _redactor
    with _lock:
        _secrets.clear()
        _secrets.update(values)
        _redactor = Redactor(_secrets, key_values=True)


def redact_text(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """``text`` with registered and ``extra_secrets`` values and secret config lines masked.

    Linear in the length of ``text`` (see ``netfleet.core.redact``).
    """
    return log_redactor(extra_secrets).redact(text)


_REDACTORS = 256
_with_extra: OrderedDict[tuple[str, ...], tuple[Redactor, Redactor]] = OrderedDict()
"""The last redactors built with extra values, by those values: (base, redactor). A worker
builds one per attempt from the device's credentials, mostly the same few sets (the
values are in memory anyway, with the devices' specs)."""


def log_redactor(extra_secrets: Iterable[str] = ()) -> Redactor:
    """What ``redact_text`` masks with: registered values, ``extra_secrets``, secret lines.

    Build it once for many texts with the same extra values; it does not follow
    values registered after it was built."""
    extra = tuple(s for s in extra_secrets if s)
    if not extra:
        return _redactor
    base = _redactor
    with _lock:
        hit = _with_extra.get(extra)
        if hit is not None and hit[0] is base:
            _with_extra.move_to_end(extra)
            return hit[1]
    built = base.with_secrets(extra)
    with _lock:
        _with_extra[extra] = (base, built)
        _with_extra.move_to_end(extra)
        while len(_with_extra) > _REDACTORS:
            _with_extra.popitem(last=False)
    return built


def cap(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...({len(text)} chars)"


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(cap(value))
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def _redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        lowered = key.lower()
        if any(word in lowered for word in ("password", "secret", "token", "private_key")):
            event_dict[key] = MASK
        else:
            event_dict[key] = _redact_value(event_dict[key])
    return event_dict


def configure_logging(settings: LogSettings | None = None, *, stream: Any = None) -> None:
    """Set up structlog and stdlib logging for this process."""
    settings = settings or LogSettings()
    stream = stream or sys.stderr
    use_json = settings.format == "json" or (
        settings.format == "auto" and not getattr(stream, "isatty", lambda: False)()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    level = logging.getLevelNamesMapping().get(settings.level.upper(), logging.INFO)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=shared,
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(stream)]
    if settings.file is not None:
        path = settings.file.expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                path, maxBytes=settings.file_max_bytes, backupCount=settings.file_backups
            )
        )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("asyncssh", "sqlalchemy.engine", "uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (``log.info("event", key=value)``)."""
    return structlog.get_logger(name)


def bind_context(**values: Any) -> None:
    """Attach job/task/device context to every log line of the current task."""
    structlog.contextvars.bind_contextvars(**values)


def clear_context() -> None:
    structlog.contextvars.clear_contextvars()
