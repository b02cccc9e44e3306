"""What the phone leaves behind: evidence photos, remembered answers for retries, GPS pings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class Photo(Base):
    """An evidence photo for one checklist item of one order.

    The file lives under PHOTO_DIR (outside the web root), named by the SHA-256
    of the stored bytes; it was re-encoded on upload so it carries no metadata.
    The EXIF capture time and GPS position it arrived with are kept here.
    """

    __tablename__ = "photos"
    __table_args__ = (UniqueConstraint("order_id", "item_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, unguessable id used in URLs.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(60))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    upload_sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(120))  # relative to PHOTO_DIR
    mime: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class IdempotencyRecord(Base):
    """The first answer to a request sent with an Idempotency-Key, replayed on retries.

    Written in the same transaction as the change it answers, so a change and
    its remembered answer are committed together or not at all.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict | list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)


class LocationPing(Base):
    """One GPS position reported by a technician's phone (for the dispatcher's map)."""

    __tablename__ = "location_pings"
    __table_args__ = (Index("ix_location_pings_technician_recorded",
                            "technician_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # phone clock, city time
    received_at: Mapped[datetime] = mapped_column(DateTime, default=now)
