"""Index ``tasks(device_name, job_id)``: the jobs that touched one device (the
dashboard's "jobs on a device", the API's ``?device=`` job filter) without a pass
over every job or task.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_tasks_device_name_job_id"), "tasks", ["device_name", "job_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tasks_device_name_job_id"), table_name="tasks")
