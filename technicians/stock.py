"""The equipment in the vans: issue from a depot, use at a customer's order,
return, write off; each van's balance, the ledger and where a serial is.

Every move is one row of the append-only ledger (``StockMove``) and one
conditional UPDATE of the van's balance row: a move that takes items out
changes the row only while it still holds enough (``quantity >= wanted``), so
two close-outs racing for the last set-top box cannot both have it (on
PostgreSQL the second UPDATE waits for the first and re-reads the row). A
serialised unit moves the same way, only from the state it must be in.
A refused move is a 409 (not enough, not in this van) or a 422 (bad input).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, NotFound, refuse
from standards.materials import load_materials
from technicians.service import get_technician
from technicians.stock_models import (
    MOVE_SIGNS,
    Depot,
    SerialUnit,
    StockBalance,
    StockItem,
    StockMove,
)

# Where a serialised unit must be for each move, and where it goes.
SERIAL_FROM = {"issue": ("at_depot",), "use": ("in_van",), "return": ("in_van",), "write_off": ("in_van",)}
SERIAL_TO = {"issue": "in_van", "use": "at_customer", "return": "at_depot", "write_off": "written_off"}


@dataclass(frozen=True)
class MoveRequest:
    """One line of a move: an item, how many, and the serials of a serialised item."""

    item: str
    quantity: int | None = None
    serials: tuple[str, ...] = ()


# ---------------------------------------------------------------- catalogue and depots


def sync_catalogue(session: Session) -> list[StockItem]:
    """Bring the items table in line with standards/rules/materials.toml (add, rename)."""
    materials = load_materials()
    for code, spec in materials.items.items():
        fields = {
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "unit": spec.unit,
            "serialised": spec.serialised,
            "van_max": spec.van_max,
        }
        item = session.get(StockItem, code)
        if item is not None:
            for name, value in fields.items():
                setattr(item, name, value)
            continue
        try:
            with session.begin_nested():
                session.add(StockItem(code=code, **fields))
        except IntegrityError:
            pass  # added meanwhile by a concurrent request
    session.flush()
    return list(session.scalars(select(StockItem).order_by(StockItem.code)))


def list_items(session: Session) -> list[StockItem]:
    """The items catalogue, by code (filled from the rule file on first use)."""
    items = list(session.scalars(select(StockItem).order_by(StockItem.code)))
    if not items and load_materials().items:
        return sync_catalogue(session)
    return items


def get_item(session: Session, code: str) -> StockItem:
    """One catalogue item, or 422 naming the field (an unknown code is bad input).
    An item the rule file has gained since the table was filled is added."""
    item = session.get(StockItem, code)
    if item is None and code in load_materials().items:
        sync_catalogue(session)
        item = session.get(StockItem, code)
    if item is None:
        raise refuse(
            Invalid,
            N_("Unknown item %(item)s."),
            params={"item": code},
            errors={"item": [N_("Not an item of the catalogue.")]},
        )
    return item


def create_depot(session: Session, actor: Actor, data: dict) -> Depot:
    """Register a depot (a store vans are stocked from)."""
    if session.scalar(select(Depot.id).where(Depot.name == data["name"])) is not None:
        raise refuse(Conflict, N_("A depot named %(name)s exists already."), params={"name": data["name"]})
    depot = Depot(**data)
    session.add(depot)
    session.flush()
    audit.record(session, actor, "depot_created", "depot", depot.id, after=dict(data))
    return depot


def list_depots(session: Session) -> list[Depot]:
    """Every depot, by id."""
    return list(session.scalars(select(Depot).order_by(Depot.id)))


def get_depot(session: Session, depot_id: int) -> Depot:
    """One depot or 404."""
    depot = session.get(Depot, depot_id)
    if depot is None:
        raise refuse(NotFound, N_("Depot %(depot_id)s not found."), params={"depot_id": depot_id})
    return depot


# ---------------------------------------------------------------- moves


def issue(
    session: Session,
    actor: Actor,
    technician_id: int,
    lines: Iterable[MoveRequest],
    depot_id: int | None = None,
) -> list[StockMove]:
    """Load a van from a depot (new serials are registered as they are issued)."""
    if depot_id is not None:
        get_depot(session, depot_id)
    return _moves(session, actor, technician_id, "issue", lines, depot_id=depot_id)


def return_to_depot(
    session: Session,
    actor: Actor,
    technician_id: int,
    lines: Iterable[MoveRequest],
    depot_id: int | None = None,
) -> list[StockMove]:
    """Take items out of a van back to a depot."""
    if depot_id is not None:
        get_depot(session, depot_id)
    return _moves(session, actor, technician_id, "return", lines, depot_id=depot_id)


def write_off(
    session: Session, actor: Actor, technician_id: int, lines: Iterable[MoveRequest], reason: str
) -> list[StockMove]:
    """Items lost or broken in a van: out of the stock, with the reason."""
    return _moves(session, actor, technician_id, "write_off", lines, reason=reason)


def use_at_order(
    session: Session, actor: Actor, technician_id: int, work_order_id: int, lines: Iterable[MoveRequest]
) -> list[StockMove]:
    """Items a technician used at a customer's order (close-out): out of their van;
    a serial must be in that van and is then traced to the order."""
    return _moves(session, actor, technician_id, "use", lines, work_order_id=work_order_id)


def _moves(
    session: Session, actor: Actor, technician_id: int, kind: str, lines: Iterable[MoveRequest], **fields
) -> list[StockMove]:
    get_technician(session, technician_id)
    moves: list[StockMove] = []
    for line in _merged(list(lines)):
        item = get_item(session, line.item)
        quantity = _checked_quantity(item, line)
        balance = _apply_to_balance(session, technician_id, item, kind, quantity)
        if item.serialised:
            for k, serial in enumerate(line.serials):
                _move_serial(session, technician_id, item, kind, serial, fields.get("work_order_id"))
                after = balance - MOVE_SIGNS[kind] * (quantity - k - 1)
                moves.append(_ledger_row(session, actor, technician_id, item, kind, 1, after, serial, fields))
        else:
            moves.append(
                _ledger_row(session, actor, technician_id, item, kind, quantity, balance, None, fields)
            )
    session.flush()
    audit.record(
        session,
        actor,
        f"stock_{kind}",
        "technician",
        technician_id,
        after={
            "moves": [
                {
                    "item": m.item_code,
                    "quantity": m.quantity,
                    "serial": m.serial,
                    "balance_after": m.balance_after,
                }
                for m in moves
            ],
            **{k: v for k, v in fields.items() if v is not None},
        },
    )
    return moves


def _merged(lines: list[MoveRequest]) -> list[MoveRequest]:
    """One line per item (quantities and serials added up), in first-seen order."""
    if not lines:
        raise refuse(
            Invalid, N_("Name at least one item."), errors={"lines": [N_("Name at least one item.")]}
        )
    merged: dict[str, MoveRequest] = {}
    for line in lines:
        prior = merged.get(line.item)
        if prior is None:
            merged[line.item] = line
            continue
        quantity = (
            None
            if prior.quantity is None and line.quantity is None
            else ((prior.quantity or len(prior.serials)) + (line.quantity or len(line.serials)))
        )
        merged[line.item] = MoveRequest(line.item, quantity, prior.serials + line.serials)
    return list(merged.values())


def _checked_quantity(item: StockItem, line: MoveRequest) -> int:
    serials = [s.strip() for s in line.serials]
    if item.serialised:
        if not serials or any(not s for s in serials):
            raise refuse(
                Invalid,
                N_("Item %(item)s is serialised: give the serial number of each unit."),
                params={"item": item.code},
                errors={"serials": [N_("Give the serial number of each unit.")]},
            )
        if len(set(serials)) != len(serials):
            raise refuse(
                Invalid,
                N_("A serial number is given twice."),
                errors={"serials": [N_("A serial number is given twice.")]},
            )
        if line.quantity is not None and line.quantity != len(serials):
            raise refuse(
                Invalid,
                N_("%(quantity)s units of %(item)s but %(serials)s serial numbers."),
                params={"quantity": line.quantity, "item": item.code, "serials": len(serials)},
                errors={"quantity": [N_("Give one serial number per unit.")]},
            )
        return len(serials)
    if serials:
        raise refuse(
            Invalid,
            N_("Item %(item)s has no serial numbers."),
            params={"item": item.code},
            errors={"serials": [N_("This item has no serial numbers.")]},
        )
    if line.quantity is None or line.quantity <= 0:
        raise refuse(
            Invalid,
            N_("Give a quantity above zero."),
            errors={"quantity": [N_("Give a quantity above zero.")]},
        )
    return line.quantity


def _apply_to_balance(session: Session, technician_id: int, item: StockItem, kind: str, quantity: int) -> int:
    """Change the van's balance row by the move; its balance after. Taking out
    more than the van holds is refused (409) and changes nothing."""
    key = (StockBalance.technician_id == technician_id) & (StockBalance.item_code == item.code)
    if MOVE_SIGNS[kind] > 0:
        added = _conditional_update(session, key, StockBalance.quantity + quantity)
        if added is not None:
            return added
        try:
            with session.begin_nested():
                session.add(StockBalance(technician_id=technician_id, item_code=item.code, quantity=quantity))
            return quantity
        except IntegrityError:  # created meanwhile by a concurrent issue: add to it
            added = _conditional_update(session, key, StockBalance.quantity + quantity)
            assert added is not None
            return added
    taken = _conditional_update(
        session, key & (StockBalance.quantity >= quantity), StockBalance.quantity - quantity
    )
    if taken is None:
        held = session.scalar(select(StockBalance.quantity).where(key)) or 0
        raise refuse(
            Conflict,
            N_("The van holds %(held)s of %(item)s: %(wanted)s cannot be taken out."),
            slug="not-enough-stock",
            params={"held": held, "item": item.code, "wanted": quantity},
            item=item.code,
            held=held,
            wanted=quantity,
        )
    return taken


def _conditional_update(session: Session, where, value) -> int | None:  # noqa: ANN001 - SQL expressions
    result = session.execute(
        update(StockBalance)
        .where(where)
        .values(quantity=value, updated_at=now())
        .returning(StockBalance.quantity)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    return None if row is None else int(row[0])


def _move_serial(
    session: Session, technician_id: int, item: StockItem, kind: str, serial: str, work_order_id: int | None
) -> None:
    """Move one serialised unit from the state the move needs (409 otherwise)."""
    values: dict = {"status": SERIAL_TO[kind], "updated_at": now()}
    where = (SerialUnit.item_code == item.code) & (SerialUnit.serial == serial)
    where &= SerialUnit.status.in_(SERIAL_FROM[kind])
    if kind == "use":
        values["work_order_id"] = work_order_id
    if kind == "issue":
        values["technician_id"], values["work_order_id"] = technician_id, None
    else:
        where &= SerialUnit.technician_id == technician_id
    moved = session.execute(
        update(SerialUnit).where(where).values(**values).execution_options(synchronize_session=False)
    ).rowcount
    if moved == 1:
        return
    if kind == "issue" and not _serial_exists(session, item.code, serial):
        try:
            with session.begin_nested():
                session.add(
                    SerialUnit(
                        item_code=item.code, serial=serial, technician_id=technician_id, status="in_van"
                    )
                )
            return
        except IntegrityError:
            pass  # registered meanwhile by a concurrent issue: it is not at the depot
    message = (
        N_("Serial %(serial)s of %(item)s is not at a depot: it cannot be issued.")
        if kind == "issue"
        else N_("Serial %(serial)s of %(item)s is not in this technician's van.")
    )
    raise refuse(
        Conflict, message, slug="serial-not-here", params={"serial": serial, "item": item.code}, serial=serial
    )


def _serial_exists(session: Session, item_code: str, serial: str) -> bool:
    found = session.scalar(
        select(SerialUnit.id).where(SerialUnit.item_code == item_code, SerialUnit.serial == serial)
    )
    return found is not None


def _ledger_row(
    session: Session,
    actor: Actor,
    technician_id: int,
    item: StockItem,
    kind: str,
    quantity: int,
    balance_after: int,
    serial: str | None,
    fields: dict,
) -> StockMove:
    move = StockMove(
        technician_id=technician_id,
        item_code=item.code,
        kind=kind,
        quantity=quantity,
        balance_after=balance_after,
        serial=serial,
        work_order_id=fields.get("work_order_id"),
        depot_id=fields.get("depot_id"),
        reason=fields.get("reason"),
        created_by=actor.user_id,
        created_at=now(),
    )
    session.add(move)
    return move


# ---------------------------------------------------------------- reading


def van_balances(session: Session, technician_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    """Technician id -> item code -> quantity in the van (the kept balance rows)."""
    stmt = select(StockBalance.technician_id, StockBalance.item_code, StockBalance.quantity)
    if technician_ids is not None:
        stmt = stmt.where(StockBalance.technician_id.in_(list(technician_ids)))
    out: dict[int, dict[str, int]] = {}
    for tech_id, code, quantity in session.execute(stmt):
        out.setdefault(tech_id, {})[code] = quantity
    return out


def van(session: Session, technician_id: int) -> dict:
    """A technician's van: each item held, with the serials of serialised ones."""
    get_technician(session, technician_id)
    held = van_balances(session, [technician_id]).get(technician_id, {})
    serials: dict[str, list[str]] = {}
    for unit in session.scalars(
        select(SerialUnit)
        .where(SerialUnit.technician_id == technician_id, SerialUnit.status == "in_van")
        .order_by(SerialUnit.item_code, SerialUnit.serial)
    ):
        serials.setdefault(unit.item_code, []).append(unit.serial)
    items = []
    for item in list_items(session):
        if held.get(item.code) or item.code in serials:
            items.append(
                {
                    "item": item.code,
                    "name_zh": item.name_zh,
                    "name_en": item.name_en,
                    "unit": item.unit,
                    "serialised": item.serialised,
                    "quantity": held.get(item.code, 0),
                    "serials": serials.get(item.code, []),
                }
            )
    return {"technician_id": technician_id, "items": items}


