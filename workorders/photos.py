"""Evidence photos of an order: add one from the site, list them, read one with access checked.

The image itself is checked and cleaned by :mod:`workorders.evidence` (pure
Pillow and files); this module keeps the record and the audit trail.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import standards
from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, NotFound, refuse
from workorders import evidence
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import Photo, WorkOrder

# Photos are taken on site.
PHOTO_STATES = frozenset({State.ON_SITE})
PHOTO_NOT_FOUND = N_("Photo %(photo_id)s not found.")


def photo_view(photo: Photo, url_prefix: str = "/mobile/v1") -> dict[str, Any]:
    """A photo's record as the API shows it, with the URL it is read from."""
    return {
        "id": photo.public_id,
        "order_id": photo.order_id,
        "item_id": photo.item_id,
        "sha256": photo.sha256,
        "mime": photo.mime,
        "width": photo.width,
        "height": photo.height,
        "size_bytes": photo.size_bytes,
        "taken_at": photo.taken_at,
        "gps_lat": photo.gps_lat,
        "gps_lon": photo.gps_lon,
        "created_at": photo.created_at,
        "url": f"{url_prefix}/photos/{photo.public_id}",
    }


def add_photo(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    item_id: str,
    raw: bytes,
    declared_type: str | None,
    photo_dir: str,
) -> tuple[Photo, bool]:
    """Verify, clean and store an evidence photo for a checklist item.

    Returns the photo and whether it is new: the same picture for the same item
    is stored once.
    """
    if order.state not in PHOTO_STATES:
        raise refuse(Conflict, N_("Photos are taken on site."), slug="not-on-site", current_state=order.state)
    item_ids = {item.id for item in standards.checklist_for(order.kind, order.product)}
    if item_id not in item_ids:
        not_an_item = N_("Not an item of this order's checklist.")
        raise refuse(
            Invalid,
            not_an_item,
            errors={"item_id": [not_an_item]},
            checklist_items=sorted(item_ids),
        )
    clean = evidence.inspect_and_clean(raw, declared_type)
    existing = session.scalar(
        select(Photo).where(
            Photo.order_id == order.id, Photo.item_id == item_id, Photo.sha256 == clean.sha256
        )
    )
    if existing is not None:
        return existing, False
    return keep(session, actor, order, item_id, clean, photo_dir), True


def list_photos(session: Session, order: WorkOrder) -> list[Photo]:
    """An order's photos, oldest first."""
    return list(
        session.scalars(select(Photo).where(Photo.order_id == order.id).order_by(Photo.created_at, Photo.id))
    )


def photo_for(session: Session, actor: Actor, public_id: str) -> Photo:
    """A photo of an order the actor may see; 404 otherwise. Staff reads are audited."""
    photo = session.scalar(select(Photo).where(Photo.public_id == public_id))
    if photo is None:
        raise NotFound(PHOTO_NOT_FOUND, params={"photo_id": public_id})
    try:
        wo_service.get_order_for(session, actor, photo.order_id)
    except NotFound:
        raise NotFound(PHOTO_NOT_FOUND, params={"photo_id": public_id}) from None
    if actor.is_staff:
        audit.record(
            session, actor, "read_photo", "work_order", photo.order_id, after={"photo_id": photo.public_id}
        )
    return photo


def keep(
    session: Session, actor: Actor, order: WorkOrder, item_id: str, clean: evidence.CleanPhoto, photo_dir: str
) -> Photo:
    """Store a checked and cleaned image as the order's photo for ``item_id``, with its audit event."""
    relative = evidence.store(photo_dir, clean)
    photo = Photo(
        public_id=secrets.token_hex(16),
        order_id=order.id,
        item_id=item_id,
        sha256=clean.sha256,
        upload_sha256=clean.upload_sha256,
        stored_path=relative,
        mime=clean.mime,
        width=clean.width,
        height=clean.height,
        size_bytes=len(clean.data),
        taken_at=clean.taken_at,
        gps_lat=clean.gps_lat,
        gps_lon=clean.gps_lon,
        uploaded_by=actor.user_id,
        created_at=now(),
    )
    session.add(photo)
    session.flush()
    audit.record(
        session,
        actor,
        "photo_added",
        "work_order",
        order.id,
        after={
            "photo_id": photo.public_id,
            "item_id": item_id,
            "sha256": clean.sha256,
            "taken_at": clean.taken_at,
            "gps": [clean.gps_lat, clean.gps_lon] if clean.gps_lat is not None else None,
        },
    )
    return photo
