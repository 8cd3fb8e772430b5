"""Group-default credentials (revision 0010), on the shared ``metadata``.

``group_credentials``: one stored credential per group name. A device that names no
credential of its own logs in with the default of the first of its groups (in the
device's own group order) that has one. The credential cannot be deleted while it
is a group's default.
"""

from __future__ import annotations

import sqlalchemy as sa

from netfleet.store.schema import BigId, Time, metadata

group_credentials = sa.Table(
    "group_credentials",
    metadata,
    sa.Column("group_name", sa.String(255), primary_key=True),
    sa.Column(
        "credential_id",
        BigId,
        sa.ForeignKey("credentials.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)
