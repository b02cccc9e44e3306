"""Technicians and where they were last seen."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base


class Technician(Base):
    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(30))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    district: Mapped[str | None] = mapped_column(String(40), index=True)
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    shift_start: Mapped[time] = mapped_column(Time, default=time(8, 30))
    shift_end: Mapped[time] = mapped_column(Time, default=time(17, 30))
    lunch_start: Mapped[time | None] = mapped_column(Time, default=time(12, 0))
    lunch_duration_min: Mapped[int] = mapped_column(Integer, default=60)
    max_work_min: Mapped[int] = mapped_column(Integer, default=480)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The roster (technicians.roster): the team, and the districts this technician covers
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    coverage_districts: Mapped[list | None] = mapped_column(JSON, default=list)
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lon: Mapped[float | None] = mapped_column(Float)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User", back_populates="technician")


class LocationPing(Base):
    """One GPS position reported by a technician's phone (for the dispatcher's map)."""

    __tablename__ = "location_pings"
    __table_args__ = (Index("ix_location_pings_technician_recorded", "technician_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # phone clock, city time
    received_at: Mapped[datetime] = mapped_column(DateTime, default=now)