def ledger(
    session: Session,
    technician_id: int | None = None,
    item: str | None = None,
    serial: str | None = None,
    work_order_id: int | None = None,
    limit: int = 200,
) -> list[StockMove]:
    """Ledger moves, newest first, filtered by technician, item, serial or order."""
    stmt = select(StockMove).order_by(StockMove.id.desc()).limit(limit)
    if technician_id is not None:
        stmt = stmt.where(StockMove.technician_id == technician_id)
    if item:
        stmt = stmt.where(StockMove.item_code == item)
    if serial:
        stmt = stmt.where(StockMove.serial == serial)
    if work_order_id is not None:
        stmt = stmt.where(StockMove.work_order_id == work_order_id)
    return list(session.scalars(stmt))


def ledger_sums(session: Session) -> dict[tuple[int, str], int]:
    """(technician, item) -> the ledger's signed sum (what each balance must equal)."""
    sign = case((StockMove.kind == "issue", 1), else_=-1)
    stmt = select(StockMove.technician_id, StockMove.item_code, func.sum(sign * StockMove.quantity)).group_by(
        StockMove.technician_id, StockMove.item_code
    )
    return {(tech_id, code): int(total) for tech_id, code, total in session.execute(stmt)}


def serial_units(session: Session, serial: str) -> list[SerialUnit]:
    """Every unit with this serial number (one per item at most)."""
    return list(
        session.scalars(select(SerialUnit).where(SerialUnit.serial == serial).order_by(SerialUnit.item_code))
    )
