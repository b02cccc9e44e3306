"""roster: teams, certified skills, shift patterns and assignments, exceptions, leave requests,
re-plan notices

Revision ID: a16a00000001
Revises: a17a00000001
Create Date: 2026-11-30 14:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "a16a00000001"
down_revision = "a17a00000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("supervisor_user_id", sa.Integer(), nullable=True),
        sa.Column("coverage_mode", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["supervisor_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("technicians") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("coverage_districts", sa.JSON(), nullable=True))
        batch.create_foreign_key("fk_technicians_team_id_teams", "teams", ["team_id"], ["id"])
        batch.create_index("ix_technicians_team_id", ["team_id"])
    op.create_table(
        "technician_skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=30), nullable=False),
        sa.Column("certified_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("technician_id", "skill", name="uq_technician_skills_skill"),
    )
    op.create_index("ix_technician_skills_technician_id", "technician_skills", ["technician_id"])
    op.create_index("ix_technician_skills_expires_on", "technician_skills", ["expires_on"])
    op.create_table(
        "shift_patterns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("end_min", sa.Integer(), nullable=False),
        sa.Column("lunch_start_min", sa.Integer(), nullable=True),
        sa.Column("lunch_duration_min", sa.Integer(), nullable=False),
        sa.Column("on_call", sa.Boolean(), nullable=False),
        sa.Column("cycle", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "shift_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("pattern_id", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("rotation_offset", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"]),
        sa.ForeignKeyConstraint(["pattern_id"], ["shift_patterns.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shift_assignments_technician_id", "shift_assignments", ["technician_id"])
    op.create_index("ix_shift_assignments_pattern_id", "shift_assignments", ["pattern_id"])
    op.create_table(
        "leave_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_leave_requests_technician_id", "leave_requests", ["technician_id"])
    op.create_index("ix_leave_requests_status", "leave_requests", ["status"])
    op.create_table(
        "shift_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=True),
        sa.Column("end_min", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("leave_request_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"]),
        sa.ForeignKeyConstraint(["leave_request_id"], ["leave_requests.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shift_exceptions_day", "shift_exceptions", ["day"])
    op.create_index("ix_shift_exceptions_technician_day", "shift_exceptions", ["technician_id", "day"])
    op.create_table(
        "replan_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("affected_order_ids", sa.JSON(), nullable=False),
        sa.Column("seen_plan_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["dispatch_plans.id"]),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_replan_notices_plan_id", "replan_notices", ["plan_id"])
    op.create_index("ix_replan_notices_day", "replan_notices", ["day"])


def downgrade() -> None:
    op.drop_table("replan_notices")
    op.drop_table("shift_exceptions")
    op.drop_table("leave_requests")
    op.drop_table("shift_assignments")
    op.drop_table("shift_patterns")
    op.drop_table("technician_skills")
    with op.batch_alter_table("technicians") as batch:
        batch.drop_index("ix_technicians_team_id")
        batch.drop_constraint("fk_technicians_team_id_teams", type_="foreignkey")
        batch.drop_column("coverage_districts")
        batch.drop_column("team_id")
    op.drop_table("teams")
