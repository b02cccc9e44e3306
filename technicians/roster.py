"""The roster's tables: teams, certified skills, shift patterns and who works which,
per-day exceptions (leave, sick, training, overtime) and technicians' leave requests.

How a day is resolved from them is :mod:`technicians.shifts`; the rules that need no
database are in :mod:`technicians.shift_rules`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base

COVERAGE_MODES = ("preference", "hard")
PATTERN_KINDS = ("working_days", "rota")
# "unavailable": reported by the dispatcher during the day (ill, van broken: dispatch.disruptions).
EXCEPTION_KINDS = ("leave", "sick", "training", "unavailable", "overtime")
ABSENCE_KINDS = ("leave", "sick", "training", "unavailable")
LEAVE_KINDS = ("leave", "sick")
REQUEST_STATES = ("pending", "approved", "rejected")


class Team(Base):
    """A team of technicians under a supervisor, covering some districts."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    supervisor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # "preference": the planner prefers the coverage districts; "hard": only those
    coverage_mode: Mapped[str] = mapped_column(String(12), default="preference")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class TechnicianSkill(Base):
    """A skill a technician is certified for, from ``certified_on`` to ``expires_on``
    (inclusive: the certificate is valid ON its expiry date, not the day after)."""

    __tablename__ = "technician_skills"
    __table_args__ = (UniqueConstraint("technician_id", "skill", name="uq_technician_skills_skill"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    skill: Mapped[str] = mapped_column(String(30))
    certified_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)


class ShiftPattern(Base):
    """Named working hours: on the official calendar's working days, or on a rota.

    Minutes are from midnight (``end_min`` up to 1440: a 24-hour on-call day).
    A rota is a cycle of days, each on (true) or off (false), counted from an
    assignment's start date plus its rotation offset; it ignores the calendar.
    """

    __tablename__ = "shift_patterns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="working_days")
    start_min: Mapped[int] = mapped_column(Integer)
    end_min: Mapped[int] = mapped_column(Integer)
    lunch_start_min: Mapped[int | None] = mapped_column(Integer)
    lunch_duration_min: Mapped[int] = mapped_column(Integer, default=60)
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    cycle: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ShiftAssignment(Base):
    """A technician works a pattern from ``start_on`` (to ``end_on``, inclusive, if set)."""

    __tablename__ = "shift_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    pattern_id: Mapped[int] = mapped_column(ForeignKey("shift_patterns.id"), index=True)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    rotation_offset: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    pattern = relationship(ShiftPattern, lazy="joined")


class ShiftException(Base):
    """One technician's day differing from their pattern: away (leave, sick, training;
    the whole day, or ``start_min``-``end_min`` only) or overtime (working those minutes)."""

    __tablename__ = "shift_exceptions"
    __table_args__ = (Index("ix_shift_exceptions_technician_day", "technician_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(12))
    start_min: Mapped[int | None] = mapped_column(Integer)
    end_min: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    leave_request_id: Mapped[int | None] = mapped_column(ForeignKey("leave_requests.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class LeaveRequest(Base):
    """Leave or sick days a technician asks for from the phone; a supervisor decides."""

    __tablename__ = "leave_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="leave")
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
