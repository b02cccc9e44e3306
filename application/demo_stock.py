"""The demo city's equipment: a depot, each technician's van, and some history
in the ledger (a return, a write-off) so the van and ledger views have content."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from technicians import stock
from technicians.models import Technician

DEPOT = {"name": "合肥装维总仓", "lat": 31.836, "lon": 117.242}  # 蜀山区, near the city's west ring


def seed_stock(session: Session, actor: Actor, seed: int = 7) -> str:
    """Stock every technician's van from the depot (serials traceable), then a
    few returns and write-offs; a summary line."""
    rng = random.Random(seed + 2000)
    depot = stock.create_depot(session, actor, dict(DEPOT))
    techs = list(session.scalars(select(Technician).order_by(Technician.id)))
    moves = 0
    for tech in techs:
        lines = [
            stock.MoveRequest("adsl_modem", serials=_serials("AM", tech.id, rng.randint(2, 4))),
            stock.MoveRequest("lan_router", serials=_serials("LR", tech.id, rng.randint(2, 4))),
            stock.MoveRequest("stb", serials=_serials("TV", tech.id, rng.randint(2, 5))),
            stock.MoveRequest("cable_m", rng.choice([150, 200, 250])),
            stock.MoveRequest("rj45", rng.choice([40, 60, 80])),
        ]
        moves += len(stock.issue(session, actor, tech.id, lines, depot.id))
        if tech.id % 4 == 0:
            moves += len(
                stock.return_to_depot(session, actor, tech.id, [stock.MoveRequest("rj45", 10)], depot.id)
            )
        if tech.id % 7 == 0:
            lost = stock.MoveRequest("cable_m", 20)
            moves += len(stock.write_off(session, actor, tech.id, [lost], "线缆受潮报废"))
    return f"seeded the depot {DEPOT['name']} and {len(techs)} vans ({moves} ledger moves)"


def _serials(prefix: str, tech_id: int, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-{tech_id:03d}-{k + 1:02d}" for k in range(count))
