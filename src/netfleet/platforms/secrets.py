"""Which lines carry secrets, per platform: data for ``netfleet.core.redact``.

``redactor_for(platform, secrets)`` is the one way device text is masked: the
generic rules (IOS-family ``enable secret``, ``username ... secret``, SNMP
communities, keys, pre-shared keys, Junos ``encrypted-password`` / ``$9$``, ASA
``passwd``) plus the platform's own, plus known credential values. User platform
files (or code) add rules with ``register_secret_rules(platform, patterns)``; the
pattern syntax is described in ``netfleet.core.redact_rules``.

The rules follow the vendors' configuration references for the commands whose
arguments are passwords, keys or communities.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from netfleet.core.redact import GENERIC_RULES, Redactor, SecretRule

_IOS_FAMILY = (
    "^ ppp chap|pap password [N] <secret>",
    "^ ip ospf authentication-key|message-digest-key [N] [md5] [N] <secret>",
    "^ ospfv3 authentication ... key [N] <secret>",
    "^ neighbor * password [N] <secret>",
    "crypto isakmp key [N] <secret>",
    "^ wpa-psk ascii|hex [N] <secret>",
    "^ standby * authentication md5 key-string [N] <secret>",
    "^ ntp authentication-key * md5 [N] <secret>",
)

_BUILTIN: dict[str, tuple[str, ...]] = {
    "cisco_ios": _IOS_FAMILY,
    "cisco_xe": _IOS_FAMILY,
    "cisco_nxos": (
        *_IOS_FAMILY,
        "^ snmp-server user * ... auth md5|sha|sha-256 [N] <secret>",
        "^ localizedkey|localizedV2key <secret>",
    ),
    "cisco_xr": (
        "^ password|secret encrypted|clear [N] <secret>",
        "^ neighbor * password encrypted|clear <secret>",
        "^ key-string [clear|password] [N] <secret>",
    ),
    "cisco_asa": (
        "^ ikev1|ikev2 [local-authentication|remote-authentication] pre-shared-key [N] <secret>",
        "^ username * password <secret>",
        "^ enable password <secret>",
        "^ ldap-login-password|radius-common-pw <secret>",
    ),
    "arista_eos": (
        "^ username * ... secret|sha512|nopassword [N] [sha512] <secret!nopassword>",
        "^ neighbor * password [N] <secret>",
    ),
    "juniper_junos": (
        "^ community <secret>",
        "set snmp community <secret>",
        "^ authentication-key|hello-authentication-key [N] <secret>",
        "plain-text-password-value|simple-password|auth-password|privacy-password <secret>",
    ),
}

_lock = threading.RLock()
_user: dict[str, tuple[SecretRule, ...]] = {}
_base: dict[str, Redactor] = {}
"""Per platform, a redactor with its rules compiled and no known values (shared)."""


def register_secret_rules(platform: str, patterns: Iterable[str]) -> None:
    """Add secret-line patterns for ``platform`` (validated now; ``ValueError`` if bad)."""
    rules = tuple(SecretRule(p) for p in patterns)
    Redactor(rules=rules)  # compiles them: a bad pattern fails here, not at mask time
    with _lock:
        _user[platform] = (*_user.get(platform, ()), *rules)
        _base.pop(platform, None)


def secret_rules(platform: str) -> tuple[SecretRule, ...]:
    """``platform``'s registered and built-in rules, then the generic ones: where several
    start at the same word, the more specific rule is tried first."""
    own = tuple(SecretRule(p) for p in _BUILTIN.get(platform, ()))
    with _lock:
        extra = _user.get(platform, ())
    return (*extra, *own, *GENERIC_RULES)


def redactor_for(platform: str, secrets: Iterable[str | None] = ()) -> Redactor:
    """A ``Redactor`` for text from a ``platform`` device with these known secret values.

    The rules are compiled once per platform and shared by every redactor for it (a
    session holds only its own known values)."""
    with _lock:
        base = _base.get(platform)
        if base is None:
            base = _base[platform] = Redactor((), secret_rules(platform))
    return base.with_secrets(secrets)


def mask_output(platform: str, text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` (device output, a saved configuration ...) with its secrets masked."""
    return redactor_for(platform, secrets).redact(text)


def reset_secret_rules() -> None:
    """Forget registered rules (tests)."""
    with _lock:
        _user.clear()
        _base.clear()
