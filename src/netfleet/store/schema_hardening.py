"""Tables of service hardening (migration 0005), on the shared ``metadata``.

- ``revoked_token_hashes``: the SHA-256 of every revoked API token, kept for good,
  so a preset token (``NETFLEET_ADMIN_TOKEN``) stays revoked across restarts;
- ``dashboard_sessions``: dashboard sign-ins, by the SHA-256 of a random session id,
  tied to the API token that signed in (deleted with its revocation);
- ``task_raw_outputs``: unmasked outputs, encrypted (``masking.keep_raw``).
"""

from __future__ import annotations

import sqlalchemy as sa

from netfleet.store.schema import BigId, Time, metadata

revoked_token_hashes = sa.Table(
    "revoked_token_hashes",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("revoked_at", Time, nullable=False),
)

dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column(
        "token_id", BigId, sa.ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_seen_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Index(None, "token_id"),
    sa.Index(None, "expires_at"),
)

task_raw_outputs = sa.Table(
    "task_raw_outputs",
    metadata,
    sa.Column(
        "output_id",
        BigId,
        sa.ForeignKey("task_outputs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("task_id", BigId, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("output_enc", sa.Text, nullable=False),
    sa.Index(None, "task_id"),
)
