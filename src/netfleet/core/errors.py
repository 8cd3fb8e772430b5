"""The netfleet exception tree: every error a user can see is one of these.

Third-party exceptions (asyncssh, OS, SQLAlchemy, psycopg ...) are translated
into this tree at the layer that calls the library; nothing above that layer
catches a library exception.

``transient`` says whether retrying the same work later may succeed (connect
problems, timeouts, lost connections) or not (bad credentials, bad input,
a command the device rejected).
"""

from __future__ import annotations


class NetfleetError(Exception):
    """Root of every netfleet error."""

    transient: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def kind(self) -> str:
        """A stable short name for metrics and API responses, e.g. ``connect_timeout``."""
        name = type(self).__name__
        out = [name[0].lower()]
        for ch in name[1:]:
            if ch.isupper():
                out.append("_")
            out.append(ch.lower())
        return "".join(out)

    def __str__(self) -> str:
        return self.message


# --- bad input and configuration -------------------------------------------


class InputError(NetfleetError):
    """Something a user gave us is invalid; nothing was done."""


class ConfigurationError(InputError):
    """Settings or a settings file are invalid."""


class InventoryError(InputError):
    """An inventory file is malformed, or a filter matches nothing."""


class UnknownPlatform(InputError):
    """A platform name that netfleet does not know."""


class PlatformFileError(InputError):
    """A user platform definition file is malformed."""


class ValidationError(InputError):
    """A job, schedule or API request is invalid (unknown device, empty command list ...)."""


class ScheduleError(ValidationError):
    """A schedule is invalid: bad cron expression, unknown time zone, end before start ..."""


class CommandNotAllowed(ValidationError):
    """A command job holds a command it may not send: a control character, or a privileged
    command (configure, save, reload, erase, copy, commit ...) without the admin's
    ``allow_privileged_commands``."""


class Forbidden(NetfleetError):
    """The caller's role does not allow what it asked for."""


class TooManyStreams(NetfleetError):
    """A token has as many live event streams open as it may."""

    transient = True


# --- device sessions ----------------------------------------------------------


class DeviceError(NetfleetError):
    """An error on one device; ``device`` names it (name or host:port)."""

    def __init__(self, message: str, *, device: str = "") -> None:
        super().__init__(f"{device}: {message}" if device else message)
        self.device = device
        self.reason = message


class ConnectError(DeviceError):
    """The session could not be opened."""

    transient = True


class ConnectTimeout(ConnectError):
    """A connect phase (TCP, SSH handshake, authentication, first prompt) timed out."""


class ConnectionRefused(ConnectError):
    """The device (or host) refused the TCP connection, or is unreachable."""


class HostKeyError(ConnectError):
    """The device's host key could not be verified."""

    transient = False


class HostKeyMismatch(HostKeyError):
    """The device presented a host key other than the one pinned for it."""


class HostKeyUnknown(HostKeyError):
    """Strict host key policy and the device is not in known_hosts."""


class AuthenticationFailed(ConnectError):
    """The device rejected the credentials. Never retried automatically."""

    transient = False


class SecretUnavailable(ConnectError):
    """A secret reference (``env:``, ``file:``, ``exec:``) could not be resolved; no login
    was attempted. Not transient: retrying cannot help until the reference is fixed."""

    transient = False


class SessionLimitReached(ConnectError):
    """The device refused a new session because its session (vty) limit is reached."""


class ResourceExhausted(ConnectError):
    """This process ran out of file descriptors (too many open files) while opening the
    session: a shortage here, not a fault of the device. Retried like a connect error."""


class ConnectionLost(DeviceError):
    """The device closed the connection, or it broke, while a session was open."""

    transient = True


class CommandTimeout(DeviceError):
    """The device did not return its prompt within the command timeout."""

    transient = True


class PromptNotFound(DeviceError):
    """The expected prompt never appeared (at login or after a mode change)."""

    transient = True


class PlatformMismatch(PromptNotFound):
    """After login the device went quiet at another platform's prompt: the inventory's
    platform is most likely wrong. Not transient: a retry would read the same prompt."""

    transient = False


class CommandError(DeviceError):
    """The device rejected a command; the message is the device's own."""


class PrivilegeError(DeviceError):
    """Entering a privilege level failed, e.g. a wrong enable secret."""


class PolicyViolation(DeviceError):
    """A task did what its job may not do, e.g. a command job's session entered
    configuration mode; the session left that mode without committing."""


class ParseError(DeviceError):
    """Structured parsing failed; the raw output is kept in the result."""


class TemplateNotFound(ParseError):
    """No TextFSM template exists for this platform and command."""


# --- session pool -------------------------------------------------------------


class PoolError(NetfleetError):
    """The session pool could not provide a session."""


class PoolTimeout(PoolError):
    """No session became available before the waiter's deadline."""

    transient = True


class PoolFull(PoolError):
    """Too many waiters are queued already."""

    transient = True


class PoolClosed(PoolError):
    """The pool is closing or closed."""


class LoginBackoff(PoolError):
    """Logins to this device with this credential are paused after an authentication failure."""


# --- integrations (NetBox/Nautobot, webhooks, SMTP) -------------------------------


class IntegrationError(NetfleetError):
    """An external system (NetBox, Nautobot, a webhook receiver, an SMTP server) refused
    the request or answered something netfleet cannot use."""


class IntegrationUnavailable(IntegrationError):
    """The external system cannot be reached right now, or answered with a server error."""

    transient = True


# --- job store and runtime ----------------------------------------------------


class StoreError(NetfleetError):
    """The job store failed."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached right now."""

    transient = True


class NotFound(StoreError):
    """The job, task, device, schedule or other object does not exist."""


class Conflict(StoreError):
    """The request conflicts with the current state (duplicate name, job already finished ...)."""


class LeaseLost(StoreError):
    """A worker tried to complete a task it no longer holds (lease expired, fenced)."""


class Cancelled(NetfleetError):
    """The task or job was cancelled."""


class DeadlineExceeded(NetfleetError):
    """The task ran past its deadline."""


# --- configuration texts (backups, templates, predicted changes) --------------


class ConfigRejected(DeviceError):
    """A fetched text is not a complete configuration (empty, an error, truncated).

    ``reason`` says why; such a text is a failed backup and never a new version.
    """


class TemplateRenderError(InputError):
    """A config template failed to render for a device.

    ``device`` names it, ``line`` is the template line (0 if unknown) and ``name`` the
    undefined variable, if that was the cause.
    """

    def __init__(self, message: str, *, device: str = "", line: int = 0, name: str = "") -> None:
        where = f" (template line {line})" if line else ""
        super().__init__(f"{device}: {message}{where}" if device else f"{message}{where}")
        self.device = device
        self.line = line
        self.name = name
        self.reason = message


class ConfigHistoryError(NetfleetError):
    """A stored configuration history cannot be read back (corrupt or missing version)."""


class GitExportError(NetfleetError):
    """Writing configurations into a git repository failed."""
