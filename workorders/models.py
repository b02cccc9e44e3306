"""Customers, their sites and line records, and work orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base
from workorders.lifecycle import State


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # residential | enterprise
    enterprise_tier: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(30))
    contact_name: Mapped[str | None] = mapped_column(String(80))
    # Where notifications go: email and/or SMS to ``phone``, in the customer's language.
    email: Mapped[str | None] = mapped_column(String(120))
    preferred_channel: Mapped[str] = mapped_column(String(10), default="sms", server_default="sms")
    language: Mapped[str] = mapped_column(String(10), default="zh", server_default="zh")
    # The company's account manager (a staff user), who looks after its logins and orders.
    # use_alter: users also point at customers (a customer user's company); the cycle is broken here.
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_customers_account_manager_id_users")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    sites: Mapped[list[Site]] = relationship(back_populates="customer")


class Site(Base):
    """An installation address with coordinates."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    address: Mapped[str] = mapped_column(String(255))
    district: Mapped[str | None] = mapped_column(String(40), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    customer: Mapped[Customer] = relationship(back_populates="sites")
    lines: Mapped[list[LineRecord]] = relationship(back_populates="site")


class LineRecord(Base):
    """The access line at a site, from the network resource system."""

    __tablename__ = "line_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    access_type: Mapped[str] = mapped_column(String(10))  # adsl | lan
    route_length_m: Mapped[float | None] = mapped_column(Float)
    switch_id: Mapped[str | None] = mapped_column(String(40))
    switch_model: Mapped[str | None] = mapped_column(String(60))
    switch_occupancy_pct: Mapped[float | None] = mapped_column(Float)
    uplink_raised: Mapped[bool] = mapped_column(Boolean, default=False)
    # The circuit as the customer knows it: its number on the contract and the product on it.
    circuit_no: Mapped[str | None] = mapped_column(String(40), index=True)
    product: Mapped[str | None] = mapped_column(String(40))

    site: Mapped[Site] = relationship(back_populates="lines")


class WorkOrder(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # install | repair | follow_up
    product: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(2))  # P1 | P2 | P3
    source: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    # When the customer reached us (every deadline counts from it); may precede created_at.
    received_at: Mapped[datetime] = mapped_column(DateTime, index=True, default=now)
    # A reported fault: since when, and whom to call on site.
    fault_since: Mapped[datetime | None] = mapped_column(DateTime)
    site_contact_name: Mapped[str | None] = mapped_column(String(80))
    site_contact_phone: Mapped[str | None] = mapped_column(String(30))
    # A repair opened because a follow-up found the earlier job did not hold.
    is_repeat_fault: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    state: Mapped[str] = mapped_column(String(20), index=True, default=State.RECEIVED)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("line_records.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)

    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"), index=True)
    # A two-technician job (crew_size 2): technician_id is the lead, whose statuses drive the
    # lifecycle; second_technician_id works the same visit at the same start (migration a17d00000001).
    crew_size: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    second_technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"), index=True)

    appointment_start: Mapped[datetime | None] = mapped_column(DateTime)
    appointment_end: Mapped[datetime | None] = mapped_column(DateTime)
    planned_start: Mapped[datetime | None] = mapped_column(DateTime)
    planned_sequence: Mapped[int | None] = mapped_column(Integer)
    response_deadline: Mapped[datetime] = mapped_column(DateTime)
    restore_deadline: Mapped[datetime] = mapped_column(DateTime)
    deadline_source: Mapped[str | None] = mapped_column(String(40))
    # standards.SlaClock.to_dict(): customer-caused pauses extend restore_deadline
    sla_clock: Mapped[dict | None] = mapped_column(JSON)

    required_skills: Mapped[list] = mapped_column(JSON, default=list)
    duration_min: Mapped[int] = mapped_column(Integer, default=60)
    rule_set_version: Mapped[str | None] = mapped_column(String(20))
    findings: Mapped[list] = mapped_column(JSON, default=list)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)
    closeout_findings: Mapped[list] = mapped_column(JSON, default=list)
    override: Mapped[dict | None] = mapped_column(JSON)

    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Complaints: response_deadline is the 24 h answer, restore_deadline the final answer
    # (3 working days); the 72 h first handling has its own deadline and time.
    handling_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    state_reason: Mapped[str | None] = mapped_column(Text)
    # Durations in seconds for the managers' reports, written by the database itself (a
    # trigger of migration a15a00000001) whenever the times they come from change; never set
    # here. Response: received to responded; on site: arrived to completed; elapsed without
    # pauses: received to completed, customer-caused pauses of the restore clock taken out.
    response_s: Mapped[float | None] = mapped_column(Float)
    on_site_s: Mapped[float | None] = mapped_column(Float)
    elapsed_without_pauses_s: Mapped[float | None] = mapped_column(Float)
    # A completed repair followed within 30 days by another repair at its site or on its line
    # (the reports' repeat faults), kept by the database (migration a15b00000001); never set here.
    repeat_within_30d: Mapped[bool] = mapped_column(Boolean, server_default=sa_false())

    followup_method: Mapped[str | None] = mapped_column(String(10))  # phone | visit
    followup_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    followup_note: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now, onupdate=now)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped[Customer] = relationship()
    site: Mapped[Site] = relationship()
    line: Mapped[LineRecord | None] = relationship()
    technician = relationship("Technician", foreign_keys=[technician_id])
    second_technician = relationship("Technician", foreign_keys=[second_technician_id])
    owner = relationship("User", foreign_keys=[owner_id])
    parent: Mapped[WorkOrder | None] = relationship(remote_side=[id])


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


class OrderComment(Base):
    """A comment on an order, between the customer and the staff who handle it (audited too)."""

    __tablename__ = "order_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class FollowUp(Base):
    """A follow-up (回访) task: a call or visit after an install, repair or complaint, or a
    periodic visit to a key enterprise customer (no order then)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    reason: Mapped[str] = mapped_column(String(20))  # install | repair | complaint | periodic
    method: Mapped[str] = mapped_column(String(10))  # phone | visit
    due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    state: Mapped[str] = mapped_column(String(12), index=True, default="open")  # open | done | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    reached: Mapped[bool | None] = mapped_column(Boolean)
    service_working: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    repeat_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    customer: Mapped[Customer] = relationship()
    order: Mapped[WorkOrder | None] = relationship(foreign_keys=[order_id])
    repeat_order: Mapped[WorkOrder | None] = relationship(foreign_keys=[repeat_order_id])


class Notification(Base):
    """An outbox row: a message to a customer, written in the same transaction as the
    change it tells of, delivered by a job. ``dedupe_key`` keeps one change from queueing
    the same message twice; the row's id is the message id the channel sees, so a resend
    after a crash is recognised and not delivered twice."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # email | sms
    recipient: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), index=True, default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
