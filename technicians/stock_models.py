"""The equipment in the vans: items, depots, each van's balance, the ledger of
moves and the serial numbers of modems and set-top boxes.

The ledger (``stock_moves``) is append-only and the truth: a van's balance of
an item is the sum of its signed moves. ``stock_balances`` keeps that sum per
technician and item for speed and for locking (every move changes it with one
conditional UPDATE that cannot go below zero, also enforced by a CHECK).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
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

# Ledger move kinds and the sign each puts on the van's balance.
MOVE_SIGNS = {"issue": 1, "use": -1, "return": -1, "write_off": -1}
MOVE_KINDS = tuple(MOVE_SIGNS)
# Where a serialised unit is.
SERIAL_STATUSES = ("in_van", "at_customer", "at_depot", "written_off")


class StockItem(Base):
    """A kind of equipment or material (the catalogue, from standards/rules/materials.toml)."""

    __tablename__ = "stock_items"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(10))
    serialised: Mapped[bool] = mapped_column(Boolean, default=False)
    van_max: Mapped[int] = mapped_column(Integer, default=0)


class Depot(Base):
    """A store where vans are stocked."""

    __tablename__ = "stock_depots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class StockBalance(Base):
    """How many of an item a technician's van holds: the sum of the ledger, kept."""

    __tablename__ = "stock_balances"
    __table_args__ = (CheckConstraint("quantity >= 0", name="ck_stock_balances_not_negative"),)

    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("stock_items.code"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class StockMove(Base):
    """One move in the ledger (never updated, never deleted). ``quantity`` is
    positive; its sign on the van follows ``kind`` (MOVE_SIGNS)."""

    __tablename__ = "stock_moves"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_stock_moves_positive"),
        Index("ix_stock_moves_technician_item", "technician_id", "item_code"),
        Index("ix_stock_moves_serial", "serial"),
        Index("ix_stock_moves_work_order", "work_order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    item_code: Mapped[str] = mapped_column(ForeignKey("stock_items.code"))
    kind: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    serial: Mapped[str | None] = mapped_column(String(60))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    depot_id: Mapped[int | None] = mapped_column(ForeignKey("stock_depots.id"))
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    @property
    def signed_quantity(self) -> int:
        return MOVE_SIGNS[self.kind] * self.quantity


class SerialUnit(Base):
    """One serialised unit (a modem, a router, a set-top box): where it is now,
    and at which order it was installed."""

    __tablename__ = "stock_serials"
    __table_args__ = (UniqueConstraint("item_code", "serial", name="uq_stock_serials_item_serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("stock_items.code"))
    serial: Mapped[str] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(12))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)
