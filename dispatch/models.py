"""Plans computed by the optimizer, waiting for a dispatcher to apply or discard them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class DispatchPlan(Base):
    __tablename__ = "dispatch_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    district: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default="day")  # day | urgent
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id"))
    # order id -> version seen when the problem was built; checked at apply time
    order_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    technician_ids: Mapped[list] = mapped_column(JSON, default=list)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    conflicts: Mapped[list | None] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    objective: Mapped[int | None] = mapped_column(Integer)


class BookingDay(Base):
    """One row per day appointments are booked on: booking locks it (FOR UPDATE),
    so two bookings on one day are priced one after the other (dispatch.booking)."""

    __tablename__ = "booking_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bookings: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
